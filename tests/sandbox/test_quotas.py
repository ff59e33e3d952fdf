"""Each sandbox's quota is the vendor's documented one unless ``quotas=`` or its
``<VENDOR>_SANDBOX_QUOTA`` variable says otherwise, counted on the injected clock."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from gateway.core.sandbox import Clock, resolve_quota
from gateway.vendors.fakturoid import sandbox as fakturoid
from gateway.vendors.invoiced import sandbox as invoiced
from gateway.vendors.zoho import sandbox as zoho
from tests.sandbox.test_fakturoid_sandbox import TODOS_URL, bearer
from tests.sandbox.test_fakturoid_sandbox import client_for as fakturoid_client
from tests.sandbox.test_fakturoid_sandbox import grant as fakturoid_grant
from tests.sandbox.test_zoho_sandbox import API, PROJECT_ID, client_for
from tests.sandbox.test_zoho_sandbox import grant as zoho_grant

INVOICED_AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox_invoiced_key:").decode()}


async def zoho_calls(app: Starlette, count: int) -> list[httpx.Response]:
    async with client_for(app) as client:
        headers = {
            "Authorization": f"Zoho-oauthtoken {await zoho_grant(client)}",
            "X-com-zoho-invoice-organizationid": zoho.ORGANIZATION_ID,
        }
        url = f"{API}/projects/{PROJECT_ID}/tasks"
        return [await client.get(url, headers=headers) for _ in range(count)]


def test_the_variable_reads_off_on_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("", 100), ("on", 100), ("off", None), ("7", 7)]:
        monkeypatch.setenv("X_SANDBOX_QUOTA", raw)
        assert resolve_quota(None, "X_SANDBOX_QUOTA", 100) == expected
    monkeypatch.setenv("X_SANDBOX_QUOTA", "lots")
    with pytest.raises(ValueError, match="X_SANDBOX_QUOTA"):
        resolve_quota(None, "X_SANDBOX_QUOTA", 100)
    assert resolve_quota(False, "X_SANDBOX_QUOTA", 100) is None
    assert resolve_quota(True, "X_SANDBOX_QUOTA", 100) == 100


async def test_zoho_refuses_the_call_past_its_quota_until_the_minute_rolls_over() -> None:
    clock = Clock()
    app = zoho.create_app(clock=clock, quotas=3)
    calls = await zoho_calls(app, 4)
    assert [r.status_code for r in calls] == [200, 200, 200, 429]
    limited = calls[3]
    assert limited.json() == {
        "code": 45,
        "message": (
            "You have made too many requests continuously. Please try again after some time."
        ),
    }
    assert limited.headers["X-Rate-Limit-Limit"] == "3"
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert 1 <= int(limited.headers["X-Rate-Limit-Reset"]) <= 60
    clock.advance(60)
    assert [r.status_code for r in await zoho_calls(app, 1)] == [200]


async def test_zoho_quota_is_100_a_minute_by_default_and_off_by_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    # Pinned to the start of a minute, so all 101 calls fall in one window.
    clock.advance(60 - clock.now() % 60 + 0.5)
    limited = await zoho_calls(zoho.create_app(clock=clock), 101)
    assert [r.status_code for r in limited].count(429) == 1
    assert limited[-1].status_code == 429
    monkeypatch.setenv("ZOHO_SANDBOX_QUOTA", "off")
    unlimited = await zoho_calls(zoho.create_app(clock=clock), 101)
    assert {r.status_code for r in unlimited} == {200}
    assert "X-Rate-Limit-Limit" not in unlimited[-1].headers


async def test_zoho_daily_limit_refuses_with_code_45_until_the_next_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    # Pinned to the start of a day; a minute passes between calls, so only the day's
    # limit can refuse.
    clock.advance(86_400 - clock.now() % 86_400 + 0.5)
    app = zoho.create_app(clock=clock, quotas=100, daily_quota=3)
    statuses = []
    for _ in range(4):
        [answer] = await zoho_calls(app, 1)
        statuses.append(answer.status_code)
        clock.advance(60)
    assert statuses == [200, 200, 200, 429]
    assert answer.json()["code"] == 45
    clock.advance(86_400)
    assert [r.status_code for r in await zoho_calls(app, 1)] == [200]


async def test_zoho_daily_limit_is_1000_by_default_and_set_by_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    clock.advance(86_400 - clock.now() % 86_400 + 0.5)
    app = zoho.create_app(clock=clock)
    assert app.state.store.daily_limit == 1000
    monkeypatch.setenv("ZOHO_SANDBOX_DAILY_QUOTA", "2")
    calls = await zoho_calls(zoho.create_app(clock=clock, quotas=False), 3)
    assert [r.status_code for r in calls] == [200, 200, 429]
    monkeypatch.delenv("ZOHO_SANDBOX_DAILY_QUOTA")
    # Both off when the per-minute quota is off and the daily one is not set.
    assert zoho.create_app(clock=clock, quotas=False).state.store.daily_limit is None


async def fakturoid_calls(app: Starlette, count: int) -> list[httpx.Response]:
    async with fakturoid_client(app) as client:
        token = await fakturoid_grant(client)
        return [await client.get(TODOS_URL, headers=bearer(token)) for _ in range(count)]


async def test_fakturoid_quota_by_argument_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    app = fakturoid.create_app(clock=clock, quotas=2)
    calls = await fakturoid_calls(app, 3)
    assert [r.status_code for r in calls] == [200, 200, 429]
    assert calls[2].headers["X-RateLimit-Policy"] == "default;q=2;w=60"
    assert calls[2].headers["Retry-After"] == "60"
    assert set(calls[2].json()) == {"error", "error_description"}
    clock.advance(60)
    assert [r.status_code for r in await fakturoid_calls(app, 1)] == [200]
    monkeypatch.setenv("FAKTUROID_SANDBOX_QUOTA", "off")
    unlimited = await fakturoid_calls(fakturoid.create_app(rate_limit=2), 5)
    assert {r.status_code for r in unlimited} == {200}
    assert "X-RateLimit" not in unlimited[-1].headers


class Held:
    """Request bodies that do not finish until released, so requests stay in flight;
    ``all_in`` is set once ``count`` of them are being read (the sandbox has counted them)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.release = asyncio.Event()
        self.all_in = asyncio.Event()

    async def body(self) -> AsyncIterator[bytes]:
        self.count -= 1
        if self.count == 0:
            self.all_in.set()
        await self.release.wait()
        yield b"{}"


