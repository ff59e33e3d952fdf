"""CORS by environment: allowed origins get preflights answered and their answers
readable; credentials are off unless switched on; other origins get nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import GatewaySettings
from tests.harness import gateway_with

APP = "https://app.example.com"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-upstream-accounting",
}
ORIGINS = f"{APP}, https://admin.example.com/"


async def test_a_preflight_from_an_allowed_origin_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=ORIGINS) as gateway:
        response = await gateway.client.options("/graphql", headers=PREFLIGHT)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == APP
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "content-type" in allowed and "x-upstream-accounting" in allowed
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in response.headers

        admin = {**PREFLIGHT, "Origin": "https://admin.example.com"}
        answered = await gateway.client.options("/graphql", headers=admin)
        assert answered.headers["access-control-allow-origin"] == "https://admin.example.com"


async def test_the_answer_is_readable_by_an_allowed_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=ORIGINS) as gateway:
        response = await gateway.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
        )
        assert response.json() == {"data": {"__typename": "Query"}}
        assert response.headers["access-control-allow-origin"] == APP
        # The page can read the request id to quote in a report.
        assert response.headers["access-control-expose-headers"] == "X-Request-Id"
        assert response.headers["x-request-id"]


async def test_other_origins_get_no_cors_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=ORIGINS) as gateway:
        evil = {**PREFLIGHT, "Origin": "https://evil.example.net"}
        response = await gateway.client.options("/graphql", headers=evil)
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


async def test_without_origins_there_is_no_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch) as gateway:
        response = await gateway.client.options("/graphql", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in response.headers


async def test_credentials_when_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(
        monkeypatch, GATEWAY_CORS_ORIGINS=APP, GATEWAY_CORS_CREDENTIALS="true"
    ) as gateway:
        response = await gateway.client.options("/graphql", headers=PREFLIGHT)
        assert response.headers["access-control-allow-credentials"] == "true"
        assert response.headers["access-control-allow-origin"] == APP


def test_credentials_for_every_origin_are_refused() -> None:
    with pytest.raises(ValidationError, match="not `\\*`"):
        GatewaySettings(cors_origins="*", cors_credentials=True)


async def test_csrf_rule_still_applies_to_allowed_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CORS lets the page read answers; a simple cross-site POST is still refused.
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=APP) as gateway:
        response = await gateway.client.post(
            "/graphql",
            content='{"query": "{ __typename }"}',
            headers={"Origin": APP, "Content-Type": "text/plain"},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
