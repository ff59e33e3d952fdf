"""The layout's rules, checked.

The layers, top to bottom, are declared once (``LAYERS``, and ``VENDOR_ORDER`` inside
each vendor package): a module imports only its own layer or the ones below it, and
nothing imports in a circle. The graph is grimp's (import-linter's engine), which sees
imports inside functions and under ``TYPE_CHECKING`` as well as at module level; the
registry's ``import_module`` of each vendor package is added to it by hand. Vendors
reach the core only through the registry, strawberry only through each vendor's
GraphQL module, and no GraphQL enum carries a vendor's wire name.
"""

from __future__ import annotations

import ast
import fnmatch
from functools import cache
from pathlib import Path

import grimp
from graphql import GraphQLEnumType

from gateway.api.schema import build_schema
from gateway.registry import VENDOR_PACKAGES

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"
VENDORS = GATEWAY / "vendors"
VENDOR_NAMES = ("invoiced", "zoho", "readydesk", "fakturoid")

# Top to bottom. ``*`` stands for one vendor; a module belongs to the most specific
# entry naming it or one of its packages. One entry may name several packages.
LAYERS: list[tuple[str, ...]] = [
    ("gateway.cli",),
    ("gateway.http",),  # server, app, CORS, guard, media types, APQ, explorer, readyz, gate
    ("gateway.auth",),  # client authentication (keys, JWTs) and client budgets
    ("gateway.api.schema",),  # the schema assembled from every plugin
    ("gateway.config",),  # Settings: the gateway's section and every plugin's
    ("gateway.registry",),  # one line per vendor package
    ("gateway.vendors.*",),  # each vendor's PLUGIN (its package __init__)
    ("gateway.vendors.*.sandbox",),  # its emulator
    ("gateway.vendors.*.graphql",),  # its types and root fields
    ("gateway.vendors.*.loaders",),  # its per-request dataloaders
    ("gateway.api",),  # the shared GraphQL fields, relay, limits, cost, context
    ("gateway.adapters",),  # the process-wide adapters, built from the plugins
    ("gateway.vendors",),  # the vendor packages served, and their Vendor constants
    ("gateway.vendors.*.*",),  # each vendor's adapter: client, wire, models, settings, vendor
    ("gateway.plugin",),  # what a vendor package gives the core
    ("gateway.upstream", "gateway.observability"),  # the upstream seam and its telemetry
    ("gateway.state",),  # what requests and processes share: storage, replays, snapshots
    ("gateway.core",),  # errors, ids, types, settings, rate limits, principal, work merge
]

# Inside each vendor package, top to bottom: the same names in every vendor, and the
# vendor's own helpers (above its models, or below them) where it has them.
_HELPERS: dict[str, tuple[list[str], list[str]]] = {
    "invoiced": (["webhooks"], []),
    "zoho": (["webhooks", "auth", "wire"], []),
    "readydesk": (["count", "ordering", "scan", "query", "rows"], ["wire"]),
    "fakturoid": (["seen", "auth", "status", "paging"], []),
}
VENDOR_ORDER: dict[str, list[str]] = {
    vendor: [
        "",
        "sandbox",
        "graphql",
        "loaders",
        "changes",  # its delta read for the change poller, over the adapter
        "client",
        *above,
        "models",
        *below,
        "settings",
        "vendor",
    ]
    for vendor, (above, below) in _HELPERS.items()
}


@cache
def _graph() -> grimp.ImportGraph:
    graph = grimp.build_graph("gateway", cache_dir=None, exclude_type_checking_imports=False)
    # Imported by name (importlib): the registry loads each vendor package's PLUGIN, and
    # gateway.vendors reads each one's Vendor constant.
    for package in VENDOR_PACKAGES:
        graph.add_import(importer="gateway.registry", imported=package)
        graph.add_import(importer="gateway.vendors", imported=f"{package}.vendor")
    return graph


def _matches(module: str, pattern: str) -> bool:
    depth = pattern.count(".") + 1
    return fnmatch.fnmatchcase(".".join(module.split(".")[:depth]), pattern)


def _layer_of(module: str) -> int:
    """Index in LAYERS of the most specific entry naming ``module`` or a package of it."""
    best: tuple[int, int, int] | None = None
    for index, entry in enumerate(LAYERS):
        for pattern in entry:
            if _matches(module, pattern):
                rank = (pattern.count("."), -pattern.count("*"), index)
                best = max(best, rank) if best else rank
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[2]


def _vendor_rank(module: str) -> tuple[str, int] | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["gateway", "vendors"]:
        return None
    vendor, inner = parts[2], (parts[3] if len(parts) > 3 else "")
    order = VENDOR_ORDER[vendor]
    assert inner in order, f"{module} is not in VENDOR_ORDER[{vendor!r}]"
    return vendor, order.index(inner)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def _a_cycle_through(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    start = component[0]
    for imported in graph.find_modules_directly_imported_by(start):
        if imported in component:
            chain = graph.find_shortest_chain(importer=imported, imported=start)
            if chain:
                return [start, *chain]
    return component


def _upward(graph: grimp.ImportGraph) -> list[tuple[str, str, str]]:
    """(importer, imported, why) for every import of a higher layer."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            below, above = _layer_of(importer), _layer_of(imported)
            if above < below:
                why = f"layer {' | '.join(LAYERS[below])} imports layer {' | '.join(LAYERS[above])}"
                found.append((importer, imported, why))
            mine, theirs = _vendor_rank(importer), _vendor_rank(imported)
            if mine and theirs and mine[0] == theirs[0] and theirs[1] < mine[1]:
                found.append((importer, imported, "above it in VENDOR_ORDER"))
    return found


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = [" -> ".join(_a_cycle_through(graph, c)) for c in _cycles(graph)]
    assert cycles == [], "\n".join(cycles)


def test_no_module_imports_a_higher_layer() -> None:
    graph = _graph()
    assert len(graph.modules) > 100
    chains = []
    for importer, imported, why in _upward(graph):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = "; ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
        chains.append(f"{importer} -> {imported} ({why})\n    {where}")
    assert chains == [], "\n".join(chains)


def test_the_core_names_no_vendor() -> None:
    graph = _graph()
    core = [
        m for m in graph.modules if not m.startswith("gateway.vendors") and m != "gateway.registry"
    ]
    reaching = {
        importer: sorted(
            imported
            for imported in graph.find_modules_directly_imported_by(importer)
            if any(name in imported.split(".") for name in VENDOR_NAMES)
        )
        for importer in core
    }
    assert {m: names for m, names in reaching.items() if names} == {}


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
        for name, t in build_schema()._schema.type_map.items()
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


def _a_vendor_module(name: str) -> bool:
    """A module (or name) inside one vendor's folder; ``gateway.vendors`` itself is not."""
    parts = name.split(".")
    return parts[:2] == ["gateway", "vendors"] and len(parts) > 2 and (VENDORS / parts[2]).is_dir()


def test_the_core_imports_no_vendor_module() -> None:
    core = [p for p in GATEWAY.rglob("*.py") if VENDORS not in p.parents]
    assert len(core) > 20
    reaching = {
        str(path.relative_to(GATEWAY)): sorted(n for n in _imports(path) if _a_vendor_module(n))
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
