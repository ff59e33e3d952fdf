"""Refreshes that only age calls for are paced to a vendor's daily quota: client ->
gateway -> adapter -> sandbox, with the read cache's clock injected.

Zoho here allows 20 calls a day: the gateway's share is 16, and refreshes of aged reads
may take 3 of them at once (GATEWAY_QUOTA_BURST 0.2), the rest spread over the day. Past
that, an aged entry answers as it is, marked stale, at no call; a change still has its
reads made again at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from gateway.core.ratelimit import DAY, Quota
from gateway.state.changes import ChangeEvent
from gateway.upstream.cache.pace import refresh_quotas
from gateway.vendors.zoho.vendor import PROJECT_TYPE, ZOHO
from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_freshness import Clock, freshness, read_cache_of
from tests.test_idempotent_writes import total_calls

PROJECTS = "{ projects(first: 2) { nodes { id zohoId } } }"
# Zoho's default windows (gateway/vendors/zoho/settings.py).
FRESH, REVALIDATE, IF_ERROR = 30.0, 90.0, 1800.0
BURST = 3  # floor(16 x 0.2)


@asynccontextmanager
async def paced_gateway(
    monkeypatch: pytest.MonkeyPatch, burst: str
) -> AsyncIterator[tuple[Gateway, Clock]]:
    async with gateway_with(
        monkeypatch, ZOHO_REQUESTS_PER_DAY="20", GATEWAY_QUOTA_BURST=burst, GATEWAY_POLL="false"
    ) as gateway:
        clock = Clock()
        read_cache_of(gateway).clock = clock
        yield gateway, clock


@pytest.fixture
async def paced(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Gateway, Clock]]:
    async with paced_gateway(monkeypatch, "0.2") as running:
        yield running


async def aged_read(gateway: Gateway, clock: Clock, seconds: float) -> dict[str, object]:
    clock.now += seconds
    body = await gateway.execute(PROJECTS, accounting=True)
    await asyncio.wait_for(read_cache_of(gateway).settled(), timeout=5)
    assert codes(body) == []
    return body


def project_reads(seen: list[httpx.Request]) -> int:
    return sum(request.url.path.endswith("/projects") for request in seen)


async def test_refreshes_of_aged_reads_stop_at_the_burst_and_answer_stale(
    paced: tuple[Gateway, Clock],
) -> None:
    gateway, clock = paced
    first = await gateway.execute(PROJECTS)
    calls = gateway.record("/zoho")
    for _ in range(BURST):
        await aged_read(gateway, clock, FRESH + 1)
    assert project_reads(calls) == BURST

    # The bucket is empty: past fresh, the entry answers as it is, and is not refreshed.
    stale = await aged_read(gateway, clock, FRESH + 1)
    assert total_calls(stale) == 0
    assert stale["data"] == first["data"]
    assert freshness(stale)["ZOHO"]["stale"] is True
    # Past revalidate too: it stands in, still at no call.
    older = await aged_read(gateway, clock, REVALIDATE + 1)
    assert total_calls(older) == 0
    assert freshness(older)["ZOHO"] == {"age": int(FRESH + 1 + REVALIDATE + 1), "stale": True}
    assert project_reads(calls) == BURST

    # A change is not paced: the superseded read goes to the vendor at once.
    changed = first["data"]["projects"]["nodes"][0]["id"]  # type: ignore[index]
    await gateway.app.state.changes.publish(
        ChangeEvent(ZOHO, PROJECT_TYPE, changed, "updated", datetime.now(UTC))
    )
    await asyncio.wait_for(read_cache_of(gateway).settled(), timeout=5)
    after = await gateway.execute(PROJECTS, accounting=True)
    assert total_calls(after) == 1
    assert freshness(after)["ZOHO"] == {"age": 0, "stale": False}


async def test_a_burst_of_one_does_not_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    async with paced_gateway(monkeypatch, "1") as (gateway, clock):
        await gateway.execute(PROJECTS)
        calls = gateway.record("/zoho")
        for _ in range(BURST + 2):
            await aged_read(gateway, clock, FRESH + 1)
        assert project_reads(calls) == BURST + 2


def test_only_quotas_longer_than_an_hour_are_paced() -> None:
    minute, day = Quota(80, 60.0), Quota(800, DAY)
    [bucket] = refresh_quotas([minute, day], 0.2)
    assert bucket.limit == 160
    # Refilled with the other 640 over the day.
    assert bucket.rate * DAY == pytest.approx(640)
    assert refresh_quotas([minute, day], 1.0) == ()
    assert refresh_quotas([minute], 0.2) == ()
