"""A gateway wired to fresh sandboxes with chosen settings, for tests of limits and edges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.sandbox import create_sandbox_app
from gateway.types import Vendor
from tests.conftest import FaultyTransport, Gateway, gateway_settings


@asynccontextmanager
async def gateway_with(
    monkeypatch: pytest.MonkeyPatch,
    inner: httpx.AsyncBaseTransport | None = None,
    **overrides: str,
) -> AsyncIterator[Gateway]:
    """Like the ``gateway`` fixture, with environment ``overrides`` and an optional
    transport between the gateway and the sandboxes (``inner`` wraps the sandbox)."""
    settings = gateway_settings(monkeypatch, **overrides)
    sandbox = create_sandbox_app()
    transport = FaultyTransport(inner or httpx.ASGITransport(app=sandbox))
    app = create_app(settings, transports=dict.fromkeys(Vendor, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield Gateway(client, sandbox, transport)
    await app.state.adapters.aclose()


def app_of(gateway: Gateway) -> Starlette:
    transport = gateway.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app: Starlette = transport.app  # type: ignore[assignment]
    return app
