"""No function of the gateway is more complex than ``MAX_COMPLEXITY``.

Ruff's C901 (mccabe) measures each function on its own, so a method that hides its
branches in nested closures passes it. Radon's scale counts a function together with
the closures inside it, so this test reads every module of ``gateway/`` with it and
names each function or method over the limit.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"

# The same limit as ruff's ``max-complexity`` in pyproject.toml.
MAX_COMPLEXITY = 15


def _over_the_limit(path: Path) -> list[str]:
    """Each function and method of ``path`` over the limit, closures counted in.

    Radon lists functions and methods (not closures) among its blocks, next to the
    classes, whose figure is a sum over their methods and not checked here.
    """
    return [
        f"{path.relative_to(GATEWAY.parent)}:{block.lineno} {block.fullname} {block.complexity}"
        for block in cc_visit(path.read_text())
        if isinstance(block, Function) and block.complexity > MAX_COMPLEXITY
    ]


def test_no_function_is_over_the_complexity_limit() -> None:
    modules = sorted(GATEWAY.rglob("*.py"))
    assert len(modules) > 100
    over = [line for path in modules for line in _over_the_limit(path)]
    assert over == [], "\n".join(over)
