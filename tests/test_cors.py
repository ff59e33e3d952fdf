"""CORS by environment: allowed origins get preflights answered (for every header the
gateway reads) and their answers readable; credentials are off unless switched on;
other origins get nothing, and a refused preflight says what was refused. The CSRF
rule lets a GET from an allowed origin through, not from any other."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from gateway.config import GatewaySettings
from tests.harness import gateway_with
from tests.test_client_auth import KEYS, api_keys_setting

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
        assert "cross-site request forgery" in response.json()["errors"][0]["message"]


# Every header the gateway reads, as a browser app sends them.
READ_HEADERS = (
    "authorization,x-api-key,x-request-id,traceparent,tracestate,content-type,accept,"
    "apollo-require-preflight,x-apollo-operation-name,x-upstream-accounting"
)
KEY = KEYS["everything"][0]
QUERY = "{ tasks(first: 1) { nodes { invoicedId } } }"


async def test_a_preflight_for_every_header_the_gateway_reads_is_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=APP) as gateway:
        for method in ("POST", "GET"):
            asking = {**PREFLIGHT, "Access-Control-Request-Method": method}
            asking["Access-Control-Request-Headers"] = READ_HEADERS.upper()
            response = await gateway.client.options("/graphql", headers=asking)
            assert response.status_code == 200, response.text
            assert response.headers["access-control-allow-headers"] == READ_HEADERS.replace(
                ",", ", "
            )
            assert response.headers["access-control-allow-origin"] == APP


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert "forgery" not in response.text
    return response.text


async def test_a_refused_preflight_names_what_was_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=APP) as gateway:
        header = {**PREFLIGHT, "Access-Control-Request-Headers": "x-api-key, x-secret-sauce"}
        text = refusal(await gateway.client.options("/graphql", headers=header))
        assert "x-secret-sauce" in text and "x-api-key," not in text.split("(")[0]

        origin = {**PREFLIGHT, "Origin": "http://localhost:5173"}
        text = refusal(await gateway.client.options("/graphql", headers=origin))
        assert "the origin http://localhost:5173 may not call this gateway" in text
        assert "GATEWAY_CORS_ORIGINS" in text

        method = {**PREFLIGHT, "Access-Control-Request-Method": "DELETE"}
        assert "the method DELETE" in refusal(
            await gateway.client.options("/graphql", headers=method)
        )


async def test_with_no_origin_allowed_a_preflight_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch) as gateway:
        response = await gateway.client.options("/graphql", headers=PREFLIGHT)
        assert "none is listed in GATEWAY_CORS_ORIGINS" in refusal(response)


async def test_any_port_of_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    origins = "http://localhost:*,http://127.0.0.1:*"
    async with gateway_with(monkeypatch, GATEWAY_CORS_ORIGINS=origins) as gateway:
        for allowed in ("http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"):
            response = await gateway.client.options(
                "/graphql", headers={**PREFLIGHT, "Origin": allowed}
            )
            assert response.headers["access-control-allow-origin"] == allowed
        for refused in (
            "https://localhost:5173",
            "http://localhost.evil.example:5173",
            "http://localhost:5173.evil.example",
            "http://127.0.0.10:80",
        ):
            response = await gateway.client.options(
                "/graphql", headers={**PREFLIGHT, "Origin": refused}
            )
            assert f"the origin {refused} may not" in refusal(response)


@pytest.mark.parametrize("entry", ["localhost:5173", "https://*.example.com", "http://a/b"])
def test_an_entry_that_is_no_origin_stops_the_gateway(entry: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        GatewaySettings(cors_origins=f"{APP},{entry}")


async def test_a_get_from_an_allowed_origin_runs_without_a_content_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # urql's and graphql-request's GETs: credentials, no content type, no Apollo header.
    async with gateway_with(
        monkeypatch,
        GATEWAY_CORS_ORIGINS=APP,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=api_keys_setting(),
    ) as gateway:
        headers = {"X-API-Key": KEY, "Accept": "application/graphql-response+json"}
        allowed = await gateway.client.get(
            "/graphql", params={"query": QUERY}, headers={**headers, "Origin": APP}
        )
        assert allowed.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}
        assert allowed.headers["access-control-allow-origin"] == APP

        reached = gateway.record()
        # What a page may send cross-site without a preflight: no credential header.
        simple = {"Accept": "application/graphql-response+json"}
        for others in ({"Origin": "https://evil.example.net"}, {}, {"Origin": "null"}):
            refused = await gateway.client.get(
                "/graphql", params={"query": QUERY}, headers={**simple, **others}
            )
            assert refused.status_code == 400
            message = refused.json()["errors"][0]["message"]
            assert "cross-site request forgery" in message
            assert ("GATEWAY_CORS_ORIGINS" in message) == bool(others)
        assert reached == []


def test_the_demo_allows_a_dev_server_on_localhost(demo_url: str) -> None:
    for origin in ("http://localhost:5173", "http://127.0.0.1:8080"):
        asking = {**PREFLIGHT, "Origin": origin, "Access-Control-Request-Headers": READ_HEADERS}
        response = httpx.options(f"{demo_url}/graphql", headers=asking)
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == origin
        got = httpx.get(
            f"{demo_url}/graphql", params={"query": "{ __typename }"}, headers={"Origin": origin}
        )
        assert got.json() == {"data": {"__typename": "Query"}}
    elsewhere = {**PREFLIGHT, "Origin": "https://evil.example.net"}
    assert httpx.options(f"{demo_url}/graphql", headers=elsewhere).status_code == 400


async def test_a_get_with_a_credential_header_is_no_forgery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # urql and graphql-request in Node: a GET with no Origin and no content type, but with
    # the client's key, which no page can send cross-site without a preflight.
    async with gateway_with(
        monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=api_keys_setting()
    ) as gateway:
        for credential in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}):
            response = await gateway.client.get(
                "/graphql", params={"query": QUERY}, headers=credential
            )
            assert response.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}
        wrong = await gateway.client.get(
            "/graphql", params={"query": QUERY}, headers={"X-API-Key": "tgw_wrong_0001"}
        )
        assert wrong.status_code == 401
