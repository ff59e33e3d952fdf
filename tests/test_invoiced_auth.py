"""A gateway holding a key the Invoiced sandbox refuses."""

from __future__ import annotations

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from tests.conftest import gateway_settings


async def test_sandbox_401_becomes_upstream_auth_without_leaking_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk_live_wrong_key_123456"
    settings = gateway_settings(monkeypatch, INVOICED_API_KEY=secret)
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    app = create_app(settings, transports=dict.fromkeys(VENDORS, sandbox))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post("/graphql", json={"query": "{ tasks { totalCount } }"})
        health = await client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["errors"][0]["extensions"] == {"code": "UPSTREAM_AUTH", "vendor": "invoiced"}
    assert "Invoiced" in body["errors"][0]["message"]
    assert secret not in response.text and secret not in caplog.text
    assert health.status_code == 200
