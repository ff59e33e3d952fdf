"""Vendor webhooks: a change in Invoiced's sandbox reaches a subscriber through the signed
webhook it sends to a real gateway; forged, oversized, unknown and unconfigured deliveries
are refused without a bus event; a duplicate delivery is published once; the sandbox sends
Invoiced's documented format and retries as Invoiced does."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.http.webhooks import MAX_BODY_BYTES
from gateway.registry import PLUGINS
from gateway.state.changes import ChangeBus, ChangeEvent
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.invoiced.sandbox import create_app as create_invoiced_sandbox
from gateway.vendors.invoiced.sandbox.webhooks import DEMO_SECRET, WebhookSender
from tests.conftest import gateway_settings
from tests.redis_server import redis_server
from tests.test_subscriptions import (
    NODE_CHANGED,
    _redis_listener,
    open_socket,
    receive,
    send,
    served,
    subscribed,
)

TASK = 700
TASK_ID = encode_id(INVOICED, "Task", TASK)
CHANGE = {"type": "task", "id": TASK, "set": {"complete": True}}


def signed(body: bytes, secret: str = DEMO_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Invoiced-Signature": digest}


def task_event(event_id: int = 91, event_type: str = "task.updated", task_id: int = TASK) -> bytes:
    task = {"id": task_id, "name": "Call", "complete": True}
    event = {"id": event_id, "type": event_type, "timestamp": 1_767_225_600}
    return orjson.dumps({**event, "object": "event", "data": {"object": task}})


async def admin_change(sandbox: httpx.AsyncClient) -> None:
    answer = await sandbox.post("/_admin/changes", json=CHANGE)
    assert answer.status_code == 200, answer.text


def sandbox_client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")  # type: ignore[arg-type]


async def test_a_change_in_the_sandbox_reaches_a_subscriber_through_its_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch) as gateway:
        sandbox = create_invoiced_sandbox(webhook_url=gateway.url + "/webhooks/invoiced")
        async with await subscribed(gateway.url, TASK_ID) as socket:
            await asyncio.wait_for(gateway.listening(), 10)
            async with sandbox_client(sandbox) as client:
                await admin_change(client)
            event = await asyncio.wait_for(receive(socket), 10)
        await asyncio.wait_for(sandbox.state.webhooks.drained(), 10)
    changed = event["payload"]["data"]["nodeChanged"]
    assert changed == {"vendor": "INVOICED", "type": "Task", "id": TASK_ID, "kind": "UPDATED"}


@dataclass
class Gateway:
    client: httpx.AsyncClient
    bus: ChangeBus
    events: asyncio.Queue[ChangeEvent]


@asynccontextmanager
async def gateway(monkeypatch: pytest.MonkeyPatch, **env: str) -> AsyncIterator[Gateway]:
    """A gateway app in this process, and a subscriber of its bus to count events."""
    app = create_app(gateway_settings(monkeypatch, PLUGINS, **env))
    bus: ChangeBus = app.state.changes
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
        bus.subscribe("observer") as events,
    ):
        yield Gateway(client, bus, events)


async def test_a_signed_task_event_is_published_once_however_often_it_is_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = task_event()
    async with gateway(monkeypatch) as gw:
        answers = [
            await gw.client.post("/webhooks/invoiced", content=body, headers=signed(body))
            for _ in range(3)
        ]
        assert [answer.status_code for answer in answers] == [204, 204, 204]
        event = gw.events.get_nowait()
        assert gw.events.empty()
    assert (event.vendor, event.type_name, event.id, event.kind) == (
        INVOICED,
        "Task",
        TASK_ID,
        "updated",
    )
    assert event.at.timestamp() == 1_767_225_600


async def test_processes_sharing_redis_publish_an_event_delivered_to_each_of_them_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first, duplicate, later = task_event(91), task_event(91), task_event(92, task_id=TASK + 1)
    with redis_server(tmp_path) as server:
        async with (
            gateway(monkeypatch, GATEWAY_REDIS_URL=server.url) as one,
            gateway(monkeypatch, GATEWAY_REDIS_URL=server.url) as other,
        ):
            await asyncio.wait_for(_redis_listener(server.url), 10)
            await one.client.post("/webhooks/invoiced", content=first, headers=signed(first))
            for body in (duplicate, later):
                answer = await other.client.post(
                    "/webhooks/invoiced", content=body, headers=signed(body)
                )
                assert answer.status_code == 204
            # The other process's events reach this one through Redis, in the order it
            # published them: once the later one is here, a published duplicate would be too.
            seen = [(await asyncio.wait_for(one.events.get(), 10)).id for _ in range(2)]
            while seen[-1] != encode_id(INVOICED, "Task", TASK + 1):
                seen.append((await asyncio.wait_for(one.events.get(), 10)).id)
    assert seen == [TASK_ID, encode_id(INVOICED, "Task", TASK + 1)]


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "env"),
    [
        ("/webhooks/invoiced", signed(task_event(), "not the secret"), task_event(), 401, {}),
        ("/webhooks/invoiced", {"Content-Type": "application/json"}, task_event(), 401, {}),
        ("/webhooks/invoiced", signed(b"x" * (MAX_BODY_BYTES + 1)), b"x" * (MAX_BODY_BYTES + 1),
         413, {}),
        ("/webhooks/acme", signed(task_event()), task_event(), 404, {}),
        ("/webhooks/fakturoid", signed(task_event()), task_event(), 404, {}),
        ("/webhooks/invoiced", signed(task_event()), task_event(), 404,
         {"INVOICED_WEBHOOK_SECRET": ""}),
        ("/webhooks/invoiced", signed(b"[1, 2]"), b"[1, 2]", 400, {}),
    ],
    ids=["bad-signature", "no-signature", "oversized", "unknown-vendor", "vendor-without-webhooks",
         "no-secret", "signed-but-malformed"],
)  # fmt: skip
async def test_a_refused_delivery_publishes_nothing_and_remembers_nothing(
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    env: dict[str, str],
) -> None:
    async with gateway(monkeypatch, **env) as gw:
        refused = await gw.client.post(path, content=body, headers=headers)
        assert refused.status_code == status
        assert gw.events.empty()
        if env:
            return
        # The refusal left no trace: the genuine event with the same id is still published.
        genuine = task_event()
        answer = await gw.client.post(
            "/webhooks/invoiced", content=genuine, headers=signed(genuine)
        )
        assert answer.status_code == 204
        assert gw.events.qsize() == 1
    assert TASK_ID.encode() not in refused.content and DEMO_SECRET.encode() not in refused.content


async def test_an_event_about_something_the_gateway_does_not_serve_is_acknowledged_and_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = task_event(event_type="invoice.created")
    async with gateway(monkeypatch) as gw:
        answer = await gw.client.post("/webhooks/invoiced", content=body, headers=signed(body))
        assert answer.status_code == 204
        assert gw.events.empty()


class Receiver:
    """A webhook endpoint that records what arrives and answers with ``statuses`` in turn."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []
        self.release = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await self.release.wait()
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 204)


