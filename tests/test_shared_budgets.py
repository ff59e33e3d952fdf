"""Rate budgets and circuit breakers shared by several gateways through one real Redis.

Two app instances (as two processes would be) in front of the same sandboxes:
a vendor's quota and a client's budget are spent once between them, and a
breaker opened by one makes the other fail fast without calling the vendor.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from gateway.auth.api_keys import hash_key
from gateway.config import Settings
from gateway.upstream import breaker
from gateway.upstream.breaker import SYNC_INTERVAL
from tests.conftest import Gateway, codes, gateway_settings
from tests.redis_server import RedisServer
from tests.test_breaker import VendorCalls
from tests.test_shared_state import gateways

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

TODOS = "{ todos(first: 1) { nodes { id } } }"
TASKS = "{ tasks(first: 1) { nodes { id } } }"


async def post(gateway: Gateway, query: str, api_key: str) -> httpx.Response:
    return await gateway.client.post(
        "/graphql", json={"query": query}, headers={"X-API-Key": api_key}
    )


async def test_two_gateways_spend_one_vendor_quota(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_REDIS_URL=redis.url,
        FAKTUROID_REQUESTS_PER_MINUTE="3",
        GATEWAY_QUOTA_RESERVE="0",
    )
    async with gateways(settings) as (first, second):
        calls = VendorCalls("/fakturoid")
        first.inject(calls)
        # The token grant and a page on one, a page on the other (the token is shared).
        assert codes(await first.execute(TODOS)) == []
        assert codes(await second.execute(TODOS)) == []
        assert calls.count == 3
        for gateway in (first, second):
            body = await gateway.execute(TODOS)
            assert codes(body) == ["RATE_LIMITED"]
            assert body["errors"][0]["extensions"]["vendor"] == "fakturoid"
            assert 50 < body["errors"][0]["extensions"]["retryAfter"] <= 60
        assert calls.count == 3  # refused before sending, on either gateway


async def test_two_gateways_spend_one_clients_request_budget(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    keys = ";".join(f"{name}:{hash_key(name + '-key')}:*:read" for name in ("alice", "bob"))
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_REDIS_URL=redis.url,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=keys,
        GATEWAY_CLIENT_REQUESTS_PER_MINUTE="2",
    )
    async with gateways(settings) as (first, second):
        assert (await post(first, TASKS, "alice-key")).status_code == 200
        assert (await post(second, TASKS, "alice-key")).status_code == 200
        for gateway in (first, second):
            refused = await post(gateway, TASKS, "alice-key")
            assert refused.status_code == 429
            assert codes(refused.json()) == ["RATE_LIMITED"]
        # Another client still has its own allowance, on both.
        assert (await post(second, TASKS, "bob-key")).status_code == 200
        assert (await post(first, TASKS, "bob-key")).status_code == 200


async def test_a_breaker_opened_by_one_gateway_fails_fast_on_the_other(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_REDIS_URL=redis.url,
        GATEWAY_BREAKER_FAILURES="3",
        GATEWAY_BREAKER_COOLDOWN="1",
    )
    async with gateways(settings) as (first, second):
        calls = VendorCalls("/invoiced")
        first.inject(calls)
        assert codes(await second.execute(TASKS)) == []
        calls.respond = lambda request: httpx.Response(503, text="down")
        for _ in range(3):
            assert codes(await first.execute(TASKS)) == ["UPSTREAM_UNAVAILABLE"]
        assert calls.count == 1 + 3
        # The other gateway's view is at most SYNC_INTERVAL old.
        await asyncio.sleep(SYNC_INTERVAL)
        body = await second.execute(TASKS)
        assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
        assert 0 < body["errors"][0]["extensions"]["retryAfter"] <= 1
        assert calls.count == 1 + 3  # failed fast: the vendor was not called

        # After the cool-down one probe (here on the first) closes it for both.
        calls.respond = None
        await asyncio.sleep(1.0)
        assert codes(await first.execute(TASKS)) == []
        await asyncio.sleep(SYNC_INTERVAL)
        assert codes(await second.execute(TASKS)) == []
        assert calls.count == 1 + 3 + 2


async def test_the_shared_breaker_reads_redis_once_per_interval_not_per_call(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    # Fifty identical reads, each its own call: the breaker is consulted per call.
    settings = gateway_settings(
        monkeypatch, GATEWAY_REDIS_URL=redis.url, GATEWAY_COLLAPSE_READS="false"
    )
    cached = await breaker_reads_for_50_calls(settings, redis)
    monkeypatch.setattr(breaker, "SYNC_INTERVAL", 0.0)
    uncached = await breaker_reads_for_50_calls(settings, redis)
    # One read per SYNC_INTERVAL while calls keep coming, against one per call.
    assert 1 <= cached <= 5
    assert uncached >= 50


async def breaker_reads_for_50_calls(settings: Settings, redis: RedisServer) -> int:
    client = Redis.from_url(redis.url)
    try:
        async with gateways(settings, count=1) as (gateway,):
            calls = VendorCalls("/invoiced")
            gateway.inject(calls)
            before = await redis_gets(client)
            bodies = await asyncio.gather(*(gateway.execute(TASKS) for _ in range(50)))
            reads = await redis_gets(client) - before
    finally:
        await client.aclose()
    assert [codes(body) for body in bodies] == [[]] * 50
    assert calls.count == 50
    return reads


async def redis_gets(client: Redis) -> int:
    stats = await client.info("commandstats")
    get = stats.get("cmdstat_get", {})
    return int(get.get("calls", 0)) if isinstance(get, dict) else 0
