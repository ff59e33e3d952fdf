"""Vendor quotas as sliding-window logs: never more than a quota's ``limit`` calls in any
window of its ``period``.

A vendor counts its quota over a window (Zoho a minute and a day, Fakturoid 60 s) and
answers 429 past it. A token bucket of the same size lets a full window's burst through
and then the steady rate, so one window can see up to twice the limit: fine for the
gateway's own client budgets (``gateway.core.ratelimit``), not for a vendor's. Here each
key keeps the times of its last ``limit`` calls per quota; a call is let through only if
fewer than ``limit`` of them fall within the last ``period`` seconds, which holds for every
window, wherever it starts. Memory: at most ``limit`` timestamps per key and quota.

Windows are half-open: a call made at ``t`` counts until ``t + period`` (excluded).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from gateway.core.ratelimit import Quota


class WindowLimiter(Protocol):
    async def acquire(self, key: str, quotas: Sequence[Quota]) -> float | None:
        """Count one call against each of ``key``'s ``quotas`` at once and return None,
        or count nothing and return the seconds until all of them have room."""
        ...


def share(quotas: Sequence[Quota], reserve: float) -> tuple[Quota, ...]:
    """The part of each quota the gateway may use, leaving ``reserve`` (a fraction) of it
    to the account's other users (the vendor's own UI, other integrations). Rounded down,
    but at least one call a window, or the vendor could never be called at all."""
    # The epsilon keeps 10 x (1 - 0.2) at 8, not 7, despite binary fractions.
    return tuple(
        Quota(max(1, math.floor(quota.limit * (1 - reserve) + 1e-9)), quota.period)
        for quota in quotas
    )


class MemoryWindowLimiter:
    """This process's windows. Keys whose windows have emptied are forgotten once there
    are many, so that keys that come and go do not accumulate."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        self._clock = clock
        self._max_keys = max_keys
        self._logs: dict[tuple[str, float], deque[float]] = {}

    def _log(self, key: str, quota: Quota, now: float) -> deque[float]:
        log = self._logs.get((key, quota.period))
        if log is None:
            if len(self._logs) >= self._max_keys:
                self._forget_empty(now)
            log = self._logs[(key, quota.period)] = deque()
        while log and log[0] <= now - quota.period:
            log.popleft()
        return log

    def _forget_empty(self, now: float) -> None:
        for (key, period), log in list(self._logs.items()):
            if not log or log[-1] <= now - period:
                del self._logs[(key, period)]

    async def acquire(self, key: str, quotas: Sequence[Quota]) -> float | None:
        now = self._clock()
        logs = [(quota, self._log(key, quota, now)) for quota in quotas]
        waits = [
            # Room comes when the call that leaves exactly limit - 1 after it expires.
            log[len(log) - quota.limit] + quota.period - now
            for quota, log in logs
            if len(log) >= quota.limit
        ]
        if waits:
            return max(waits)
        for quota, log in logs:
            log.append(now)
            # A quota lowered since (a new reserve) leaves more than limit: keep limit.
            while len(log) > quota.limit:
                log.popleft()
        return None
