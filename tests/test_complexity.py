"""No function of the gateway is more complex than ``MAX_COMPLEXITY``.

Ruff's C901 (mccabe, ``max-complexity`` in pyproject.toml) counts a function's
branches and loops, nested functions included, but not boolean operators or the
loops and conditions of comprehensions. Radon's scale counts those too, measuring
each nested function on its own, so this test reads every module of ``gateway/`` with
it and names each function, method or nested function over the same limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"

# The same limit as ruff's ``max-complexity`` in pyproject.toml.
MAX_COMPLEXITY = 15


def _with_nested(function: Function, name: str) -> Iterator[tuple[str, Function]]:
    yield name, function
    for closure in function.closures:
        yield from _with_nested(closure, f"{name}.{closure.name}")


def _over_the_limit(path: Path) -> list[str]:
    """Each function, method and nested function of ``path`` over the limit.

    Radon lists functions and methods among its blocks, next to the classes (whose
    figure sums their methods' and is not checked here); nested ones hang off them.
    """
    return [
        f"{path.relative_to(GATEWAY.parent)}:{function.lineno} {name} {function.complexity}"
        for block in cc_visit(path.read_text())
        if isinstance(block, Function)
        for name, function in _with_nested(block, block.fullname)
        if function.complexity > MAX_COMPLEXITY
    ]


def test_no_function_is_over_the_complexity_limit() -> None:
    modules = sorted(GATEWAY.rglob("*.py"))
    assert len(modules) > 100
    over = [line for path in modules for line in _over_the_limit(path)]
    assert over == [], "\n".join(over)
