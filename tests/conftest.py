"""Fixtures: a gateway wired to fresh sandboxes, all through httpx ASGI transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import Settings
from gateway.plugin import AnyPlugin
from gateway.registry import PLUGINS
from gateway.sandbox import create_sandbox_app, sandbox_env

SANDBOX_BASE = "http://sandbox"

Fault = Callable[[httpx.Request], httpx.Response | None]


class FaultyTransport(httpx.AsyncBaseTransport):
    """Passes requests on to the sandbox unless a fault claims them first."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.faults: list[Fault] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for fault in self.faults:
            response = fault(request)
            if response is not None:
                return response
        return await self.inner.handle_async_request(request)


class Gateway:
    def __init__(
        self,
        client: httpx.AsyncClient,
        sandbox: Starlette,
        transport: FaultyTransport,
        app: Starlette,
    ) -> None:
        self.client = client
        self.sandbox = sandbox
        self.transport = transport
        self.app = app

    def sandbox_app(self, prefix: str) -> Starlette:
        app: Starlette = self.sandbox.state.sandboxes[prefix]
        return app

    def inject(self, fault: Fault) -> None:
        self.transport.faults.append(fault)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        accounting: bool = False,
    ) -> dict[str, Any]:
        headers = {"X-Upstream-Accounting": "1"} if accounting else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def gateway_settings(
    monkeypatch: pytest.MonkeyPatch, plugins: Sequence[AnyPlugin] = PLUGINS, **overrides: str
) -> Settings:
    """Settings for ``plugins`` (default: the registry's), pointed at their sandboxes;
    client authentication is off unless ``GATEWAY_AUTH="true"`` is among ``overrides``."""
    defaults = {"GATEWAY_AUTH": "false"}
    for name, value in {**defaults, **sandbox_env(SANDBOX_BASE, plugins), **overrides}.items():
        monkeypatch.setenv(name, value)
    return Settings(plugins=plugins)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    return gateway_settings(monkeypatch)


@asynccontextmanager
async def running_gateway(
    settings: Settings, inner: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Gateway]:
    """A gateway app wired to fresh sandboxes through a FaultyTransport; ``inner``, when
    given, stands between that transport and the vendors instead of the plain sandbox."""
    sandbox = create_sandbox_app(settings.plugins)
    transport = FaultyTransport(inner or httpx.ASGITransport(app=sandbox))
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(settings, transports=dict.fromkeys(vendors, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield Gateway(client, sandbox, transport, app)
    await app.state.adapters.aclose()


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with running_gateway(settings) as running:
        yield running


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]
