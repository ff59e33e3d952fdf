"""Vendor quotas counted in sliding windows: never more than the limit in any window of
the quota's length, wherever it starts, in process memory (on an injected clock) and in
a real Redis (on Redis's clock, so counts are checked, not times)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.core.ratelimit import DAY, MINUTE, Quota
from gateway.core.windows import MemoryWindowLimiter, share
from gateway.state.storage.quota_windows import RedisWindowLimiter
from gateway.state.storage.redis_store import KEY_PREFIX, RedisStore
from tests.redis_server import redis_server


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def most_in_any_window(times: list[float], period: float) -> int:
    """The most of ``times`` that fall within one half-open window of ``period``: the
    busiest window starts at one of them."""
    return max((sum(1 for t in times if start <= t < start + period) for start in times), default=0)


async def test_a_burst_at_the_end_of_a_window_and_one_at_the_start_of_the_next_pass_once() -> None:
    clock = Clock()
    limiter = MemoryWindowLimiter(clock=clock)
    quotas = (Quota(5, 10.0),)
    clock.now = 9.5
    assert [await limiter.acquire("v", quotas) for _ in range(5)] == [None] * 5
    # A new fixed window would begin at 10: a bucket refilled by then would let 5 more by.
    clock.now = 10.0
    wait = await limiter.acquire("v", quotas)
    assert wait == pytest.approx(9.5)
    clock.now = 19.25
    assert await limiter.acquire("v", quotas) is not None
    clock.now = 19.5
    assert [await limiter.acquire("v", quotas) for _ in range(6)] == [None] * 5 + [
        pytest.approx(10.0)
    ]


async def test_no_window_anywhere_sees_more_than_the_limit_and_none_refuses_needlessly() -> None:
    clock = Clock()
    limiter = MemoryWindowLimiter(clock=clock)
    quotas = (Quota(7, 6.0),)
    passed: list[float] = []
    refused: list[float] = []
    # Bursts and lulls of every size, at times that fall across any fixed window.
    for step in range(400):
        clock.now = step * 0.37 + (step % 11) * 0.03
        for _ in range(step % 5):
            wait = await limiter.acquire("v", quotas)
            (passed if wait is None else refused).append(clock.now)
    assert most_in_any_window(passed, 6.0) == 7
    # A call was refused only when the 6 s before it already held 7.
    assert refused
    for t in refused:
        assert sum(1 for p in passed if t - 6.0 < p <= t) == 7


async def test_every_quota_of_a_key_counts_a_call_or_none_does() -> None:
    clock = Clock()
    limiter = MemoryWindowLimiter(clock=clock)
    quotas = (Quota(3, MINUTE), Quota(4, DAY))
    assert [await limiter.acquire("zoho", quotas) for _ in range(4)] == [None] * 3 + [
        pytest.approx(MINUTE)
    ]
    clock.now = MINUTE
    assert await limiter.acquire("zoho", quotas) is None  # the day's 4th
    # The minute has room for two more; the day does not, until the first call's day ends.
    assert await limiter.acquire("zoho", quotas) == pytest.approx(DAY - MINUTE)
    assert await limiter.acquire("other", quotas) is None


def test_the_gateways_share_leaves_the_reserve_to_the_accounts_other_users() -> None:
    quotas = (Quota(10, MINUTE), Quota(400, MINUTE), Quota(1000, DAY), Quota(1, MINUTE))
    assert [quota.limit for quota in share(quotas, 0.2)] == [8, 320, 800, 1]
    assert share(quotas, 0.0) == quotas


@pytest.fixture
async def redis_limiter(tmp_path: Path) -> AsyncIterator[tuple[RedisWindowLimiter, Redis]]:
    """A limiter on a real Redis, and a client of its own to read what the script wrote."""
    with redis_server(tmp_path) as server:
        store, reader = RedisStore.from_url(server.url), Redis.from_url(server.url)
        try:
            yield RedisWindowLimiter(store), reader
        finally:
            await store.aclose()
            await reader.aclose()


async def burst(limiter: RedisWindowLimiter, quotas: tuple[Quota, ...], calls: int) -> list[float]:
    """The waits of the refused calls of ``calls`` made at once: as many passed as are missing."""
    waits = [await limiter.acquire("v", quotas) for _ in range(calls)]
    return [wait for wait in waits if wait is not None]


async def test_redis_windows_refuse_past_the_limit_across_a_window_boundary(
    redis_limiter: tuple[RedisWindowLimiter, Redis],
) -> None:
    limiter, client = redis_limiter
    quotas = (Quota(5, 2.0),)
    assert await burst(limiter, quotas, 1) == []
    # Late in the window: 4 more pass, the rest are refused until the first call is 2 s old.
    await asyncio.sleep(1.2)
    refused = await burst(limiter, quotas, 10)
    assert len(refused) == 6
    assert all(0 < wait <= 2.0 for wait in refused)
    # Early in the next window: only the first call has left it; a bucket would be full.
    await asyncio.sleep(max(refused))
    assert len(await burst(limiter, quotas, 10)) == 9
    # Redis's own record of the calls it let through: never more than 5 in any 2 s.
    entries = await client.zrange(f"{KEY_PREFIX}quota:v:2", 0, -1, withscores=True)
    times = [score for _, score in entries]
    assert len(times) == 5
    assert most_in_any_window(times, 2.0) == 5


async def test_redis_counts_a_call_against_every_quota_or_none(
    redis_limiter: tuple[RedisWindowLimiter, Redis],
) -> None:
    limiter, client = redis_limiter
    quotas = (Quota(5, 2.0), Quota(3, MINUTE))
    refused = await burst(limiter, quotas, 5)
    assert len(refused) == 2
    # The minute's quota refused them, so the wait is the minute's, not the 2 s window's.
    assert all(MINUTE - 5 < wait <= MINUTE for wait in refused)
    assert await client.zcard(f"{KEY_PREFIX}quota:v:2") == 3
    assert await client.zcard(f"{KEY_PREFIX}quota:v:60") == 3
