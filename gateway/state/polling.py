"""Pollers: changes made outside the gateway, found by each vendor's cheapest delta read.

A vendor that declares a :class:`ChangeFeed` gets one :class:`Poller`. Each round the
feed reads what changed since its cursor (a small JSON document of what it last saw)
and the poller publishes a :class:`ChangeEvent` per change on the app's bus. The first
round only sets the baseline: nothing is published for what was already there.

Only one process polls a vendor: the one holding the vendor's lease in the shared
store (renewed while it lives, see :mod:`gateway.state.storage.leases`); the others
try to take it every third of a lease period, so a dead holder is replaced within
about one and a third lease periods. The cursor lives in the shared store too, so a
takeover carries on where the last holder stopped instead of starting a new baseline.

Pacing: the poller spends at most ``share`` of each of the vendor's quotas. A round
that made ``n`` calls is followed by a pause of at least ``n`` times the seconds one
call is worth under the share, and never shorter than the vendor's interval (the
staleness it aims at). Refused or failing rounds back off, doubling up to ``MAX_BACKOFF``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from gateway.core.errors import GatewayError
from gateway.core.ids import decode_id
from gateway.core.ratelimit import Quota
from gateway.core.types import Vendor
from gateway.state.changes import ChangeBus, ChangeEvent
from gateway.state.storage.base import SharedStore
from gateway.state.storage.leases import Leases, new_owner

logger = logging.getLogger("gateway.polling")

Cursor = dict[str, Any]
CREATED, UPDATED, DELETED = "created", "updated", "deleted"
# A cursor outlives any pause between rounds; a vendor unpolled this long starts afresh.
CURSOR_TTL = 7 * 86_400.0
MAX_BACKOFF = 900.0
# Shutting down: how long a round in flight may finish before it is cancelled.
STOP_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Round:
    """One delta read: the changes (global id, kind), the new cursor and its call count."""

    changes: Sequence[tuple[str, str]]
    cursor: Cursor
    calls: int


class ChangeFeed(Protocol):
    """A vendor's delta read. ``cursor`` is None on the first round (the baseline)."""

    async def read(self, cursor: Cursor | None) -> Round: ...


def versions_diff(
    before: Mapping[str, str], after: Mapping[str, str], *, complete: bool = True
) -> list[tuple[str, str]]:
    """The changes between two maps of global id to a version marker. Only a
    ``complete`` read (every record) tells a deletion or a creation from a record
    that moved out of or into a partial read."""
    changes = [
        (gid, UPDATED) for gid, version in after.items() if before.get(gid, version) != version
    ]
    if complete:
        changes += [(gid, CREATED) for gid in after if gid not in before]
        changes += [(gid, DELETED) for gid in before if gid not in after]
    return changes


@dataclass(frozen=True, slots=True)
class Stamped:
    """A record on a newest-changed-first page: its global id, when it was last
    modified and when it was created (epoch seconds)."""

    gid: str
    modified: float
    created: float


def newest_first_diff(
    before: Cursor, page: Sequence[Stamped], *, full: bool
) -> list[tuple[str, str]]:
    """The changes between two reads of the first page of a list sorted by modification
    time, newest first (``before``: the last read's ``page_cursor``). A record is
    changed if its time moved; created if it is new and was created after the newest
    change the last read saw; deleted if it left the page although its time still
    ranks it within it. A record moved up into the page by deletions above it is no
    change. ``full``: the page held as many records as a page can (more may follow)."""
    seen: dict[str, float] = before.get("seen", {})
    mark = max(seen.values(), default=0.0)
    oldest_before = min(seen.values(), default=0.0)
    changes: list[tuple[str, str]] = []
    for record in page:
        known = seen.get(record.gid)
        if known == record.modified:
            continue
        if known is None and before.get("full") and record.modified < oldest_before:
            continue
        created = known is None and record.created > mark
        changes.append((record.gid, CREATED if created else UPDATED))
    now = {record.gid for record in page}
    oldest_now = min((record.modified for record in page), default=0.0)
    changes += [
        (gid, DELETED)
        for gid, modified in seen.items()
        if gid not in now and (not full or modified > oldest_now)
    ]
    return changes


