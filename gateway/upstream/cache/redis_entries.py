"""The read cache in Redis, shared by every gateway process.

A hit is one round trip: a script reads the vendor's generation and the entry kept
under it together. A write bumps the generation (``INCR``), which every process reads
on its next lookup, so entries kept before it are never read again (they expire on
their own); keeping an entry is a script that checks the generation the read began
in is still current, so a read that began before a write is not kept after it.

Redis is a helper, never a dependency of answering: a failed or slow call (bounded by
the socket timeout) is a miss, the read goes to the vendor, one warning is logged per
outage, and for a short while Redis is not asked at all, so an outage does not add its
timeout to every read.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.types import Vendor
from gateway.state.storage.redis_store import KEY_PREFIX, SOCKET_TIMEOUT
from gateway.upstream.cache.entries import Entry

logger = logging.getLogger("gateway.cache")

# After a failure, seconds before Redis is asked again.
HOLD_OFF = 1.0

# The generation of an entry (gateway.upstream.cache.entries.generation_of): KEYS[1]
# the vendor's, or with an item, KEYS[3] (changes naming no item) and KEYS[4] (the item's).
_GENERATION = """
local function generation()
  if #KEYS == 2 then return redis.call('GET', KEYS[1]) or '0' end
  return (redis.call('GET', KEYS[3]) or '0') .. ':' .. (redis.call('GET', KEYS[4]) or '0')
end
"""
_LOOKUP = (
    _GENERATION
    + """
return {generation(), redis.call('GET', KEYS[2])}
"""
)
_KEEP = (
    _GENERATION
    + """
