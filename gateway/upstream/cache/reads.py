"""Vendor reads kept for every client, answered stale while refreshed, and stood in
for a failing vendor; dropped by every write and every change event.

Why at the upstream seam rather than whole GraphQL results: every vendor, every
field and both POST and GET operations share it; two different operations that
need the same vendor page share one entry; and a cached answer is the vendor's
own bytes, parsed by the same adapter code as a fresh one, so it cannot change an
answer except by being older. Writes know their vendor at this level (any method
but GET), so invalidation needs no per-field bookkeeping.

Entries are shared by every client: the vendor credentials are the gateway's own,
so the vendor gives every client the same answer to the same request, and every
field's access (scopes) is checked before any call is made. Each caller gets a
response of its own built from the kept bytes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from gateway.core.errors import RateLimited, UpstreamUnavailable
from gateway.core.types import Vendor
from gateway.observability.scope import RequestState, current_request
from gateway.upstream.cache.entries import Entry, entry_key
from gateway.upstream.cache.freshness import Freshness, Use
from gateway.upstream.cache.held import HeldOf, held_entries, refreshes_itself
from gateway.upstream.cache.items import item_of
from gateway.upstream.cache.pace import RefreshPace
from gateway.upstream.cache.scope import (
    client_wants_fresh,
    deciding_a_write,
    may_answer_from_kept,
    note_fresh,
)

logger = logging.getLogger("gateway.cache")


class EntryStore(Protocol):
    """Where entries live: this process's memory, or Redis (see ``entries``, ``redis_entries``).
    ``lookup`` gives the vendor's generation (None: the store cannot answer now)."""

    async def lookup(
        self, vendor: Vendor, key: str, item: str | None = None
    ) -> tuple[str | None, Entry | None]: ...

    async def keep(
        self,
        vendor: Vendor,
        key: str,
        entry: Entry,
        generation: str,
        retain: float,
        item: str | None = None,
    ) -> None: ...

    async def keep_held(
        self, vendor: Vendor, generation: str, held: list[tuple[str, str, Entry]], retain: float
    ) -> None:
        """Keep ``(key, item, entry)`` each under its item's generation, if the vendor's
        is still ``generation`` (see ``held``)."""

    # Whether every process reads these same entries (Redis) or its own (memory).
    shared: bool

    async def invalidate(self, vendor: Vendor, item: str | None = None) -> None: ...

    async def invalidate_once(self, vendor: Vendor, items: Sequence[str], window: float) -> None:
        """Invalidate ``vendor`` once for changes of ``items``: each item not applied for
        in the last ``window`` seconds, and the vendor's reads if any was."""

    async def aclose(self) -> None: ...


Fetch = Callable[[], Awaitable[httpx.Response]]

# Seconds in which reports of one change of an item are taken as one: a mutation's own
# event, the vendor's webhook for it and the relays arrive within about a second.
ECHO_WINDOW = 5.0


