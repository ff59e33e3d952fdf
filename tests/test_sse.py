"""Subscriptions over Server-Sent Events (graphql-sse, distinct connections mode)
against a real uvicorn gateway: a write through HTTP reaches a POST's and a GET's
event stream; queries stream one result; errors, credentials, scopes, the CSRF
rule and the per-client bound are the same as for every request; idle streams get
keep-alive comments; a client that leaves frees its place on the change bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.test_subscriptions import (
    AUTH,
    KEYS,
    NODE_CHANGED,
    TOGGLE,
    Served,
    new_task,
    post,
    served,
)

STREAM = {"Accept": "text/event-stream"}


class EventStream:
    """The events of one response, parsed as the SSE spec reads them; comments kept."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next_event(self) -> dict[str, Any]:
        """The next event (``event`` and ``data`` decoded), or ``{"comment": ...}``."""
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line.startswith(":"):
                return {"comment": line[1:].strip()}
            if line == "":
                if fields:
                    data = fields.get("data", "")
                    return {
                        "event": fields.get("event"),
                        "data": json.loads(data) if data else None,
                    }
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")

    async def event(self) -> dict[str, Any]:
        """The next event that is not a comment."""
        while "comment" in (event := await asyncio.wait_for(self.next_event(), 10)):
            pass
        return event


@asynccontextmanager
async def stream(
    gateway: Served, method: str = "POST", headers: dict[str, str] | None = None, **request: Any
) -> AsyncIterator[EventStream]:
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            method, gateway.url + "/graphql", headers={**STREAM, **(headers or {})}, **request
        ) as response,
    ):
        yield EventStream(response)


async def all_events(gateway: Served, method: str = "POST", **request: Any) -> list[dict[str, Any]]:
    async with stream(gateway, method, headers=AUTH, **request) as events:
        assert events.response.status_code == 200
        assert events.response.headers["content-type"].startswith("text/event-stream")
        found = [await events.event()]
        while found[-1]["event"] != "complete":
            found.append(await events.event())
    return found


async def unsubscribed(gateway: Served) -> None:
    # The bus lives in the server's thread and loop: no event of ours to await.
    while gateway.changes.subscribers:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_write_through_http_reaches_the_event_stream(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    with served(monkeypatch) as gateway:
        task_id = await new_task(gateway.url)
        operation = {"query": NODE_CHANGED, "variables": {"id": task_id}}
        request = (
            {"json": operation}
            if method == "POST"
            else {"params": {**operation, "variables": json.dumps(operation["variables"])}}
        )
        async with stream(gateway, method, headers=AUTH, **request) as events:
            assert events.response.status_code == 200
            assert events.response.headers["content-type"] == "text/event-stream"
            assert events.response.headers["cache-control"] == "no-cache, no-transform"
            await asyncio.wait_for(gateway.listening(), 10)
            await post(gateway.url, TOGGLE, {"id": task_id})
            event = await events.event()
        # The client went away: its subscription is gone from the bus.
        await asyncio.wait_for(unsubscribed(gateway), 10)
    assert event == {
        "event": "next",
        "data": {
            "data": {
                "nodeChanged": {
                    "vendor": "INVOICED",
                    "type": "Task",
                    "id": task_id,
                    "kind": "UPDATED",
                }
            }
        },
    }


async def test_a_query_streams_one_result_then_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    with served(monkeypatch) as gateway:
        events = await all_events(gateway, json={"query": "{ __typename }"})
    assert events == [
        {"event": "next", "data": {"data": {"__typename": "Query"}}},
        {"event": "complete", "data": None},
    ]


async def test_a_client_naming_json_as_well_gets_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """urql names every type it reads, the stream among them, and wants JSON."""
    urql = (
        "application/graphql-response+json, application/graphql+json, application/json, "
        "text/event-stream, multipart/mixed"
    )
    with served(monkeypatch) as gateway:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                gateway.url + "/graphql",
                json={"query": "{ __typename }"},
                headers={**AUTH, "Accept": urql},
            )
    assert answer.headers["content-type"].startswith("application/graphql-response+json")
    assert answer.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"json": {"query": "{ nope }"}}, "GRAPHQL_VALIDATION_FAILED"),
        ({"json": {"query": "subscription {"}}, "GRAPHQL_PARSE_FAILED"),
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            "BAD_REQUEST",
        ),
    ],
)
async def test_a_request_error_is_a_next_event_then_complete(
    monkeypatch: pytest.MonkeyPatch, request_: dict[str, Any], code: str
) -> None:
    with served(monkeypatch) as gateway:
        headers = {**AUTH, **request_.pop("headers", {})}
        async with stream(gateway, headers=headers, **request_) as events:
            assert events.response.status_code == 200
            first, last = await events.event(), await events.event()
    assert [e["extensions"]["code"] for e in first["data"]["errors"]] == [code]
    assert first["event"] == "next" and last == {"event": "complete", "data": None}


