"""Per-client rate limits (requests and upstream calls a minute) and per-vendor
outbound budgets: each refusal is RATE_LIMITED with retryAfter, and costs no
upstream call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.auth.api_keys import hash_key
from gateway.core.ratelimit import MINUTE, MemoryRateLimiter, Quota
from tests.conftest import Gateway, codes, gateway_settings, running_gateway

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


async def post(gateway: Gateway, query: str, **headers: str) -> httpx.Response:
    return await gateway.client.post(
        "/graphql",
        json={"query": query},
        headers={"X-Upstream-Accounting": "1", **headers},
    )


async def test_requests_past_a_clients_minute_are_429_and_reach_no_vendor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = ";".join(f"{name}:{hash_key(name + '-key')}:*:read" for name in ("alice", "bob"))
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=keys,
        GATEWAY_CLIENT_REQUESTS_PER_MINUTE="2",
    )
    query = "{ tasks(first: 1) { nodes { id } } }"
    async with running_gateway(settings) as gateway:
        for _ in range(2):
            assert (await post(gateway, query, **{"X-API-Key": "alice-key"})).status_code == 200
        recorder = Recorder()
        gateway.inject(recorder)
        refused = await post(gateway, query, **{"X-API-Key": "alice-key"})
        assert refused.status_code == 429
        assert codes(refused.json()) == ["RATE_LIMITED"]
        retry = refused.json()["errors"][0]["extensions"]["retryAfter"]
        # Two a minute: one more request is allowed about 30 seconds later.
        assert 25 < retry <= 31
        assert int(refused.headers["retry-after"]) >= retry
        assert recorder.requests == []
        # Another client has its own allowance.
        assert (await post(gateway, query, **{"X-API-Key": "bob-key"})).status_code == 200


async def test_an_operation_past_the_clients_upstream_call_budget_is_refused_before_any_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_CLIENT_UPSTREAM_CALLS_PER_MINUTE="3")
    async with running_gateway(settings) as gateway:
        first = (await post(gateway, "{ tasks(first: 2) { pageInfo { endCursor } } }")).json()
        assert first["extensions"]["upstreamCalls"]["total"] == 1
        cursor = first["data"]["tasks"]["pageInfo"]["endCursor"]
        # Estimated at 2 calls (the window after a cursor may straddle two pages), made 1:
        # the budget is charged what was really spent.
        after = f'{{ tasks(first: 2, after: "{cursor}") {{ nodes {{ id }} }} }}'
        second = (await post(gateway, after)).json()
        assert "errors" not in second and second["extensions"]["upstreamCalls"]["total"] == 1
        # 3 - 1 - 1 = 1 call left: an operation estimated at 1 passes, at 2 does not.
        recorder = Recorder()
        gateway.inject(recorder)
        two = "{ a: tasks(first: 1) { nodes { id } } b: tasks(first: 1) { nodes { id } } }"
        refused = (await post(gateway, two)).json()
        assert refused["data"] is None
        assert codes(refused) == ["RATE_LIMITED"]
        assert refused["errors"][0]["extensions"]["retryAfter"] > 0
        assert refused["extensions"]["upstreamCalls"]["total"] == 0
        assert recorder.requests == []
        third = (await post(gateway, "{ tasks(first: 1) { nodes { id } } }")).json()
        assert "errors" not in third
        assert codes((await post(gateway, "{ tasks(first: 1) { nodes { id } } }")).json()) == [
            "RATE_LIMITED"
        ]


async def test_a_vendors_outbound_quota_is_shared_by_every_client_and_refused_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = ";".join(f"{name}:{hash_key(name + '-key')}:*:read" for name in ("alice", "bob"))
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=keys,
        FAKTUROID_REQUESTS_PER_MINUTE="3",
        GATEWAY_QUOTA_RESERVE="0",
    )
    todos = "{ todos(first: 1) { nodes { id } } }"
    async with running_gateway(settings) as gateway:
        recorder = Recorder()
        gateway.inject(recorder)
        # The token grant and a page, then another page: Fakturoid's quota of 3 is spent.
        for _ in range(2):
            body = (await post(gateway, todos, **{"X-API-Key": "alice-key"})).json()
            assert "errors" not in body
        assert len(recorder.requests) == 3
        body = (await post(gateway, todos, **{"X-API-Key": "bob-key"})).json()
        assert body["data"] == {"todos": None}
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["vendor"] == "fakturoid"
        # The window has room again when the first call is a minute old.
        assert 50 < error["extensions"]["retryAfter"] <= 60
        assert "Fakturoid" in error["message"]
        assert len(recorder.requests) == 3  # nothing more was sent
        # Other vendors are not held back by Fakturoid's quota.
        tasks = await post(
            gateway, "{ tasks(first: 1) { nodes { id } } }", **{"X-API-Key": "bob-key"}
        )
        assert "errors" not in tasks.json()


async def test_the_gateway_leaves_the_quota_reserve_to_the_accounts_other_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fakturoid's 10 a minute, 0.2 of it reserved (the default): the gateway makes 8.
    settings = gateway_settings(monkeypatch, FAKTUROID_REQUESTS_PER_MINUTE="10")
    todos = "{ todos(first: 1) { nodes { id } } }"
    async with running_gateway(settings) as gateway:
        recorder = Recorder()
        gateway.inject(recorder)
        # The token grant and 7 pages.
        for _ in range(7):
            assert "errors" not in (await post(gateway, todos)).json()
        assert len(recorder.requests) == 8
        for _ in range(3):
            body = (await post(gateway, todos)).json()
            [error] = body["errors"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["vendor"] == "fakturoid"
            assert 50 < error["extensions"]["retryAfter"] <= 60
            assert "8 of 10 a minute" in error["message"]
        assert len(recorder.requests) == 8  # the 9th call and later were never sent


def test_vendors_declare_their_quotas_in_their_own_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.vendors.fakturoid import PLUGIN as FAKTUROID
    from gateway.vendors.invoiced import PLUGIN as INVOICED
    from gateway.vendors.zoho import PLUGIN as ZOHO

    settings = gateway_settings(monkeypatch)
    assert settings.section(FAKTUROID).outbound_quotas == (Quota(400, MINUTE),)
    assert [q.describe() for q in settings.section(ZOHO).outbound_quotas] == [
        "100 a minute",
        "1000 a day",
    ]
    assert settings.section(INVOICED).outbound_quotas == ()


async def test_buckets_refill_at_the_quotas_rate_and_take_costs_known_afterwards() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    quotas = (Quota(60, MINUTE),)
    assert await limiter.acquire("c", quotas, 50) is None
    wait: Any = await limiter.acquire("c", quotas, 20)
    assert wait == pytest.approx(10.0)  # 10 tokens left, 1 a second
    now[0] = 10.0
    assert await limiter.acquire("c", quotas, 20) is None
    await limiter.adjust("c", quotas, -15)  # 15 of those were not spent after all
    assert await limiter.acquire("c", quotas, 15) is None
    await limiter.adjust("c", quotas, 30)  # more was spent than taken: the bucket owes
    assert await limiter.acquire("c", quotas, 1) == pytest.approx(31.0)
    # A cost above the whole quota waits for a full bucket instead of never passing.
    now[0] = 1000.0
    assert await limiter.acquire("c", quotas, 500) is None
    assert await limiter.acquire("other", quotas, 60) is None
