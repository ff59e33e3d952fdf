"""Rate budgets in Redis, so every gateway process spends from the same buckets.

The same token buckets as gateway.core.ratelimit's MemoryRateLimiter, kept in one
Redis hash per key and quota and updated by one Lua script per call: taking
from several quotas at once stays all-or-nothing across processes, and the
refill uses Redis's clock, so processes on hosts whose clocks disagree still
agree on the buckets. While Redis is away the store's fallback applies: each
process limits with its own buckets, as without Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gateway.core.ratelimit import MemoryRateLimiter, Quota, RateLimiter
from gateway.state.storage.base import SharedStore
from gateway.state.storage.memory import MemoryStore

if TYPE_CHECKING:
    from gateway.state.storage.redis_store import RedisStore

# KEYS: one bucket per quota. ARGV: cost, refuse (1/0), then limit and period per quota.
# Returns "" when taken (or adjusted), else the seconds to wait as a string (a Lua
# number would be truncated to an integer on the way back).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local refuse = ARGV[2] == '1'
local buckets = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local period = tonumber(ARGV[2 + 2 * i])
  local rate = limit / period
  local held = redis.call('HMGET', key, 'tokens', 'updated')
  local tokens = limit
  if held[1] then
    tokens = math.min(limit, tonumber(held[1]) + (now - tonumber(held[2])) * rate)
  end
  local need = math.min(cost, limit)
  if tokens < need then
    wait = math.max(wait, (need - tokens) / rate)
  end
  buckets[i] = {key, tokens, limit, period}
end
if refuse and wait > 0 then
  return tostring(wait)
end
for _, b in ipairs(buckets) do
  local tokens = math.min(b[3], b[2] - cost)
  redis.call('HSET', b[1], 'tokens', tostring(tokens), 'updated', tostring(now))
  -- A bucket left alone refills within its period plus its debt; then it is full
  -- and the same as absent.
  local debt = math.max(0, -tokens) / (b[3] / b[4])
  redis.call('PEXPIRE', b[1], math.ceil((b[4] + debt) * 1000))
end
return ''
"""


class RedisRateLimiter:
    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._fallback = MemoryRateLimiter()

    async def acquire(self, key: str, quotas: Sequence[Quota], cost: int = 1) -> float | None:
        if not quotas:
            return None
        wait = await self._store.run_script(
            _TAKE,
            _keys(key, quotas),
            _args(quotas, cost, refuse=True),
            lambda: self._local_acquire(key, quotas, cost),
        )
        return float(wait) if wait else None

    async def adjust(self, key: str, quotas: Sequence[Quota], delta: int) -> None:
        if not quotas:
            return
        await self._store.run_script(
            _TAKE,
            _keys(key, quotas),
            _args(quotas, delta, refuse=False),
            lambda: self._local_adjust(key, quotas, delta),
        )

    async def _local_acquire(self, key: str, quotas: Sequence[Quota], cost: int) -> bytes:
        wait = await self._fallback.acquire(key, quotas, cost)
        return str(wait).encode() if wait is not None else b""

    async def _local_adjust(self, key: str, quotas: Sequence[Quota], delta: int) -> bytes:
        await self._fallback.adjust(key, quotas, delta)
        return b""


def _keys(key: str, quotas: Sequence[Quota]) -> list[str]:
    return [f"rate:{key}:{quota.limit}/{quota.period:g}" for quota in quotas]


def _args(quotas: Sequence[Quota], cost: int, *, refuse: bool) -> list[object]:
    args: list[object] = [cost, 1 if refuse else 0]
    for quota in quotas:
        args += [quota.limit, quota.period]
    return args


def shared_rate_limiter(store: SharedStore) -> RateLimiter:
    """Buckets in Redis when the gateway shares state, else this process's."""
    if isinstance(store, MemoryStore):
        return MemoryRateLimiter()
    from gateway.state.storage.redis_store import RedisStore  # redis-py only when asked for

    if isinstance(store, RedisStore):
        return RedisRateLimiter(store)
    return MemoryRateLimiter()