def with_receiver(sandbox: object, receiver: Receiver) -> WebhookSender:
    sender: WebhookSender = sandbox.state.webhooks  # type: ignore[attr-defined]
    sender.transport = httpx.MockTransport(receiver.handle)
    return sender


def recorded_waits(sender: WebhookSender) -> list[float]:
    """The sender's pauses between attempts, recorded instead of slept."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    sender.sleep = sleep
    return waits


async def test_the_sandbox_sends_invoiceds_documented_event_without_holding_its_answer() -> None:
    sandbox = create_invoiced_sandbox(webhook_url="http://gateway/webhooks/invoiced")
    receiver = Receiver()
    sender = with_receiver(sandbox, receiver)
    auth = httpx.BasicAuth("sandbox_invoiced_key", "")
    async with sandbox_client(sandbox) as client:
        # The receiver holds every delivery until released: the write is answered first.
        answer = await client.patch(f"/tasks/{TASK}", json={"name": "Renamed"}, auth=auth)
        assert answer.status_code == 200
        assert not receiver.requests and len(sender.deliveries) == 1
    receiver.release.set()
    await asyncio.wait_for(sender.drained(), 10)
    (request,) = receiver.requests
    body = request.content
    assert request.method == "POST" and str(request.url) == "http://gateway/webhooks/invoiced"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Invoiced/1.0"
    expected = hmac.new(DEMO_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["x-invoiced-signature"] == expected
    event = orjson.loads(body)
    assert set(event) == {"id", "object", "type", "timestamp", "data"}
    assert (event["object"], event["type"]) == ("event", "task.updated")
    assert event["data"]["object"]["id"] == TASK and event["data"]["object"]["name"] == "Renamed"


async def test_the_sandbox_retries_a_failed_delivery_every_hour_as_invoiced_does() -> None:
    sandbox = create_invoiced_sandbox(webhook_url="http://gateway/webhooks/invoiced")
    receiver = Receiver(500, 503)
    receiver.release.set()
    sender = with_receiver(sandbox, receiver)
    waits = recorded_waits(sender)
    async with sandbox_client(sandbox) as client:
        await admin_change(client)
    await asyncio.wait_for(sender.drained(), 10)
    assert len(receiver.requests) == 3 and waits == [3600.0, 3600.0]
    bodies = {request.content for request in receiver.requests}
    assert len(bodies) == 1  # the same event, id and all, every time


async def test_the_demo_delivers_its_sandboxs_webhooks_to_its_own_endpoint(demo_url: str) -> None:
    auth = httpx.BasicAuth("sandbox_invoiced_key", "")
    async with httpx.AsyncClient(base_url=demo_url, auth=auth) as client:
        # A task that is there now (the demo is shared, and other tests write to it).
        [task] = (await client.get("/invoiced/tasks", params={"per_page": 1})).json()
        task_id = encode_id(INVOICED, "Task", task["id"])
        async with await open_socket(demo_url, {}) as socket:
            assert (await asyncio.wait_for(receive(socket), 10))["type"] == "connection_ack"
            subscribe = {"query": NODE_CHANGED, "variables": {"id": task_id}}
            await send(socket, {"id": "1", "type": "subscribe", "payload": subscribe})
            # The subscription starts after its subscribe message is read: a change made
            # before would be missed, so changes (leaving the task as it is) are made until
            # one arrives.
            same = {"type": "task", "id": task["id"], "set": {"complete": task["complete"]}}
            for _ in range(100):
                answer = await client.post("/invoiced/_admin/changes", json=same)
                assert answer.status_code == 200
                try:
                    event = await asyncio.wait_for(receive(socket), 0.5)
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail("no change event reached the subscriber")
    changed = event["payload"]["data"]["nodeChanged"]
    assert changed == {"vendor": "INVOICED", "type": "Task", "id": task_id, "kind": "UPDATED"}
