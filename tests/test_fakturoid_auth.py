"""Fakturoid's client-credentials tokens, User-Agent rule and rate limit, through HTTP.

These tests build their own gateway around a Fakturoid sandbox so they can shorten its
rate limit, watch the requests the adapter sends and reach the adapter's token cache.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.cli import main
from gateway.core.sandbox import Clock
from gateway.http.app import create_app
from gateway.registry import VENDORS
from gateway.vendors.fakturoid import PLUGIN as FAKTUROID_PLUGIN
from gateway.vendors.fakturoid import sandbox as fakturoid
from gateway.vendors.fakturoid.client import FakturoidAdapter
from tests.conftest import FaultyTransport, Gateway, codes, gateway_settings
from tests.harness import gateway_with

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

QUERY = "{ todos(first: 3) { nodes { fakturoidId } } }"
USER_AGENT = "Acme Todos (ops@acme.example)"


def is_grant(request: httpx.Request) -> bool:
    return request.url.path.endswith("/oauth/token")


class Recorder(httpx.AsyncBaseTransport):
    """Keeps every request on its way to the sandbox. Requests that ``hold`` picks are
    held back for up to ``turns`` turns of the event loop, or until ``release()``, so
    that concurrent requests really overlap even over in-process transports."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.hold: Callable[[httpx.Request], bool] = lambda request: False
        self.release: Callable[[], bool] = lambda: False
        self.turns = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hold(request):
            for _ in range(self.turns):
                if self.release():
                    break
                await asyncio.sleep(0)
        return await self.inner.handle_async_request(request)

    def grants(self) -> list[httpx.Request]:
        return [r for r in self.requests if is_grant(r)]


@dataclass
class Harness:
    gateway: Gateway
    adapter: FakturoidAdapter
    sandbox: Starlette
    recorder: Recorder

    @property
    def clock(self) -> Clock:
        clock: Clock = self.sandbox.state.clock
        return clock


async def harness(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str] | None = None, **options: Any
) -> AsyncIterator[Harness]:
    settings = gateway_settings(monkeypatch, FAKTUROID_USER_AGENT=USER_AGENT, **(overrides or {}))
    sandbox_app = fakturoid.create_app(**options)
    sandbox = Starlette(routes=[Mount(fakturoid.PREFIX, app=sandbox_app)])
    sandbox.state.sandboxes = {fakturoid.PREFIX: sandbox_app}
    recorder = Recorder(httpx.ASGITransport(app=sandbox))
    transport = FaultyTransport(recorder)
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        gateway = Gateway(client, sandbox, transport, app)
        yield Harness(gateway, app.state.adapters.of(FAKTUROID_PLUGIN), sandbox_app, recorder)
    await app.state.adapters.aclose()


