"""Vendor reads kept for a few seconds, per client and scopes, dropped on every write.

Why at the upstream seam rather than whole GraphQL results: every vendor, every
field and both POST and GET operations share it; two different operations that
need the same vendor page share one entry; and a cached answer is the vendor's
own bytes, parsed by the same adapter code as a fresh one, so it cannot change an
answer except by being up to a TTL old. Writes know their vendor at this level
(any method but GET), so invalidation needs no per-field bookkeeping.

Entries are keyed by the client (its principal's key) and its scopes as well as
the URL: a client never gets bytes fetched for another client or for scopes it
lacks, even where the gateway would have checked them before the call anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from gateway.core.types import Vendor
from gateway.observability.scope import current_request
from gateway.upstream.responses import decoded_headers

if TYPE_CHECKING:
    from gateway.core.principal import Principal


# Set while a read decides a write (is the todo open? which tasks exist?): such a
# read goes to the vendor, never to an entry that may predate a change made
# outside the gateway, or the write would be decided on a stale state. A context
# variable, not a field of the request's state: it holds for one write's task only,
# while the same request's other resolvers may read through the cache concurrently.
deciding_a_write: ContextVar[bool] = ContextVar("deciding_a_write", default=False)


@contextmanager
def vendor_state() -> Iterator[None]:
    """Reads inside go to the vendor itself (their answers refresh the cache)."""
    token = deciding_a_write.set(True)
    try:
        yield
    finally:
        deciding_a_write.reset(token)


def cache_scope(principal: Principal) -> str:
    return principal.key + "|" + ",".join(sorted(principal.scopes))


def note_read(ttl: float) -> None:
    """A vendor read of the current request, kept ``ttl`` seconds (0: not cached)."""
    state = current_request.get()
    if state is not None:
        state.reads.ttls.append(ttl)


@dataclass(frozen=True, slots=True)
class _Entry:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    content: bytes
    expires: float


_Key = tuple[Vendor, str, str]
# Told of a write to a vendor, so other processes can drop their entries too.
Publisher = Callable[[Vendor], Awaitable[None]]


class ReadCache:
    """This process's cached vendor reads, least recently used dropped past ``max_entries``."""

    def __init__(
        self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        # Bumped by every invalidation: a read that began before a write may not be kept.
        self._generations: dict[Vendor, int] = {}
        self.publisher: Publisher | None = None
        # Started on first use, inside the running loop (see gateway.upstream.cache.broadcast).
        self.start_listening: Callable[[], None] | None = None
        # Set once another process has told this one of a write (tests wait on it).
        self.invalidated_elsewhere = asyncio.Event()

    def for_vendor(self, vendor: Vendor, ttl: float) -> VendorReadCache:
        return VendorReadCache(self, vendor, ttl)

    def generation(self, vendor: Vendor) -> int:
        return self._generations.get(vendor, 0)

    def get(self, key: _Key) -> httpx.Response | None:
        if self.start_listening is not None:
            self.start_listening()
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return httpx.Response(entry.status, headers=list(entry.headers), content=entry.content)

    def put(self, key: _Key, response: httpx.Response, ttl: float, generation: int) -> None:
        if generation != self.generation(key[0]):
            return  # a write to the vendor happened meanwhile: this answer may predate it
        headers = decoded_headers(response)
        self._entries[key] = _Entry(
            response.status_code, headers, response.content, self.clock() + ttl
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, vendor: Vendor) -> None:
        """Forget ``vendor``'s entries in this process."""
        self._generations[vendor] = self.generation(vendor) + 1
        for key in [key for key in self._entries if key[0] == vendor]:
            del self._entries[key]

    async def written(self, vendor: Vendor) -> None:
        """A write to ``vendor`` went out (or may have): drop its entries everywhere."""
        self.drop(vendor)
        if self.publisher is not None:
            await self.publisher(vendor)

    def dropped_elsewhere(self, vendor: Vendor) -> None:
        """Another process wrote to ``vendor``."""
        self.drop(vendor)
        self.invalidated_elsewhere.set()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class VendorReadCache:
    """One vendor's view of the cache, with its TTL; what its Upstream holds."""

    cache: ReadCache
    vendor: Vendor
    ttl: float

    async def send(
        self, request: httpx.Request, fetch: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        if request.method != "GET":
            self.cache.drop(self.vendor)
            try:
                return await fetch()
            finally:
                # Even a write that failed or timed out may have landed.
                await asyncio.shield(self.cache.written(self.vendor))
        state = current_request.get()
        if state is not None:
            state.reads.ttls.append(self.ttl)
        scope = state.cache_scope if state is not None else None
        if scope is None:
            return await fetch()
        key = (self.vendor, scope, str(request.url))
        cached = None if deciding_a_write.get() else self.cache.get(key)
        if cached is not None:
            return cached
        generation = self.cache.generation(self.vendor)
        response = await fetch()
        if 200 <= response.status_code < 300:
            self.cache.put(key, response, self.ttl, generation)
        return response