if generation() == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 0
"""
)
# Held items (gateway.upstream.cache.held): KEYS[1] the vendor's generation, KEYS[2]
# changes naming no item, then each item's; what each item's entry is kept under.
_ITEM_GENERATIONS = """
local found = {redis.call('GET', KEYS[1]) or '0'}
local all_items = redis.call('GET', KEYS[2]) or '0'
for i = 3, #KEYS do
  found[#found + 1] = all_items .. ':' .. (redis.call('GET', KEYS[i]) or '0')
end
return found
"""
# KEYS[1] the vendor's generation, then the entries: kept only if it is still ARGV[1].
_KEEP_HELD = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[2])
end
return 0
"""
# KEYS: the vendor's generation, then the item's or the one of changes naming no item.
# A day: longer than any entry is retained, so a count that expired and restarted can
# never give an old entry's generation back while that entry still exists.
_INVALIDATE = """
redis.call('INCR', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
return 0
"""
# Change events invalidate once per item and window, however many sources (a webhook,
# the poller, each process's relay) report them. KEYS: the vendor's generation, then
# each item's generation and its "applied" mark in pairs; the vendor's generation moves
# once for them all, so reads between one event and the next are not spent on entries
# the next supersedes.
_INVALIDATE_ONCE = """
local applied = false
for i = 2, #KEYS, 2 do
  if redis.call('SET', KEYS[i + 1], '1', 'NX', 'PX', ARGV[1]) then
    redis.call('INCR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], 86400000)
    applied = true
  end
end
if applied then redis.call('INCR', KEYS[1]) end
return 0
"""


class RedisEntries:
    # Every process reads the same entries and generations: a change applied once
    # (where it was learnt of) holds for all.
    shared = True

    def __init__(
        self,
        url: str,
        *,
        timeout: float = SOCKET_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
        )
        self._lookup = self._client.register_script(_LOOKUP)
        self._keep = self._client.register_script(_KEEP)
        self._invalidate = self._client.register_script(_INVALIDATE)
        self._invalidate_once = self._client.register_script(_INVALIDATE_ONCE)
        self._item_generations = self._client.register_script(_ITEM_GENERATIONS)
        self._keep_held = self._client.register_script(_KEEP_HELD)
        self._clock = clock
        self._held_off_until = 0.0
        self._warned = False

    @staticmethod
    def _generation_key(vendor: Vendor) -> str:
        return f"{KEY_PREFIX}cache:{vendor.value}:generation"

    @staticmethod
    def _item_keys(vendor: Vendor, item: str | None) -> list[str]:
        """The keys of an entry's generation beyond the vendor's: none for a list read."""
        if item is None:
            return []
        return [_all_items_key(vendor), _item_key(vendor, item)]

    @staticmethod
    def _entry_key(vendor: Vendor, key: str) -> str:
        # One key per entry: kept under an older generation, it is superseded (see Entry).
        return f"{KEY_PREFIX}cache:{vendor.value}:{key}"

    async def lookup(
        self, vendor: Vendor, key: str, item: str | None = None
    ) -> tuple[str | None, Entry | None]:
        keys = [self._generation_key(vendor), self._entry_key(vendor, key)]
        answer = await self._call(self._lookup, keys + self._item_keys(vendor, item), [])
        if answer is None:
            return None, None
        generation, data = answer
        try:
            entry = Entry.decode(bytes(data)) if data is not None else None
        except (ValueError, TypeError):
            entry = None  # not an entry this gateway wrote: a miss, overwritten soon
        return _text(generation), entry

    async def keep(
        self,
        vendor: Vendor,
        key: str,
        entry: Entry,
        generation: str,
        retain: float,
        item: str | None = None,
    ) -> None:
        keys = [self._generation_key(vendor), self._entry_key(vendor, key)]
        ms = max(1, int(retain * 1000))
        kept = replace(entry, generation=generation)
        keys += self._item_keys(vendor, item)
        await self._call(self._keep, keys, [generation, kept.encode(), ms])

    async def keep_held(
        self, vendor: Vendor, generation: str, held: list[tuple[str, str, Entry]], retain: float
    ) -> None:
        """Two round trips, the first reading each item's generation: if the vendor's is
        still ``generation`` at the second, no change happened since the list's read
        began, so those item generations are the ones its items are current under."""
        if not held:
            return
        items = [_item_key(vendor, item) for _, item, _ in held]
        keys = [self._generation_key(vendor), _all_items_key(vendor), *items]
        found = await self._call(self._item_generations, keys, [])
        if found is None or _text(found[0]) != generation:
            return
        entries = [
            replace(entry, generation=_text(item_generation)).encode()
            for (_, _, entry), item_generation in zip(held, found[1:], strict=True)
        ]
        keys = [self._generation_key(vendor), *(self._entry_key(vendor, k) for k, _, _ in held)]
        ms = max(1, int(retain * 1000))
        await self._call(self._keep_held, keys, [generation, ms, *entries])

    async def invalidate(self, vendor: Vendor, item: str | None = None) -> None:
        second = _item_key(vendor, item) if item is not None else _all_items_key(vendor)
        await self._call(self._invalidate, [self._generation_key(vendor), second], [])

    async def invalidate_once(self, vendor: Vendor, items: Sequence[str], window: float) -> None:
        ms = max(1, int(window * 1000))
        keys = [self._generation_key(vendor)]
        for item in items:
            keys += [_item_key(vendor, item), f"{KEY_PREFIX}cache:{vendor.value}:changed:{item}"]
        await self._call(self._invalidate_once, keys, [ms])

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        if not self._available():
            return None
        try:
            answer = await script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError, ValueError) as exc:
            self._failed(exc)
            return None
        self._answered()
        return answer

    def _available(self) -> bool:
        return self._clock() >= self._held_off_until

    def _failed(self, exc: BaseException) -> None:
        self._held_off_until = self._clock() + HOLD_OFF
        if not self._warned:
            self._warned = True
            # The exception's class only: its text may carry the URL and password.
            logger.warning(
                "Redis is unreachable (%s): vendor reads go to the vendor uncached, and "
                "writes no longer invalidate other processes' entries (they expire "
                "within their vendor's windows).",
                type(exc).__name__,
            )

    def _answered(self) -> None:
        if self._warned:
            self._warned = False
            logger.info("Redis answers again: vendor reads are cached and shared again.")

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._client.aclose()


def _all_items_key(vendor: Vendor) -> str:
    """The count of the vendor's changes that named no item (every item read is behind)."""
    return f"{KEY_PREFIX}cache:{vendor.value}:all-items"


def _item_key(vendor: Vendor, item: str) -> str:
    return f"{KEY_PREFIX}cache:{vendor.value}:item:{item}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
