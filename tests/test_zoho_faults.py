"""Zoho failures become the gateway's error codes, without leaking secrets.

Faults are injected only on the API host's paths unless a test says otherwise,
so the token refresh still works and the fault is what the API call meets.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from gateway.vendors.zoho.sandbox import CLIENT_SECRET, REFRESH_TOKEN
from tests.conftest import Gateway, codes

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

QUERY = "{ projects(first: 2) { nodes { name } } }"
API_PREFIX = "/zoho/invoice/v3/"


def on_api(response: httpx.Response) -> Any:
    def fault(request: httpx.Request) -> httpx.Response | None:
        return response if request.url.path.startswith(API_PREFIX) else None

    return fault


def envelope(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = orjson.dumps({"code": code, "message": message})
    return httpx.Response(status, content=body, headers=headers)


def assert_no_secrets(gateway: Gateway, text: str) -> None:
    issued = list(gateway.sandbox_app("/zoho").state.store.tokens)
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *issued):
        assert secret not in text


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(500, text="<html>Internal Server Error</html>"), "UPSTREAM_UNAVAILABLE"),
        (envelope(500, 1000, "Internal error"), "UPSTREAM_UNAVAILABLE"),
        (httpx.Response(200, text="<html>maintenance</html>"), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(200, json={"projects": []}), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(200, json={"code": 0, "projects": "nope"}), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(200, json={"code": 0, "projects": [{"x": 1}]}), "UPSTREAM_BAD_RESPONSE"),
        (envelope(401, 14, "Invalid value passed for authtoken."), "UPSTREAM_AUTH"),
        (envelope(403, 6041, "Not authorized for this organization"), "UPSTREAM_MISCONFIGURED"),
        (envelope(400, 2, "Invalid value passed for sort_column"), "UPSTREAM_REJECTED"),
        (envelope(200, 2, "Looks fine but is not"), "UPSTREAM_REJECTED"),
    ],
)
async def test_api_failures_map_to_codes(
    gateway: Gateway, caplog: pytest.LogCaptureFixture, response: httpx.Response, code: str
) -> None:
    gateway.inject(on_api(response))
    body = await gateway.execute(QUERY)
    assert codes(body) == [code]
    assert body["errors"][0]["extensions"]["vendor"] == "zoho"
    message = body["errors"][0]["message"]
    assert message.startswith("Zoho Invoice: ")
    # The gateway writes its own messages; Zoho's text never reaches the client.
    assert "html" not in message and "Invalid value" not in message
    assert_no_secrets(gateway, str(body) + caplog.text)


async def test_timeout_is_upstream_unavailable(gateway: Gateway) -> None:
    def timeout(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith(API_PREFIX):
            raise httpx.ReadTimeout("timed out", request=request)
        return None

    gateway.inject(timeout)
    body = await gateway.execute(QUERY)
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert "timed out" in body["errors"][0]["message"]


async def test_expired_token_refused_again_after_refresh_is_upstream_auth(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.inject(on_api(envelope(401, 57, "You are not authorized to perform this operation")))
    body = await gateway.execute(QUERY, accounting=True)
    assert codes(body) == ["UPSTREAM_AUTH"]
    paths = [c["path"] for c in body["extensions"]["upstreamCalls"]["calls"]]
    # Token, API (401), one refresh, API again (401) -- then give up, no loop.
    assert [p.endswith("/oauth/v2/token") for p in paths] == [True, False, True, False]
    assert_no_secrets(gateway, str(body) + caplog.text)


async def test_accounts_server_failures(gateway: Gateway) -> None:
    def accounts_down(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/oauth/v2/token"):
            return httpx.Response(503, text="unavailable")
        return None

    gateway.inject(accounts_down)
    body = await gateway.execute(QUERY)
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert "accounts server" in body["errors"][0]["message"]


async def test_token_response_without_token_is_bad_response(gateway: Gateway) -> None:
    gateway.inject(
        lambda r: (
            httpx.Response(200, json={"token_type": "Bearer"})
            if r.url.path.endswith("/oauth/v2/token")
            else None
        )
    )
    body = await gateway.execute(QUERY)
    assert codes(body) == ["UPSTREAM_BAD_RESPONSE"]


async def test_rate_limit_uses_zoho_reset_header(gateway: Gateway) -> None:
    gateway.inject(on_api(envelope(429, 45, "Too many requests", **{"X-Rate-Limit-Reset": "17"})))
    body = await gateway.execute(QUERY)
    assert codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"] == {
        "code": "RATE_LIMITED",
        "vendor": "zoho",
        "retryAfter": 17.0,
    }


async def test_sandbox_call_limit_is_rate_limited(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/zoho").state.store
    store.rate_limit = 1
    ok = await gateway.execute(QUERY)
    assert "errors" not in ok
    limited = await gateway.execute(QUERY)
    assert codes(limited) == ["RATE_LIMITED"]
    retry_after = limited["errors"][0]["extensions"]["retryAfter"]
    assert 0 < retry_after <= 60