class ReadCache:
    """The gateway's cached vendor reads, in ``store``; ``clock`` is wall-clock seconds
    (entries' ages are compared across processes)."""

    def __init__(self, store: EntryStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        # One background refresh per entry at a time; strong references (the loop
        # keeps only weak ones), and never cancelled but on close.
        self._refreshing: dict[tuple[Vendor, str], asyncio.Task[None]] = {}
        self._invalidations: set[asyncio.Task[None]] = set()
        # Items reported changed whose invalidation has not gone to the store yet.
        self._pending: dict[Vendor, dict[str, None]] = {}
        self._fresh: dict[Vendor, float] = {}

    def for_vendor(
        self, vendor: Vendor, freshness: Freshness, pace: RefreshPace | None = None
    ) -> VendorReadCache:
        self._fresh[vendor] = freshness.fresh
        return VendorReadCache(self, vendor, freshness, pace)

    def refreshing(self, vendor: Vendor, key: str) -> bool:
        return (vendor, key) in self._refreshing

    async def written(self, vendor: Vendor, item: str | None = None) -> None:
        """A write to ``vendor`` (of ``item``, where it names one) went out, or may have:
        its entries showing what changed are superseded."""
        await self.store.invalidate(vendor, item)

    def changed(self, vendor: Vendor, item: str, *, relayed: bool = False) -> None:
        """A change event about ``item`` of ``vendor`` (from the bus, which does not wait).

        Applied once per item within :data:`ECHO_WINDOW` (or the vendor's fresh window,
        if shorter), however many sources report the same change (the mutation itself,
        the vendor's webhook for it, each process's relay, all within moments of each
        other): each application would have every kept read of the vendor fetched again.
        A further change of the item after that is applied as it is reported; a poller
        that reports a change the webhook already did, later than that, has the reads
        fetched once more. The window is short because a second change of the item
        inside it shows only once the entries age past their fresh window; the
        gateway's own writes invalidate on their own, always. An event relayed from
        another process was applied there, to shared entries."""
        if relayed and self.store.shared:
            return
        pending = self._pending.get(vendor)
        if pending is not None:
            pending[item_of(item)] = None
            return
        self._pending[vendor] = {item_of(item): None}
        task = asyncio.get_running_loop().create_task(self._invalidate(vendor))
        self._invalidations.add(task)
        task.add_done_callback(self._invalidations.discard)

    async def _invalidate(self, vendor: Vendor) -> None:
        # Every event reported before this task runs goes in one store call: a webhook
        # naming each task of a project moves the vendor's generation once, so readers in
        # between do not fetch lists the next event supersedes.
        items = list(self._pending.pop(vendor))
        window = min(self._fresh.get(vendor, 0.0), ECHO_WINDOW)
        await self.store.invalidate_once(vendor, items, window)

    async def settled(self) -> None:
        """Returns once the background refreshes and invalidations under way are done."""
        await asyncio.gather(*self._refreshing.values(), *self._invalidations)

    def refresh_later(
        self, vendor: Vendor, key: str, fetch: Fetch, generation: str, kept: KeptAs
    ) -> None:
        if (vendor, key) in self._refreshing:
            return  # collapsed: one refresh of an entry at a time
        # Not on the request's account: it is nobody's call log and no client's budget
        # (the vendor's quota is still spent, in Upstream).
        context = contextvars.copy_context()
        context.run(current_request.set, None)
        context.run(deciding_a_write.set, False)
        loop = asyncio.get_running_loop()
        refresh = self._refresh(vendor, key, fetch, generation, kept)
        task = loop.create_task(refresh, context=context)
        self._refreshing[(vendor, key)] = task
        task.add_done_callback(lambda _: self._refreshing.pop((vendor, key), None))

    async def _refresh(
        self, vendor: Vendor, key: str, fetch: Fetch, generation: str, kept: KeptAs
    ) -> None:
        try:
            response = await fetch()
        except Exception as exc:
            # The stale entry stays; nobody waits on this, so it is only logged.
            logger.debug("A background refresh of %s failed: %s", vendor.value, type(exc).__name__)
            return
        await self.keep(vendor, key, response, generation, kept)

    async def keep(
        self,
        vendor: Vendor,
        key: str,
        response: httpx.Response,
        generation: str | None,
        kept: KeptAs,
    ) -> None:
        """Keep a 2xx answer, and the items it holds, unless the store could not say the
        vendor's generation."""
        if generation is None or not 200 <= response.status_code < 300:
            return
        entry = Entry.of(response, self.clock())
        await self.store.keep(vendor, key, entry, generation, kept.retain, kept.item)
        if kept.held_of is not None and kept.item is None:
            held = held_entries(kept.held_of, response, entry.stored_at)
            if held:
                await self.store.keep_held(vendor, generation, held, kept.retain)

    async def aclose(self) -> None:
        for task in self._refreshing.values():
            task.cancel()
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)
        await self.store.aclose()


@dataclass(frozen=True, slots=True)
class KeptAs:
    """How a read's answer is kept: how long, the one item it reads (if it names one),
    and the items a list answer holds (see ``held``)."""

    retain: float
    item: str | None = None
    held_of: HeldOf | None = None


def _failed(response: httpx.Response) -> bool:
    """An answer the adapter will turn into UpstreamUnavailable or RateLimited."""
    return response.status_code == 429 or response.status_code >= 500


