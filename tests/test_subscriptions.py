"""Subscriptions over GraphQL over WebSocket (graphql-transport-ws) against a real
uvicorn gateway: a write through HTTP reaches the subscriber of its node, in this
process and, through a real redis-server, in another; credentials and scopes are
checked at connection_init and at subscribe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

from gateway.auth.api_keys import hash_key
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import PLUGINS
from gateway.state.changes import CHANNEL_SUFFIX, ChangeBus
from gateway.state.storage.redis_store import KEY_PREFIX
from tests.conftest import gateway_settings
from tests.redis_server import redis_server
from tests.servers import serve_in_thread

KEYS = {
    "everything": ("tgw_everything_0001", "*:read,*:write"),
    "fakturoid-reader": ("tgw_fakturoid_reader_0001", "fakturoid:read"),
}
AUTH = {"X-API-Key": KEYS["everything"][0]}
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }"""
TOGGLE = """mutation($id: ID!) { toggleTaskCompletion(id: $id) { task { complete } } }"""
NODE_CHANGED = """subscription($id: ID!) { nodeChanged(id: $id) { vendor type id kind } }"""
PROTOCOL = "graphql-transport-ws"


@contextmanager
def served(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> Iterator[Served]:
    """A gateway under uvicorn on loopback, with its own sandboxes; API keys on."""
    keys = ";".join(f"{name}:{hash_key(key)}:{scopes}" for name, (key, scopes) in KEYS.items())
    settings = gateway_settings(
        monkeypatch, PLUGINS, GATEWAY_AUTH="true", GATEWAY_API_KEYS=keys, **overrides
    )
    sandbox = httpx.ASGITransport(app=create_sandbox_app(settings.plugins))
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(settings, transports=dict.fromkeys(vendors, sandbox))
    with serve_in_thread(app) as url:
        yield Served(url, app.state.changes)


@dataclass
class Served:
    url: str
    changes: ChangeBus

    async def listening(self, count: int = 1) -> None:
        """Until ``count`` subscriptions have started: an operation's first event is
        awaited in its own task, after the subscribe message was answered."""
        # The bus lives in the server's thread and loop: no event of ours to await.
        while self.changes.subscribers < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def post(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url + "/graphql", json={"query": query, "variables": variables}, headers=AUTH
        )
    body: dict[str, Any] = answer.json()
    assert body.get("data") is not None, body
    return body


async def new_task(url: str) -> str:
    body = await post(
        url,
        CREATE,
        {"input": {"name": "Call them", "action": "PHONE", "dueDate": "2026-12-01T09:00:00+00:00"}},
    )
    task_id: str = body["data"]["createTask"]["task"]["id"]
    return task_id


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


async def send(socket: Connection, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def receive(socket: Connection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await socket.recv())
    return message


async def open_socket(url: str, payload: dict[str, str]) -> Connection:
    socket = await connect(ws_url(url), subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await send(socket, {"type": "connection_init", "payload": payload})
    return socket


async def subscribed(url: str, task_id: str) -> Connection:
    socket = await open_socket(url, AUTH)
    assert (await receive(socket))["type"] == "connection_ack"
    await send(
        socket,
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": NODE_CHANGED, "variables": {"id": task_id}},
        },
    )
    return socket


async def test_a_write_through_http_reaches_the_nodes_subscriber(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch) as gateway:
        url = gateway.url
        task_id = await new_task(url)
        async with await subscribed(url, task_id) as socket:
            await asyncio.wait_for(gateway.listening(), 10)
            toggled = await post(url, TOGGLE, {"id": task_id})
            assert toggled["data"]["toggleTaskCompletion"]["task"]["complete"] is True
            event = await asyncio.wait_for(receive(socket), 10)
    assert event == {
        "id": "1",
        "type": "next",
        "payload": {
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


async def test_a_client_without_the_vendors_read_scope_is_refused_at_subscribe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch) as gateway:
        task_id = await new_task(gateway.url)
        async with await open_socket(
            gateway.url, {"X-API-Key": KEYS["fakturoid-reader"][0]}
        ) as socket:
            assert (await receive(socket))["type"] == "connection_ack"
            await send(
                socket,
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": NODE_CHANGED, "variables": {"id": task_id}},
                },
            )
            refused = await asyncio.wait_for(receive(socket), 10)
            ended = await asyncio.wait_for(receive(socket), 10)
    assert refused["type"] == "next" and refused["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]
    assert ended == {"id": "1", "type": "complete"}
    assert gateway.changes.subscribers == 0


@pytest.mark.parametrize("payload", [{}, {"X-API-Key": "tgw_not_a_key"}])
async def test_a_connection_without_a_valid_credential_is_closed(
    monkeypatch: pytest.MonkeyPatch, payload: dict[str, str]
) -> None:
    with served(monkeypatch) as gateway:
        async with await open_socket(gateway.url, payload) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(receive(socket), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_write_on_one_gateway_reaches_a_subscriber_of_another_through_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (
        redis_server(tmp_path) as server,
        served(monkeypatch, GATEWAY_REDIS_URL=server.url) as writer,
        served(monkeypatch, GATEWAY_REDIS_URL=server.url) as reader,
    ):
        task_id = await new_task(writer.url)
        async with await subscribed(reader.url, task_id) as socket:
            await asyncio.wait_for(reader.listening(), 10)
            await asyncio.wait_for(_redis_listener(server.url), 10)
            await post(writer.url, TOGGLE, {"id": task_id})
            event = await asyncio.wait_for(receive(socket), 10)
    assert event["payload"]["data"]["nodeChanged"]["id"] == task_id


async def _redis_listener(url: str) -> None:
    """Until a gateway listens on the changes channel."""
    redis = Redis.from_url(url)
    try:
        while True:
            [(_, count)] = await redis.pubsub_numsub(KEY_PREFIX + CHANNEL_SUFFIX)
            if count:
                return
            await asyncio.sleep(0.01)
    finally:
        await redis.aclose()


async def test_a_client_past_its_subscriptions_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch, GATEWAY_MAX_SUBSCRIPTIONS="1") as gateway:
        task_id = await new_task(gateway.url)
        async with (
            await subscribed(gateway.url, task_id) as first,
            await subscribed(gateway.url, task_id) as second,
        ):
            refused = await asyncio.wait_for(receive(second), 10)
            assert gateway.changes.subscribers == 1
            await post(gateway.url, TOGGLE, {"id": task_id})
            event = await asyncio.wait_for(receive(first), 10)
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == [
        "TOO_MANY_SUBSCRIPTIONS"
    ]
    assert event["payload"]["data"]["nodeChanged"]["kind"] == "UPDATED"


KEYED_TOGGLE = """mutation($id: ID!, $key: String) {
  toggleTaskCompletion(id: $id, idempotencyKey: $key) { task { complete } }
}"""
DELETE = """mutation($id: ID!) { deleteTask(id: $id) { deletedId } }"""


async def test_a_replayed_write_publishes_no_second_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replay answers from the idempotency store and sends nothing: the next
    event the subscriber sees is the delete's, not a second update."""
    with served(monkeypatch) as gateway:
        url = gateway.url
        task_id = await new_task(url)
        async with await subscribed(url, task_id) as socket:
            await asyncio.wait_for(gateway.listening(), 10)
            variables = {"id": task_id, "key": "replayed-toggle-0001"}
            first = await post(url, KEYED_TOGGLE, variables)
            replayed = await post(url, KEYED_TOGGLE, variables)
            assert replayed["data"] == first["data"]
            await post(url, DELETE, {"id": task_id})
            kinds = [
                (await asyncio.wait_for(receive(socket), 10))["payload"]["data"]["nodeChanged"][
                    "kind"
                ]
                for _ in range(2)
            ]
    assert kinds == ["UPDATED", "DELETED"]


async def test_a_subscription_that_does_not_parse_is_told_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """graphql-transport-ws closes the socket (4400) saying what did not parse."""
    with served(monkeypatch) as gateway:
        async with await open_socket(gateway.url, AUTH) as socket:
            assert (await receive(socket))["type"] == "connection_ack"
            await send(
                socket, {"id": "1", "type": "subscribe", "payload": {"query": "subscription {"}}
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(receive(socket), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert closed.value.rcvd.reason.startswith("Syntax Error")
