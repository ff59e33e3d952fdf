"""Zoho OAuth: tokens that really expire in the sandbox, refresh during a request,
one refresh for many concurrent requests, static tokens, and refused refreshes.

Refreshes are counted at the sandbox: its store keeps every access token it
ever issued, so ``len(store.tokens)`` is the number of successful refreshes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from gateway.vendors.zoho import PLUGIN as ZOHO_PLUGIN
from gateway.vendors.zoho.sandbox import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from tests.conftest import Gateway, codes, gateway_settings

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

PROJECTS = "{ projects(first: 2) { nodes { name } } }"
TOKEN_PATH = "/oauth/v2/token"


def calls(body: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    """(method, path, status) of every Zoho call, token calls included."""
    return [
        (c["method"], c["path"], c["status"])
        for c in body["extensions"]["upstreamCalls"]["calls"]
        if c["vendor"] == "zoho"
    ]


@dataclass
class Custom:
    client: httpx.AsyncClient
    sandbox: Starlette
    app: Starlette

    @property
    def zoho(self) -> Starlette:
        zoho: Starlette = self.sandbox.state.sandboxes["/zoho"]
        return zoho

    async def execute(self, query: str, *, accounting: bool = False) -> dict[str, Any]:
        headers = {"X-Upstream-Accounting": "1"} if accounting else {}
        response = await self.client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


class YieldingTransport(httpx.AsyncBaseTransport):
    """Lets other tasks run before each upstream request, as a real network would.

    In-process ASGI calls never suspend, so without this "concurrent" requests
    would run one after another and could not contend for a token refresh.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(3):
            await asyncio.sleep(0)
        return await self.inner.handle_async_request(request)


@asynccontextmanager
async def custom_gateway(monkeypatch: pytest.MonkeyPatch, **env: str) -> AsyncIterator[Custom]:
    """A gateway whose adapters a test can reach, with settings overrides."""
    settings = gateway_settings(monkeypatch, **env)
    sandbox = create_sandbox_app()
    transport = YieldingTransport(httpx.ASGITransport(app=sandbox))
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield Custom(client, sandbox, app)
    await app.state.adapters.aclose()


async def test_token_expiring_at_zoho_is_refreshed_and_the_call_retried(gateway: Gateway) -> None:
    zoho = gateway.sandbox_app("/zoho")
    first = await gateway.execute(PROJECTS, accounting=True)
    assert [c[1].endswith(TOKEN_PATH) for c in calls(first)] == [True, False]
    assert len(zoho.state.store.tokens) == 1

    # Zoho's clock runs past the token's hour while the gateway still trusts it.
    zoho.state.clock.advance(3601)
    second = await gateway.execute(PROJECTS, accounting=True)
    assert "errors" not in second
    assert second["data"] == first["data"]
    (m1, p1, s1), (m2, p2, s2), (m3, p3, s3) = calls(second)
    assert (m1, p1, s1) == ("GET", "projects", 401)
    assert (m2, s2) == ("POST", 200) and p2.endswith(TOKEN_PATH)
    assert (m3, p3, s3) == ("GET", "projects", 200)
    assert len(zoho.state.store.tokens) == 2

    third = await gateway.execute(PROJECTS, accounting=True)
    assert calls(third) == [("GET", "projects", 200)]


async def test_token_is_renewed_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    async with custom_gateway(monkeypatch) as gw:
        now = [1000.0]
        # The gateway's notion of time, moved in step with the sandbox's clock.
        gw.app.state.adapters.of(ZOHO_PLUGIN).auth.clock = lambda: now[0]
        await gw.execute(PROJECTS)
        assert len(gw.zoho.state.store.tokens) == 1

        # 50 s before expiry: still valid at Zoho, but inside the renewal margin.
        now[0] += 3550
        gw.zoho.state.clock.advance(3550)
        body = await gw.execute(PROJECTS, accounting=True)
        assert "errors" not in body
        statuses = calls(body)
        assert statuses[0][1].endswith(TOKEN_PATH)
        assert statuses[1:] == [("GET", "projects", 200)]  # no 401 was needed
        assert len(gw.zoho.state.store.tokens) == 2


async def test_twenty_concurrent_requests_share_one_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with custom_gateway(monkeypatch) as gw:
        store = gw.zoho.state.store
        bodies = await asyncio.gather(*(gw.execute(PROJECTS) for _ in range(20)))
        assert all("errors" not in body for body in bodies)
        assert len(store.tokens) == 1

        # All 20 requests now meet a 401 with the same expired token at once.
        gw.zoho.state.clock.advance(7200)
        bodies = await asyncio.gather(*(gw.execute(PROJECTS, accounting=True) for _ in range(20)))
        assert all("errors" not in body for body in bodies), bodies[0]
        assert len(store.tokens) == 2
        refused = sum(status == 401 for body in bodies for _, _, status in calls(body))
        assert refused == 20  # really concurrent: every request used the old token


async def test_refused_refresh_is_upstream_auth_and_the_server_stays_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-zoho-secret-0123456789"
    async with custom_gateway(monkeypatch, ZOHO_CLIENT_SECRET=wrong) as gw:
        response = await gw.client.post("/graphql", json={"query": PROJECTS})
        concurrent = await asyncio.gather(*(gw.execute(PROJECTS) for _ in range(5)))
        health = await gw.client.get("/healthz")
        others = await gw.execute("{ tasks(first: 1) { nodes { name } } }")
        assert gw.zoho.state.store.tokens == {}
    body = response.json()
    assert body["data"] == {"projects": None}
    error = body["errors"][0]
    assert error["extensions"] == {"code": "UPSTREAM_AUTH", "vendor": "zoho"}
    assert "Zoho Invoice" in error["message"] and "client secret" in error["message"]
    assert all(codes(b) == ["UPSTREAM_AUTH"] for b in concurrent)
    for secret in (wrong, REFRESH_TOKEN, CLIENT_ID):
        assert secret not in response.text and secret not in caplog.text
    assert health.status_code == 200 and "zoho" in health.json()["vendors"]
    assert "errors" not in others and others["data"]["tasks"]["nodes"]


async def test_refused_refresh_token_is_upstream_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    async with custom_gateway(monkeypatch, ZOHO_REFRESH_TOKEN="1000.revoked") as gw:
        body = await gw.execute(PROJECTS)
    assert codes(body) == ["UPSTREAM_AUTH"]
    assert "refresh token" in body["errors"][0]["message"]


async def test_static_access_token_is_used_as_is_and_never_refreshed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = create_sandbox_app()
    zoho = sandbox.state.sandboxes["/zoho"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=zoho), base_url="http://sandbox"
    ) as direct:
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        token = (await direct.post("/accounts/oauth/v2/token", data=grant)).json()["access_token"]
    settings = gateway_settings(monkeypatch, ZOHO_ACCESS_TOKEN=token)
    app = create_app(settings, transports=dict.fromkeys(VENDORS, httpx.ASGITransport(app=sandbox)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        gw = Custom(client, sandbox, app)
        body = await gw.execute(PROJECTS, accounting=True)
        assert "errors" not in body
        assert calls(body) == [("GET", "projects", 200)]

        zoho.state.clock.advance(3601)
        expired = await gw.execute(PROJECTS, accounting=True)
        assert codes(expired) == ["UPSTREAM_AUTH"]
        assert calls(expired) == [("GET", "projects", 401)]  # no refresh attempted
        assert list(zoho.state.store.tokens) == [token]
        assert token not in str(expired)
    await app.state.adapters.aclose()
