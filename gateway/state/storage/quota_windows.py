"""Vendor quota windows in Redis, so every gateway process counts one vendor's calls
together.

The same sliding-window logs as gateway.core.windows's MemoryWindowLimiter, kept in one
sorted set per key and quota (members scored by the time of each call) and updated by
one Lua script per call: counting against several quotas at once stays all-or-nothing
across processes, and the times are Redis's own, so processes on hosts whose clocks
disagree still agree on the windows. While Redis is away the store's fallback applies:
each process counts in its own memory, as without Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gateway.core.ratelimit import Quota
from gateway.core.windows import MemoryWindowLimiter, WindowLimiter
from gateway.state.storage.base import SharedStore
from gateway.state.storage.memory import MemoryStore

if TYPE_CHECKING:
    from gateway.state.storage.redis_store import RedisStore

# KEYS: one sorted set per quota. ARGV: limit and period per quota. Returns "" when the
# call was counted, else the seconds to wait as a string (a Lua number would be
# truncated to an integer on the way back). Times go to Redis as '%.6f' strings: Lua's
# tostring keeps 14 digits, too few for microseconds since the epoch.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  local period = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.6f', now - period))
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + period - now)
  end
end
if wait > 0 then
  return string.format('%.6f', wait)
end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  local period = tonumber(ARGV[2 * i])
  -- Two calls within one microsecond need two members.
  local member = t[1] .. '.' .. t[2]
  local n = 0
  while redis.call('ZSCORE', key, member .. ':' .. n) do
    n = n + 1
  end
  redis.call('ZADD', key, string.format('%.6f', now), member .. ':' .. n)
  -- A quota lowered since (a new reserve) leaves more than limit: keep the newest limit.
  redis.call('ZREMRANGEBYRANK', key, 0, -limit - 1)
  redis.call('PEXPIRE', key, math.ceil(period * 1000))
end
return ''
"""


class RedisWindowLimiter:
    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._fallback = MemoryWindowLimiter()

    async def acquire(self, key: str, quotas: Sequence[Quota]) -> float | None:
        if not quotas:
            return None
        args: list[object] = []
        for quota in quotas:
            args += [quota.limit, quota.period]
        wait = await self._store.run_script(
            _TAKE,
            # By period alone: processes with different reserves still count one window.
            [f"quota:{key}:{quota.period:g}" for quota in quotas],
            args,
            lambda: self._local_acquire(key, quotas),
        )
        return float(wait) if wait else None

    async def _local_acquire(self, key: str, quotas: Sequence[Quota]) -> bytes:
        wait = await self._fallback.acquire(key, quotas)
        return str(wait).encode() if wait is not None else b""


def shared_window_limiter(store: SharedStore) -> WindowLimiter:
    """Windows in Redis when the gateway shares state, else this process's."""
    if isinstance(store, MemoryStore):
        return MemoryWindowLimiter()
    from gateway.state.storage.redis_store import RedisStore  # redis-py only when asked for

    if isinstance(store, RedisStore):
        return RedisWindowLimiter(store)
    return MemoryWindowLimiter()