@pytest.mark.parametrize("credential", [{}, {"X-API-Key": "tgw_not_a_key"}])
async def test_a_stream_without_a_valid_credential_is_refused(
    monkeypatch: pytest.MonkeyPatch, credential: dict[str, str]
) -> None:
    with served(monkeypatch) as gateway:
        headers = {**credential, "Content-Type": "application/json"}
        async with stream(gateway, headers=headers, json={"query": "{ __typename }"}) as events:
            body = json.loads(await events.response.aread())
        accepted = await all_events(gateway, json={"query": "{ __typename }"})
    assert events.response.status_code == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert accepted[0]["data"] == {"data": {"__typename": "Query"}}


async def test_an_event_source_get_without_a_preflight_is_refused_as_forgery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a browser's EventSource sends cross-site: a simple GET, no credential
    header. The same GET with its credential header (which needs a preflight) streams."""
    with served(monkeypatch) as gateway:
        params = {"query": "{ __typename }"}
        async with stream(gateway, "GET", params=params) as events:
            body = json.loads(await events.response.aread())
        accepted = await all_events(gateway, method="GET", params=params)
    assert events.response.status_code == 400
    assert "cross-site request forgery" in body["errors"][0]["message"]
    assert accepted[0]["data"] == {"data": {"__typename": "Query"}}


async def test_a_client_without_the_vendors_read_scope_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch) as gateway:
        task_id = await new_task(gateway.url)
        reader = {"X-API-Key": KEYS["fakturoid-reader"][0]}
        operation = {"query": NODE_CHANGED, "variables": {"id": task_id}}
        async with stream(gateway, headers=reader, json=operation) as events:
            refused, ended = await events.event(), await events.event()
        assert gateway.changes.subscribers == 0
    assert [e["extensions"]["code"] for e in refused["data"]["errors"]] == ["FORBIDDEN"]
    assert ended == {"event": "complete", "data": None}


async def test_a_client_past_its_subscriptions_is_refused_across_transports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch, GATEWAY_MAX_SUBSCRIPTIONS="1") as gateway:
        task_id = await new_task(gateway.url)
        operation = {"query": NODE_CHANGED, "variables": {"id": task_id}}
        async with stream(gateway, headers=AUTH, json=operation) as first:
            await asyncio.wait_for(gateway.listening(), 10)
            async with stream(gateway, headers=AUTH, json=operation) as second:
                refused = await second.event()
            await post(gateway.url, TOGGLE, {"id": task_id})
            event = await first.event()
    assert [e["extensions"]["code"] for e in refused["data"]["errors"]] == [
        "TOO_MANY_SUBSCRIPTIONS"
    ]
    assert event["data"]["data"]["nodeChanged"]["kind"] == "UPDATED"


async def test_an_idle_stream_gets_keep_alive_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    with served(monkeypatch, GATEWAY_SSE_KEEPALIVE="0.05") as gateway:
        task_id = await new_task(gateway.url)
        operation = {"query": NODE_CHANGED, "variables": {"id": task_id}}
        async with stream(gateway, headers=AUTH, json=operation) as events:
            first = await asyncio.wait_for(events.next_event(), 10)
            second = await asyncio.wait_for(events.next_event(), 10)
    assert first == second == {"comment": "ping"}