@pytest.fixture
async def fk(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    async for h in harness(monkeypatch):
        yield h


def calls(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (c["method"], c["path"].rsplit("/", 1)[-1], c["status"])
        for c in body["extensions"]["upstreamCalls"]["calls"]
    ]


async def test_token_is_granted_once_with_basic_auth_and_reused(fk: Harness) -> None:
    for _ in range(3):
        body = await fk.gateway.execute(QUERY)
        assert len(body["data"]["todos"]["nodes"]) == 3
    (grant,) = fk.recorder.grants()
    expected = base64.b64encode(f"{fakturoid.CLIENT_ID}:{fakturoid.CLIENT_SECRET}".encode())
    assert grant.headers["Authorization"] == f"Basic {expected.decode()}"
    assert orjson.loads(grant.content) == {"grant_type": "client_credentials"}
    assert grant.headers["Content-Type"] == "application/json"
    api = [r for r in fk.recorder.requests if r not in fk.recorder.grants()]
    assert len(api) == 3 and all(r.headers["Authorization"].startswith("Bearer ") for r in api)


async def test_every_call_carries_the_configured_user_agent(fk: Harness) -> None:
    await fk.gateway.execute(QUERY)
    await fk.gateway.execute(
        'mutation { toggleTodoCompletion(id: "ZmFrdHVyb2lkOlRvZG86MQ") { todo { id } } }'
    )
    await fk.gateway.execute('{ todo(id: "ZmFrdHVyb2lkOlRvZG86MQ") { id } }')
    paths = {r.url.path.rsplit("/", 1)[-1] for r in fk.recorder.requests}
    assert {"token", "todos.json", "toggle_completion.json"} <= paths
    assert {r.headers.get("User-Agent") for r in fk.recorder.requests} == {USER_AGENT}


async def test_sandbox_refuses_a_request_without_user_agent() -> None:
    app = fakturoid.create_app()
    expected = {
        "error": "invalid_request",
        "error_description": 'Required header "User-Agent" is missing',
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as client:
        del client.headers["User-Agent"]
        grant = await client.post(
            "/api/v3/oauth/token",
            json={"grant_type": "client_credentials"},
            auth=(fakturoid.CLIENT_ID, fakturoid.CLIENT_SECRET),
        )
        todos = await client.get(f"/api/v3/accounts/{fakturoid.ACCOUNT_SLUG}/todos.json")
    assert (grant.status_code, grant.json()) == (400, expected)
    assert (todos.status_code, todos.json()) == (400, expected)


def test_serve_refuses_to_start_without_a_user_agent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway_settings(monkeypatch, FAKTUROID_CLIENT_SECRET="s3cret-never-printed")
    monkeypatch.delenv("FAKTUROID_USER_AGENT")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Fakturoid is partly configured: missing FAKTUROID_USER_AGENT" in err
    assert "s3cret-never-printed" not in err


async def test_expired_token_mid_session_is_renewed_once(fk: Harness) -> None:
    await fk.gateway.execute(QUERY)
    # Only the sandbox's clock moves: the adapter still thinks its token is good.
    fk.clock.advance(7201)
    body = await fk.gateway.execute(QUERY, accounting=True)
    assert len(body["data"]["todos"]["nodes"]) == 3
    assert calls(body) == [
        ("GET", "todos.json", 401),
        ("POST", "token", 200),
        ("GET", "todos.json", 200),
    ]
    assert len(fk.recorder.grants()) == 2


async def test_token_is_renewed_before_it_expires(fk: Harness) -> None:
    fk.adapter.tokens.clock = fk.clock.now
    await fk.gateway.execute(QUERY)
    fk.clock.advance(7200 - 30)
    body = await fk.gateway.execute(QUERY, accounting=True)
    assert "errors" not in body
    # Within the renewal margin: a new grant first, and no request is refused.
    assert calls(body) == [("POST", "token", 200), ("GET", "todos.json", 200)]


async def test_concurrent_requests_share_one_token_grant(fk: Harness) -> None:
    fk.recorder.hold, fk.recorder.turns = is_grant, 20
    bodies = await asyncio.gather(*(fk.gateway.execute(QUERY) for _ in range(6)))
    assert all(len(b["data"]["todos"]["nodes"]) == 3 for b in bodies)
    assert len(fk.recorder.grants()) == 1
    # Expire the token behind the adapter's back, and hold the todo requests until all
    # six are in flight with it: all six are refused, and must share one renewal.
    fk.clock.advance(7201)
    seen = len(fk.recorder.requests)
    fk.recorder.hold, fk.recorder.turns = (lambda r: not is_grant(r)), 1000
    fk.recorder.release = lambda: len(fk.recorder.requests) - seen >= 6
    bodies = await asyncio.gather(*(fk.gateway.execute(QUERY) for _ in range(6)))
    assert all("errors" not in b for b in bodies)
    assert len(fk.recorder.grants()) == 2


async def test_a_token_refused_twice_is_upstream_auth(fk: Harness) -> None:
    fk.gateway.inject(
        lambda r: (
            httpx.Response(401, json={"error": "invalid_token"})
            if r.url.path.endswith("todos.json")
            else None
        )
    )
    body = await fk.gateway.execute(QUERY, accounting=True)
    assert codes(body) == ["UPSTREAM_AUTH"]
    assert body["errors"][0]["extensions"]["vendor"] == "fakturoid"
    assert [c[2] for c in calls(body)] == [200, 401, 200, 401]


async def test_wrong_client_secret_is_upstream_auth_without_leaking_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "fk-wrong-secret-0123456789"
    async for h in harness(monkeypatch, {"FAKTUROID_CLIENT_SECRET": secret}):
        response = await h.gateway.client.post("/graphql", json={"query": QUERY})
    body = response.json()
    assert codes(body) == ["UPSTREAM_AUTH"]
    assert body["errors"][0]["extensions"]["vendor"] == "fakturoid"
    assert secret not in response.text and secret not in caplog.text


async def test_rate_limit_is_rate_limited_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    async for h in harness(monkeypatch, rate_limit=2, rate_window=60):
        for _ in range(2):
            assert "errors" not in await h.gateway.execute(QUERY)
        body = await h.gateway.execute(QUERY)
    assert body["data"] == {"todos": None}
    assert codes(body) == ["RATE_LIMITED"]
    extensions = body["errors"][0]["extensions"]
    assert extensions["vendor"] == "fakturoid"
    assert 0 < extensions["retryAfter"] <= 60


async def test_retry_after_falls_back_to_the_x_ratelimit_header(fk: Harness) -> None:
    headers = {
        "X-RateLimit-Policy": "default;q=400;w=60, burst;q=10;w=1",
        "X-RateLimit": "default;r=0;t=42, burst;r=3;t=1",
    }
    fk.gateway.inject(lambda r: httpx.Response(429, headers=headers, json={"error": "x"}))
    body = await fk.gateway.execute(QUERY)
    assert codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 42


async def test_an_unknown_account_slug_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(
        monkeypatch, FAKTUROID_ACCOUNT_SLUG="no-such-account", FAKTUROID_USER_AGENT=USER_AGENT
    ) as gateway:
        body = await gateway.execute("{ todos(first: 1) { nodes { id } } }")
    assert body["data"] == {"todos": None}
    assert codes(body) == ["UPSTREAM_MISCONFIGURED"]
    assert "FAKTUROID_ACCOUNT_SLUG" in body["errors"][0]["message"]