def page_cursor(page: Sequence[Stamped], *, full: bool) -> Cursor:
    return {"seen": {record.gid: record.modified for record in page}, "full": full}


@dataclass(frozen=True, slots=True)
class Pace:
    """How long to wait after a round: ``interval`` at least, and ``per_call`` seconds
    for each call it made (``share`` of the tightest quota)."""

    interval: float
    per_call: float

    @classmethod
    def of(cls, quotas: Sequence[Quota], *, share: float, interval: float) -> Pace:
        per_call = max((q.period / (q.limit * share) for q in quotas if q.limit), default=0.0)
        return cls(interval, per_call)

    def after(self, calls: int) -> float:
        return max(self.interval, calls * self.per_call)


@dataclass
class Poller:
    vendor: Vendor
    feed: ChangeFeed
    bus: ChangeBus
    store: SharedStore
    pace: Pace
    lease_period: float
    owner: str = field(default_factory=new_owner)
    rounds: int = 0  # rounds read by this process (tests and logs)

    def __post_init__(self) -> None:
        self.leases = Leases(self.store, period=self.lease_period)
        self.lease_name = f"poll:{self.vendor.value}:lease"
        self.cursor_name = f"poll:{self.vendor.value}:cursor"
        self.holding = False
        self._backoff = 0.0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Poll until :meth:`stop`; then give the lease up, so another process takes over
        at once rather than after it lapses."""
        try:
            while not self._stop.is_set():
                pause = await self.step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)
        finally:
            if self.holding:
                self.holding = False
                await self.leases.give_up(self.lease_name, self.owner)

    def stop(self) -> None:
        """Ends :meth:`run` after its round in flight (not cancelled halfway: a Redis
        command cut short could leave its connection unusable for the lease's release)."""
        self._stop.set()

    async def step(self) -> float:
        """One turn: a round if this process holds the lease; the pause that follows."""
        if not await self._hold():
            return self.lease_period / 3
        try:
            calls = await self.poll_once()
        except Exception as exc:  # a poller outlives any one failed round
            # The code or class only: an exception's text is not for the logs.
            reason = exc.code if isinstance(exc, GatewayError) else type(exc).__name__
            self._backoff = min(max(self._backoff * 2, self.pace.after(1)), MAX_BACKOFF)
            logger.warning(
                "Polling %s for changes failed (%s); next try in %.0f s.",
                self.vendor.label,
                reason,
                self._backoff,
            )
            return self._backoff
        self._backoff = 0.0
        return self.pace.after(calls)

    async def poll_once(self) -> int:
        """Read the feed from the shared cursor, publish its changes; the calls made."""
        stored = await self.store.get(self.cursor_name)
        cursor: Cursor | None = json.loads(stored) if stored else None
        round_ = await self.feed.read(cursor)
        self.rounds += 1
        await self.store.set(self.cursor_name, json.dumps(round_.cursor).encode(), ttl=CURSOR_TTL)
        if cursor is None:
            return round_.calls  # the baseline: what was there already is no change
        now = datetime.now(UTC)
        await self.bus.publish_all(
            [
                ChangeEvent(self.vendor, decode_id(gid).type_name, gid, kind, now)
                for gid, kind in round_.changes
            ]
        )
        return round_.calls

    async def _hold(self) -> bool:
        if self.holding:
            held = await self.store.get(self.lease_name)
            if held == self.owner.encode():
                return True
            if held is not None:
                logger.warning("Another process took over polling %s.", self.vendor.label)
            await self.leases.give_up(self.lease_name, self.owner)
            self.holding = False
        self.holding = await self.leases.try_take(self.lease_name, self.owner)
        return self.holding


class Pollers:
    """The app's pollers, started with its lifespan and cancelled at its end."""

    def __init__(self, pollers: Sequence[Poller]) -> None:
        self.pollers = list(pollers)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(poller.run()) for poller in self.pollers]

    async def aclose(self) -> None:
        for poller in self.pollers:
            poller.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
