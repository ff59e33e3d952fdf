"""Client budgets as token buckets behind a small interface.

Clients (requests and upstream calls a minute) are limited through
:class:`RateLimiter`: the gateway's own policy, where a burst is welcome. Vendors'
quotas are counted in exact windows instead (``gateway.core.windows``): a vendor
refuses past its limit in any window, which a bucket can overrun. The in-memory
implementation here holds one process's buckets; the interface is async so that a
shared store (Redis) can replace it without touching the callers.

A :class:`Quota` of ``limit`` per ``period`` seconds is a bucket of ``limit``
tokens refilled at ``limit / period`` a second: a burst of the whole quota is
allowed, then the steady rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

MINUTE = 60.0
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    period: float

    @property
    def rate(self) -> float:
        return self.limit / self.period

    def describe(self) -> str:
        unit = {MINUTE: "minute", DAY: "day"}.get(self.period, f"{self.period:g} s")
        return f"{self.limit} a {unit}"


def per_minute(limit: int) -> tuple[Quota, ...]:
    """``limit`` a minute, or no quota at all for 0 (the settings' "off")."""
    return (Quota(limit, MINUTE),) if limit > 0 else ()


class RateLimiter(Protocol):
    async def acquire(self, key: str, quotas: Sequence[Quota], cost: int = 1) -> float | None:
        """Take ``cost`` from each of ``key``'s ``quotas`` at once and return None, or take
        nothing and return the seconds until all of them could give it."""
        ...

    async def adjust(self, key: str, quotas: Sequence[Quota], delta: int) -> None:
        """Take ``delta`` more (or give back ``-delta``) without refusing: a cost known
        only afterwards. A bucket may go below empty; later requests wait for it."""
        ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class MemoryRateLimiter:
    """This process's buckets. Full buckets are forgotten once there are many, so
    clients that come and go (addresses, short-lived tokens) do not accumulate."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[tuple[str, Quota], _Bucket] = {}

    def _bucket(self, key: str, quota: Quota, now: float) -> _Bucket:
        bucket = self._buckets.get((key, quota))
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[(key, quota)] = _Bucket(float(quota.limit), now)
            return bucket
        refill = (now - bucket.updated) * quota.rate
        bucket.tokens = min(float(quota.limit), bucket.tokens + refill)
        bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        for (key, quota), bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * quota.rate >= quota.limit:
                del self._buckets[(key, quota)]

    async def acquire(self, key: str, quotas: Sequence[Quota], cost: int = 1) -> float | None:
        now = self._clock()
        buckets = [(quota, self._bucket(key, quota, now)) for quota in quotas]
        waits = [
            # A cost above a whole quota is capped at the quota, or it could never pass.
            (min(cost, quota.limit) - bucket.tokens) / quota.rate
            for quota, bucket in buckets
            if bucket.tokens < min(cost, quota.limit)
        ]
        if waits:
            return max(waits)
        for _, bucket in buckets:
            bucket.tokens -= cost
        return None

    async def adjust(self, key: str, quotas: Sequence[Quota], delta: int) -> None:
        now = self._clock()
        for quota in quotas:
            bucket = self._bucket(key, quota, now)
            bucket.tokens = min(float(quota.limit), bucket.tokens - delta)


def retry_after(seconds: float) -> float:
    """Seconds to tell a client, rounded up to a tenth so that waiting that long suffices."""
    return max(0.1, -(-round(seconds * 1000) // 100) / 10)


@dataclass(frozen=True, slots=True)
class CallBudget:
    """A limiter and the quotas it applies: one per kind of thing a client spends."""

    limiter: RateLimiter
    quotas: tuple[Quota, ...]