async def test_invoiced_counts_concurrent_requests_per_key() -> None:
    held = Held(2)
    app = invoiced.create_app(quotas=2)
    async with client_for(app) as client:
        headers = {**INVOICED_AUTH, "Content-Type": "application/json"}
        slow = [
            asyncio.create_task(client.post("/tasks", headers=headers, content=held.body()))
            for _ in range(2)
        ]
        await held.all_in.wait()
        limited = await client.get("/tasks", headers=INVOICED_AUTH)
        other_key = await client.get("/tasks", auth=("another_key", ""))
        held.release.set()
        await asyncio.gather(*slow)
        after = await client.get("/tasks", headers=INVOICED_AUTH)
    assert limited.status_code == 429
    assert limited.json() == {
        "type": "rate_limit_error",
        "message": "Too many concurrent requests for this API key.",
    }
    assert other_key.status_code == 401  # another key has its own count
    assert after.status_code == 200


async def test_invoiced_quota_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICED_SANDBOX_QUOTA", "off")
    held = Held(21)
    app = invoiced.create_app()
    async with client_for(app) as client:
        headers = {**INVOICED_AUTH, "Content-Type": "application/json"}
        slow = [
            asyncio.create_task(client.post("/tasks", headers=headers, content=held.body()))
            for _ in range(21)
        ]
        await held.all_in.wait()
        listed = await client.get("/tasks", headers=INVOICED_AUTH)
        held.release.set()
        await asyncio.gather(*slow)
    assert listed.status_code == 200
