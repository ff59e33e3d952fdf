"""What the current task's vendor reads may be answered from, and where their age is
noted: a read that decides a write, or that a client asked to be fresh, goes to the
vendor; every read notes how old its answer is for the response's freshness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gateway.core.types import Vendor
from gateway.observability.scope import RequestState, current_request

# Set while a read decides a write (is the todo open? which tasks exist?): such a
# read goes to the vendor, never to an entry that may predate a change made
# outside the gateway, or the write would be decided on a stale state. A context
# variable, not a field of the request's state: it holds for one write's task only,
# while the same request's other resolvers may read through the cache concurrently.
deciding_a_write: ContextVar[bool] = ContextVar("deciding_a_write", default=False)

# What a client sends to have its operation's vendor reads made fresh.
_FRESH_DIRECTIVES = ("no-cache", "no-store", "max-age=0")


@contextmanager
def vendor_state() -> Iterator[None]:
    """Reads inside go to the vendor itself (their answers refresh the cache)."""
    token = deciding_a_write.set(True)
    try:
        yield
    finally:
        deciding_a_write.reset(token)


def client_wants_fresh(state: RequestState) -> bool:
    control = state.headers.get("cache-control")
    if not control:
        return False
    directives = {part.strip().lower() for part in control.split(",")}
    return any(directive in directives for directive in _FRESH_DIRECTIVES)


def may_answer_from_kept() -> bool:
    """Whether a read of the current task may be answered from something kept (this
    cache, or a vendor's own record of what it saw): not when it decides a write, nor
    when the client asked for fresh reads."""
    if deciding_a_write.get():
        return False
    state = current_request.get()
    return state is None or not client_wants_fresh(state)


def note_kept(vendor: Vendor, *, age: float, fresh_for: float) -> None:
    """A read of the current request answered from something kept ``age`` seconds,
    fresh ``fresh_for`` more."""
    state = current_request.get()
    if state is not None:
        state.reads.note(vendor, age=age, fresh_for=fresh_for, stale=False)


def note_fresh(vendor: Vendor) -> None:
    """An uncached call of the current request (a write, or a read of an uncached vendor):
    its answer is the vendor's own now, kept by no one."""
    state = current_request.get()
    if state is not None:
        state.reads.note(vendor, age=0.0, fresh_for=0.0, stale=False)