@dataclass(frozen=True, slots=True)
class VendorReadCache:
    """One vendor's view of the cache, with its windows; what its Upstream holds."""

    cache: ReadCache
    vendor: Vendor
    freshness: Freshness
    # Refreshes that only age calls for, paced to the vendor's daily quota (see ``pace``).
    pace: RefreshPace | None = None

    async def send(
        self,
        request: httpx.Request,
        fetch: Fetch,
        item: str | None = None,
        held_of: HeldOf | None = None,
    ) -> httpx.Response:
        """``item`` names the one item (``Type:id``, as in global ids) the call reads or
        writes: its entry is superseded only by changes of that item (or of no named
        item), and a write of it supersedes the vendor's lists and that item's reads.
        ``held_of`` gives the items a list answer holds, kept as their by-id reads'."""
        if request.method != "GET":
            return await self._write(fetch, item)
        state = current_request.get()
        if state is None:
            return await fetch()  # no HTTP request (a background task): straight to the vendor
        key = entry_key(request)
        generation, entry = await self.cache.store.lookup(self.vendor, key, item)
        if deciding_a_write.get() or client_wants_fresh(state):
            entry = None  # the vendor's own state; its answer refreshes the entry
        age = self._age(entry)
        use = self._use(entry, generation, age)
        kept_as = (generation, KeptAs(self.freshness.retained, item, held_of))
        if entry is None or use is Use.NONE:
            return await self._call(state, key, fetch, kept_as, None, age)
        return await self._with_entry(state, key, fetch, kept_as, (entry, use, age))

    async def fresh(self, request: httpx.Request, item: str | None = None) -> httpx.Response | None:
        """The kept answer to ``request`` if it is fresh and no change superseded it, else
        None (and no call): for an adapter that has a cheaper way than ``request`` to
        read what it needs when nothing fresh is kept (see ``Upstream.kept``)."""
        state = current_request.get()
        if state is None or not may_answer_from_kept():
            return None
        generation, entry = await self.cache.store.lookup(self.vendor, entry_key(request), item)
        age = self._age(entry)
        if entry is None or self._use(entry, generation, age) is not Use.FRESH:
            return None
        self._note(state, age, stale=False)
        return entry.response()

    def _age(self, entry: Entry | None) -> float:
        return max(0.0, self.cache.clock() - entry.stored_at) if entry is not None else 0.0

    async def _with_entry(
        self,
        state: RequestState,
        key: str,
        fetch: Fetch,
        kept_as: tuple[str | None, KeptAs],
        found: tuple[Entry, Use, float],
    ) -> httpx.Response:
        """The answer to a read with an entry of ``found``'s use and age."""
        entry, use, age = found
        generation, kept = kept_as
        if use in (Use.FRESH, Use.REVALIDATE):
            renews = use is Use.REVALIDATE and refreshes_itself(entry, age, self.freshness)
            if renews and generation is not None and await self._paced(key):
                self.cache.refresh_later(self.vendor, key, fetch, generation, kept)
            self._note(state, age, stale=use is Use.REVALIDATE)
            return entry.response()
        # Only its age calls for a read past the revalidate window of an entry no change
        # superseded: made within the vendor's daily pace, or answered as it is.
        if not entry.superseded(generation or entry.generation) and not await self._paced(key):
            self._note(state, age, stale=True)
            return entry.response()
        return await self._call(state, key, fetch, kept_as, entry, age)

    async def _paced(self, key: str) -> bool:
        """Whether a refresh of ``key`` that only its age calls for may be made now."""
        if self.pace is None or self.cache.refreshing(self.vendor, key):
            return True  # not paced, or collapsed into the refresh under way
        return await self.pace.allows()

    def _use(self, entry: Entry | None, generation: str | None, age: float) -> Use:
        if entry is None:
            return Use.NONE
        if generation is not None and entry.superseded(generation):
            # The vendor changed since: only its last known answer, if the call fails.
            return Use.IF_ERROR if self.freshness.stands_in(age) else Use.NONE
        return self.freshness.use(age)

    async def _call(
        self,
        state: RequestState,
        key: str,
        fetch: Fetch,
        kept_as: tuple[str | None, KeptAs],
        stand_in: Entry | None,
        age: float,
    ) -> httpx.Response:
        """The vendor's answer, kept under ``kept_as`` (its generation at the start, and
        how); or ``stand_in`` if the call fails or is refused."""
        try:
            response = await fetch()
        except (UpstreamUnavailable, RateLimited):
            if stand_in is None:
                raise
            self._note(state, age, stale=True)
            return stand_in.response()
        if stand_in is not None and _failed(response):
            self._note(state, age, stale=True)
            return stand_in.response()
        generation, kept = kept_as
        await self.cache.keep(self.vendor, key, response, generation, kept)
        self._note(state, 0.0, stale=False)
        return response

    async def _write(self, fetch: Fetch, item: str | None) -> httpx.Response:
        # Before: reads that begin during the write are not kept past it; after: nor
        # are reads that began before it and end after it was sent.
        note_fresh(self.vendor)
        await self.cache.written(self.vendor, item)
        try:
            return await fetch()
        finally:
            # Even a write that failed or timed out may have landed.
            await asyncio.shield(self.cache.written(self.vendor, item))

    def _note(self, state: RequestState, age: float, *, stale: bool) -> None:
        fresh_for = 0.0 if stale else max(0.0, self.freshness.fresh - age)
        state.reads.note(self.vendor, age=age, fresh_for=fresh_for, stale=stale)
