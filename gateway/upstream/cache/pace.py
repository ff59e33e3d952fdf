"""Refreshes that only age calls for, paced so a vendor's daily quota lasts the day.

Zoho's free plan allows 1,000 calls a day. Kept reads refreshed every fresh window
(30 s) under steady use spend that in about an hour; the gateway's share of the daily
quota then refuses every call, the last known answers stand in for their
stale-if-error window, and after that the vendor's fields fail for the rest of the day.

So for a vendor with a quota longer than an hour, the refreshes that nothing but an
entry's age calls for (stale-while-revalidate, and a read past it that would stand the
entry in on failure) draw on a token bucket: ``burst`` of the gateway's share of that
quota at once, the rest spread evenly over its period (``GATEWAY_QUOTA_BURST``). When the
bucket is empty the kept answer is given as it is, marked stale, until the bucket allows
a refresh or the entry ages past its stale-if-error window. What a change calls for is
never paced: a read superseded by a write or a change event, a read that decides a
write, a client's ``Cache-Control: no-cache`` and a first read go to the vendor within
its hard windows only, so changes still show at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core.ratelimit import Quota, RateLimiter

# Quotas longer than this are paced (Zoho's day); a minute's quota refills soon enough.
PACED_PERIOD = 3600.0


def refresh_quotas(shares: Sequence[Quota], burst: float) -> tuple[Quota, ...]:
    """A token bucket for each of ``shares`` longer than an hour: ``burst`` of it at once,
    refilled with the rest over its period. None when ``burst`` is 1 (not paced)."""
    if burst >= 1:
        return ()
    paced = []
    for quota in shares:
        if quota.period <= PACED_PERIOD:
            continue
        size = max(1, math.floor(quota.limit * burst))
        rate = max(quota.limit - size, 1) / quota.period
        paced.append(Quota(size, size / rate))
    return tuple(paced)


@dataclass(frozen=True, slots=True)
class RefreshPace:
    """One vendor's bucket of age-called refreshes, in the gateway's shared limiter."""

    limiter: RateLimiter
    key: str
    quotas: tuple[Quota, ...]

    async def allows(self) -> bool:
        """Takes one refresh from the bucket, if it has one."""
        return await self.limiter.acquire(self.key, self.quotas) is None
