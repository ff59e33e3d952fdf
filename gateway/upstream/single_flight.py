"""At most one run of an async operation at a time, its outcome shared.

Used for OAuth token grants: when many requests find the token missing or
stale at once, one grant goes to the vendor and every request that asked
while it ran gets its result -- the token, or the same failure. Waiting
callers queued behind a lock would instead each retry a failing grant in
turn, so the last of N requests answered after N timeouts.

Keyed, for identical vendor reads (``GATEWAY_COLLAPSE_READS``): many clients asking
the same vendor page at once share one call to the vendor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flight: asyncio.Future[T] | None = None

    @property
    def in_flight(self) -> bool:
        return self._flight is not None and not self._flight.done()

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """The outcome of ``operation``, or of the run already in flight."""
        if self._flight is None or self._flight.done():
            self._flight = asyncio.ensure_future(operation())
            self._flight.add_done_callback(_retrieve_outcome)
        # Shielded: a caller that goes away (client disconnect, time limit) must
        # not cancel the run the other callers are waiting for.
        return await asyncio.shield(self._flight)


def _retrieve_outcome(flight: asyncio.Future[T]) -> None:
    # Mark a failure as seen even if every caller was cancelled, so asyncio does
    # not log "exception was never retrieved" (the callers get it raised anyway).
    if not flight.cancelled():
        flight.exception()


class KeyedSingleFlight(Generic[K, T]):
    """At most one run per key at a time: a caller asking for a key already in
    flight joins that run and gets its outcome (the value, or the same failure)."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[T]] = {}
        # Callers that joined a run in flight rather than starting one.
        self.joined = 0

    def join(self, key: K, operation: Callable[[], Awaitable[T]]) -> tuple[asyncio.Future[T], bool]:
        """The run for ``key`` (started now unless one is in flight), and whether it
        was already in flight. Await it through ``asyncio.shield``."""
        flight = self._flights.get(key)
        if flight is not None and not flight.done():
            self.joined += 1
            return flight, True
        flight = asyncio.ensure_future(operation())
        self._flights[key] = flight
        flight.add_done_callback(partial(self._landed, key))
        return flight, False

    def _landed(self, key: K, flight: asyncio.Future[T]) -> None:
        # The next caller starts a new run: an outcome is shared only while in flight.
        if self._flights.get(key) is flight:
            del self._flights[key]
        _retrieve_outcome(flight)
