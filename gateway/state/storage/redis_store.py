"""Redis (redis-py asyncio) behind the storage seam, shared by every gateway process.

Redis is a helper here, not a dependency of answering: when a call fails (Redis
stopped, unreachable, too slow) the store logs one warning and serves from this
process's memory until Redis answers again -- tokens are then granted and writes
replayed per process, as without Redis, and no client sees an error.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.state.storage.memory import MemoryStore

# Redis answers in well under a millisecond on a healthy network; a slow or
# vanished server must not hold requests for long before the fallback takes over
# (GATEWAY_REDIS_TIMEOUT; this is its default).
SOCKET_TIMEOUT = 0.5
KEY_PREFIX = "task-gateway:"

logger = logging.getLogger("gateway.storage")

T = TypeVar("T")

# Compare-and-set and compare-and-delete, atomic on the server.
_REPLACE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisStore:
    def __init__(self, client: Redis) -> None:
        self._client = client
        self._fallback = MemoryStore()
        self._degraded = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float = SOCKET_TIMEOUT) -> RedisStore:
        client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One attempt: a retry would only double the wait before the fallback.
            retry_on_timeout=False,
        )
        return cls(client)

    @property
    def fallback(self) -> MemoryStore:
        """Where state is kept while Redis is away (for batches run as scripts)."""
        return self._fallback

    async def get(self, key: str) -> bytes | None:
        async def shared() -> bytes | None:
            value: Any = await self._client.get(KEY_PREFIX + key)
            return bytes(value) if value is not None else None

        return await self._call(shared, lambda: self._fallback.get(key))

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        async def shared() -> None:
            await self._client.set(KEY_PREFIX + key, value, px=ms(ttl))

        await self._call(shared, lambda: self._fallback.set(key, value, ttl=ttl))

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        async def shared() -> bool:
            return bool(await self._client.set(KEY_PREFIX + key, value, px=ms(ttl), nx=True))

        return await self._call(shared, lambda: self._fallback.add(key, value, ttl=ttl))

    async def replace(self, key: str, expected: bytes, value: bytes, *, ttl: float) -> bool:
        async def shared() -> bool:
            done = await self._client.eval(_REPLACE, 1, KEY_PREFIX + key, expected, value, ms(ttl))
            return bool(done)

        return await self._call(
            shared, lambda: self._fallback.replace(key, expected, value, ttl=ttl)
        )

    async def delete(self, key: str, *, expected: bytes | None = None) -> None:
        async def shared() -> None:
            if expected is None:
                await self._client.delete(KEY_PREFIX + key)
            else:
                await self._client.eval(_DELETE_IF, 1, KEY_PREFIX + key, expected)

        await self._call(shared, lambda: self._fallback.delete(key, expected=expected))

    async def run_script(
        self,
        script: str,
        keys: list[str],
        args: list[Any],
        local: Callable[[], Awaitable[T]],
    ) -> T:
        """``script`` on the server over ``keys`` (prefixed here), or ``local`` while Redis
        is away: for state that needs more than one atomic step (rate budgets)."""

        async def shared() -> T:
            prefixed = [KEY_PREFIX + key for key in keys]
            result: T = await self._client.eval(script, len(prefixed), *prefixed, *args)
            return result

        return await self._call(shared, local)

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._client.aclose()

    async def _call(
        self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        try:
            result = await shared()
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._degraded:
                self._degraded = True
                # The exception's class only: its text may carry the URL and password.
                logger.warning(
                    "Redis is unreachable (%s): tokens, idempotency replays and identical "
                    "reads are shared per process until it answers again.",
                    type(exc).__name__,
                )
            return await local()
        if self._degraded:
            self._degraded = False
            logger.info("Redis answers again: state is shared across processes again.")
        return result
