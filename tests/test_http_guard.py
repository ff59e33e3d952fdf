"""HTTP hygiene: body size and time limits, JSON bodies that are not requests, CSRF."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Message

from tests.conftest import Gateway
from tests.harness import app_of, gateway_with

QUERY = {"query": "{ tasks(first: 1) { totalCount } }"}
ONE_MIB = 1024 * 1024


def refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    assert "Traceback" not in message
    return message


async def test_a_declared_body_over_the_limit_is_refused_unread(gateway: Gateway) -> None:
    reached = gateway.record()
    padding = "x" * ONE_MIB
    response = await gateway.client.post("/graphql", json={**QUERY, "extensions": {"p": padding}})
    refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert reached == []


async def test_a_chunked_body_growing_past_the_limit_is_refused(gateway: Gateway) -> None:
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield b'{"query": "{ tasks { totalCount } }", "x": "'
        for _ in range(64):  # 4 MiB in all, were it all read
            chunks_sent += 1
            yield b"x" * 65536
        yield b'"}'

    response = await gateway.client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert chunks_sent < 20  # refused once past 1 MiB, not after reading it all


async def test_a_body_that_arrives_too_slowly_gets_408(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_BODY_TIMEOUT="0.2") as gateway:
        app = app_of(gateway)
        sent: list[Message] = []

        async def receive() -> Message:
            if not sent and not getattr(receive, "started", False):
                receive.started = True  # type: ignore[attr-defined]
                return {"type": "http.request", "body": b'{"query": ', "more_body": True}
            await asyncio.Event().wait()  # the rest never comes
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            sent.append(message)

        scope: dict[str, Any] = {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json")],
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 408
    body = orjson.loads(sent[1]["body"])
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


@pytest.mark.parametrize(
    "content",
    [
        b'"x"',
        b"42",
        b"null",
        b"[]",
        orjson.dumps([QUERY]),
        b"\xff\xfe{\x00}",
        b'{"query": "{ tasks { totalCount } }"',
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"query": "{ __typename }", "variables": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"query": 42}',
        b'{"query": "{ __typename }", "variables": [1]}',
    ],
    ids=[
        "string",
        "number",
        "null",
        "empty-array",
        "batch",
        "not-utf8",
        "truncated",
        "deep-array",
        "deep-object",
        "deep-variables",
        "query-not-string",
        "variables-not-object",
    ],
)
async def test_bodies_that_are_not_a_request_object_get_400(
    gateway: Gateway, content: bytes
) -> None:
    response = await gateway.client.post(
        "/graphql", content=content, headers={"Content-Type": "application/json"}
    )
    refusal(response, 400, "BAD_REQUEST")


async def test_a_deeply_nested_document_is_refused_not_crashed(gateway: Gateway) -> None:
    deep = "{ " + "a { " * 900 + "b" + " }" * 901
    response = await gateway.client.post("/graphql", json={"query": deep})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] in {
        "OPERATION_TOO_COMPLEX",
        "GRAPHQL_PARSE_FAILED",
    }


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", None],
)
async def test_simple_requests_a_browser_could_forge_are_refused(
    gateway: Gateway, content_type: str | None
) -> None:
    reached = gateway.record()
    headers = {"Content-Type": content_type} if content_type else {}
    response = await gateway.client.post("/graphql", content=orjson.dumps(QUERY), headers=headers)
    message = refusal(response, 400, "BAD_REQUEST")
    assert "Apollo-Require-Preflight" in message
    assert reached == []


async def test_a_forged_multipart_post_is_refused(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", files={"operations": orjson.dumps(QUERY)})
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    refusal(response, 400, "BAD_REQUEST")


async def test_get_needs_a_preflight_header(gateway: Gateway) -> None:
    params = {"query": QUERY["query"]}
    plain = await gateway.client.get("/graphql", params=params)
    assert "Apollo-Require-Preflight" in refusal(plain, 400, "BAD_REQUEST")
    for header in ("Apollo-Require-Preflight", "X-Apollo-Operation-Name"):
        allowed = await gateway.client.get("/graphql", params=params, headers={header: "1"})
        assert allowed.status_code == 200
        assert allowed.json()["data"]["tasks"]["totalCount"] == 36
    empty = await gateway.client.get(
        "/graphql", params=params, headers={"Apollo-Require-Preflight": " "}
    )
    refusal(empty, 400, "BAD_REQUEST")


async def test_the_graphiql_page_needs_no_preflight(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_json_posts_and_strawberry_refusals_keep_the_error_shape(gateway: Gateway) -> None:
    ok = await gateway.client.post("/graphql", json=QUERY)
    assert ok.status_code == 200 and ok.json()["data"]["tasks"]["totalCount"] == 36
    put = await gateway.client.post(
        "/graphql", content=b"query=x", headers={"Content-Type": "application/xml"}
    )
    refusal(put, 400, "BAD_REQUEST")
