"""The layout's rules, checked: vendors reach the core only through the registry,
strawberry only through each vendor's GraphQL module, and no GraphQL enum carries
a vendor's wire name (each vendor maps its own, inside its folder)."""

from __future__ import annotations

import ast
from pathlib import Path

from graphql import GraphQLEnumType

from gateway.api.schema import schema
from gateway.registry import VENDOR_PACKAGES

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"
VENDORS = GATEWAY / "vendors"


def _imports(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (relative imports stay in their folder)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_graphql_enum_value_is_its_own_name() -> None:
    enums = [
        t
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLEnumType) and not name.startswith("__")
    ]
    assert len(enums) > 10
    wire = {
        f"{t.name}.{name}": value.value
        for t in enums
        for name, value in t.values.items()
        if value.value != name
    }
    assert wire == {}


def test_the_core_imports_no_vendor_module() -> None:
    core = [p for p in GATEWAY.rglob("*.py") if VENDORS not in p.parents]
    assert len(core) > 20
    reaching = {
        str(path.relative_to(GATEWAY)): sorted(n for n in _imports(path) if "gateway.vendors" in n)
        for path in core
    }
    assert {path: names for path, names in reaching.items() if names} == {}


def test_only_graphql_modules_import_strawberry() -> None:
    vendor_modules = list(VENDORS.rglob("*.py"))
    assert len(vendor_modules) > 40
    importing = [
        str(path.relative_to(VENDORS))
        for path in vendor_modules
        if any(name.split(".")[0] == "strawberry" for name in _imports(path))
    ]
    assert importing
    # <vendor>/graphql.py or a module of <vendor>/graphql/
    assert [p for p in importing if Path(p).parts[1] not in ("graphql.py", "graphql")] == []


def test_a_vendor_package_reaches_only_the_core_and_itself() -> None:
    for package in VENDOR_PACKAGES:
        folder = GATEWAY.parent.joinpath(*package.split("."))
        for path in folder.rglob("*.py"):
            others = [
                name
                for name in _imports(path)
                if name.startswith("gateway.vendors.") and not name.startswith(package)
            ]
            assert others == [], path
