"""The edges of `/graphql` as HTTP: what a cached GET answer varies on, methods other
than GET and POST, request fields of the wrong type, and an unexpected failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import codes
from tests.harness import gateway_with
from tests.servers import serve_in_thread
from tests.test_client_auth import KEYS, api_keys_setting

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

QUERY = "{ tasks(first: 1) { nodes { name } } }"
PREFLIGHT = {"Apollo-Require-Preflight": "1"}
KEY = {"X-API-Key": KEYS["everything"][0]}


def vary_of(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")}


async def test_a_cacheable_answer_varies_on_every_credential_header_and_on_accept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(
        monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=api_keys_setting(), GATEWAY_CACHE="true"
    ) as gateway:
        for credential in (KEY, {"Authorization": f"Bearer {KEYS['everything'][0]}"}):
            response = await gateway.client.get(
                "/graphql", params={"query": QUERY}, headers={**credential, **PREFLIGHT}
            )
            assert response.headers["cache-control"].startswith("private, max-age=")
            expected = {"authorization", "x-api-key", "accept", "x-upstream-accounting"}
            assert expected <= vary_of(response)
            again = await gateway.client.get(
                "/graphql",
                params={"query": QUERY},
                headers={**credential, **PREFLIGHT, "If-None-Match": response.headers["etag"]},
            )
            assert again.status_code == 304
            assert expected <= vary_of(again)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "HEAD", "OPTIONS", "FOO"])
async def test_other_methods_are_405_with_allow_and_reach_no_vendor(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    async with gateway_with(
        monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=api_keys_setting()
    ) as gateway:
        reached = gateway.record()
        for headers in ({}, PREFLIGHT, {**KEY, **PREFLIGHT, "Content-Type": "application/json"}):
            response = await gateway.client.request(
                method, "/graphql", content=b'{"query": "%s"}' % QUERY.encode(), headers=headers
            )
            assert response.status_code == 405, (headers, response.text)
            assert response.headers["allow"] == "GET, POST"
            if method != "HEAD":
                assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
        assert reached == []


async def test_with_cors_options_is_allowed_for_preflights_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    origin = "https://app.example.com"
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=origin) as gateway:
        preflight = await gateway.client.options(
            "/graphql", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200
        plain = await gateway.client.options("/graphql", headers=PREFLIGHT)
        assert plain.status_code == 405
        assert plain.headers["allow"] == "GET, POST, OPTIONS"
        put = await gateway.client.put("/graphql", headers={"Origin": origin, **PREFLIGHT})
        assert put.status_code == 405
        assert put.headers["allow"] == "GET, POST, OPTIONS"


BAD_FIELDS = [
    (field, value)
    for field in ("operationName", "variables", "extensions")
    for value in ([1], {"a": 1} if field == "operationName" else "x", 5, True)
]
BAD_PARAMETERS = [
    (field, value)
    for field in ("variables", "extensions")
    for value in ("x", "[1]", "5", "true", '"text"')
]


@contextmanager
def server_errors_captured(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # uvicorn's loggers do not propagate to the root logger, where caplog listens.
    server = logging.getLogger("uvicorn.error")
    server.addHandler(caplog.handler)
    try:
        yield
    finally:
        server.removeHandler(caplog.handler)


def connection_of(response: httpx.Response) -> Any:
    return response.extensions["network_stream"].get_extra_info("client_addr")


async def test_fields_of_the_wrong_type_are_400_logged_and_keep_the_connection(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Over a real server and one keep-alive connection: each bad request gets its
    400 and its operation log line, nothing is logged as a crash, and the next
    request on the same connection is answered."""
    caplog.set_level(logging.INFO, logger="gateway.operations")
    requests: list[tuple[str, dict[str, Any]]] = [
        (field, {"json": {"query": "{ __typename }", field: value}}) for field, value in BAD_FIELDS
    ]
    requests += [
        (field, {"params": {"query": "{ __typename }", field: value}, "method": "GET"})
        for field, value in BAD_PARAMETERS
    ]
    async with gateway_with(monkeypatch) as gateway:
        with serve_in_thread(gateway.app) as url, server_errors_captured(caplog):
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            async with httpx.AsyncClient(base_url=url, limits=limits, headers=PREFLIGHT) as client:
                for field, request in requests:
                    caplog.clear()
                    method = request.pop("method", "POST")
                    bad = await client.request(method, "/graphql", **request)
                    connection = connection_of(bad)  # before the server may close it
                    seen = (method, field, request, bad.text)
                    assert bad.status_code == 400, seen
                    [error] = bad.json()["errors"]
                    assert error["extensions"]["code"] == "BAD_REQUEST", seen
                    assert f"`{field}`" in error["message"], seen
                    good = await client.post("/graphql", json={"query": "{ __typename }"})
                    assert good.json() == {"data": {"__typename": "Query"}}, seen
                    assert connection_of(good) == connection, seen
                    lines = [r for r in caplog.records if r.name == "gateway.operations"]
                    assert [getattr(r, "outcome", None) for r in lines] == ["rejected", "ok"]
                    assert getattr(lines[0], "error_codes", None) == ["BAD_REQUEST"], seen
                    crashes = [
                        r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
                    ]
                    assert crashes == [], seen


async def test_an_unexpected_failure_is_a_masked_graphql_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("secret internals")

    async with gateway_with(monkeypatch) as gateway:
        monkeypatch.setattr("gateway.http.view.Loaders", broken)
        response = await gateway.client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert "secret" not in response.text
    # Masked for the client, not for the operator.
    [logged] = [r for r in caplog.records if r.exc_info]
    assert "secret internals" in str(logged.exc_info[1] if logged.exc_info else "")
