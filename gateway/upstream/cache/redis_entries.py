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
from collections.abc import Callable
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

_LOOKUP = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('GET', KEYS[2])}
"""
_KEEP = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 0
"""
# A change event invalidates once per item and window, however many sources (a webhook,
# the poller, each process's relay) report it.
_INVALIDATE_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('INCR', KEYS[1])
end
return 0
"""


class RedisEntries:
    # Every process reads the same entries and generations: a change applied once
    # (where it was learnt of) holds for all.
    shared = True

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client: Redis = Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry_on_timeout=False,
        )
        self._lookup = self._client.register_script(_LOOKUP)
        self._keep = self._client.register_script(_KEEP)
        self._invalidate_once = self._client.register_script(_INVALIDATE_ONCE)
        self._clock = clock
        self._held_off_until = 0.0
        self._warned = False

    @staticmethod
    def _generation_key(vendor: Vendor) -> str:
        return f"{KEY_PREFIX}cache:{vendor.value}:generation"

    @staticmethod
    def _entry_key(vendor: Vendor, key: str) -> str:
        # One key per entry: kept under an older generation, it is superseded (see Entry).
        return f"{KEY_PREFIX}cache:{vendor.value}:{key}"

    async def lookup(self, vendor: Vendor, key: str) -> tuple[int | None, Entry | None]:
        keys = [self._generation_key(vendor), self._entry_key(vendor, key)]
        answer = await self._call(self._lookup, keys, [])
        if answer is None:
            return None, None
        generation, data = answer
        try:
            entry = Entry.decode(bytes(data)) if data is not None else None
        except (ValueError, TypeError):
            entry = None  # not an entry this gateway wrote: a miss, overwritten soon
        return int(generation), entry

    async def keep(
        self, vendor: Vendor, key: str, entry: Entry, generation: int, retain: float
    ) -> None:
        keys = [self._generation_key(vendor), self._entry_key(vendor, key)]
        ms = max(1, int(retain * 1000))
        kept = replace(entry, generation=generation)
        await self._call(self._keep, keys, [generation, kept.encode(), ms])

    async def invalidate_once(self, vendor: Vendor, item: str, window: float) -> None:
        seen = f"{KEY_PREFIX}cache:{vendor.value}:changed:{item}"
        ms = max(1, int(window * 1000))
        await self._call(self._invalidate_once, [self._generation_key(vendor), seen], [ms])

    async def invalidate(self, vendor: Vendor) -> None:
        if self._available():
            try:
                await self._client.incr(self._generation_key(vendor))
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed(exc)
            else:
                self._answered()

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
