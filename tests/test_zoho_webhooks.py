"""Zoho Invoice's workflow webhooks: a change in Zoho's sandbox reaches a subscriber through
the webhook it sends to a real gateway; deliveries without the shared secret, oversized or
malformed are refused without a bus event; a retried delivery is published once; the
documented payload variants are understood; the sandbox sends its format and retries."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from gateway.core.ids import encode_id
from gateway.http.webhooks import MAX_BODY_BYTES
from gateway.vendors.zoho import ZOHO
from gateway.vendors.zoho.sandbox import CLIENT_ID, CLIENT_SECRET, ORGANIZATION_ID, REFRESH_TOKEN
from gateway.vendors.zoho.sandbox import create_app as create_zoho_sandbox
from gateway.vendors.zoho.sandbox.webhooks import DEMO_SECRET
from tests.test_subscriptions import NODE_CHANGED, open_socket, receive, send, served, subscribed
from tests.test_webhooks import Receiver, gateway, recorded_waits, sandbox_client, with_receiver

PROJECT = "903000000072369"
TASK = "903000000072385"
PROJECT_ID = encode_id(ZOHO, "Project", PROJECT)
TASK_ID = encode_id(ZOHO, "ProjectTask", PROJECT, TASK)
MODIFIED = "2026-03-10T10:25:31+0530"


def with_token(secret: str = DEMO_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Gateway-Webhook-Token": secret}


def project_event(**fields: Any) -> bytes:
    project = {
        "project_id": PROJECT,
        "project_name": "Storefront Website Redesign",
        "created_time": "2026-01-05T09:00:00+0530",
        "last_modified_time": MODIFIED,
        "tasks": [{"task_id": TASK, "task_name": "Wireframes"}],
        **fields,
    }
    return orjson.dumps({"project": project})


def first_task_of(sandbox: Any) -> tuple[str, str]:
    project = sandbox.state.store.projects[PROJECT]
    return PROJECT, next(iter(project.tasks))


async def test_a_change_in_zohos_sandbox_reaches_a_task_subscriber_through_its_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served(monkeypatch) as gw:
        sandbox = create_zoho_sandbox(webhook_url=gw.url + "/webhooks/zoho")
        project, task = first_task_of(sandbox)
        task_id = encode_id(ZOHO, "ProjectTask", project, task)
        async with await subscribed(gw.url, task_id) as socket:
            await asyncio.wait_for(gw.listening(), 10)
            async with sandbox_client(sandbox) as client:
                change = {"type": "task", "id": task, "set": {"task_name": "Renamed"}}
                answer = await client.post("/_admin/changes", json=change)
                assert answer.status_code == 200, answer.text
            event = await asyncio.wait_for(receive(socket), 10)
        await asyncio.wait_for(sandbox.state.webhooks.drained(), 10)
    changed = event["payload"]["data"]["nodeChanged"]
    assert changed == {"vendor": "ZOHO", "type": "ProjectTask", "id": task_id, "kind": "UPDATED"}


async def test_a_project_event_is_published_once_for_it_and_its_tasks_however_often_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = project_event()
    async with gateway(monkeypatch) as gw:
        for _ in range(3):
            answer = await gw.client.post("/webhooks/zoho", content=body, headers=with_token())
            assert answer.status_code == 204
        events = [gw.events.get_nowait() for _ in range(2)]
        assert gw.events.empty()
        # A later edit of the same project is a new event.
        later = project_event(last_modified_time="2026-03-10T10:26:00+0530")
        await gw.client.post("/webhooks/zoho", content=later, headers=with_token())
        assert gw.events.qsize() == 2
    assert [(e.vendor, e.type_name, e.id, e.kind) for e in events] == [
        (ZOHO, "Project", PROJECT_ID, "updated"),
        (ZOHO, "ProjectTask", TASK_ID, "updated"),
    ]
    assert events[0].at.isoformat() == "2026-03-10T10:25:31+05:30"


def _form(**fields: str) -> bytes:
    return urlencode(fields).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded", "X-Gateway-Webhook-Token": DEMO_SECRET}
TASK_JSON = {"task_id": TASK, "project_id": PROJECT, "task_name": "Wireframes"}


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (orjson.dumps({"project_id": PROJECT, "project_name": "Flat"}), with_token(),
         [("Project", PROJECT_ID, "updated")]),
        (orjson.dumps({"task": TASK_JSON}), with_token(), [("ProjectTask", TASK_ID, "updated")]),
        (orjson.dumps({"project_id": PROJECT, "task": {"task_id": int(TASK)}}), with_token(),
         [("ProjectTask", TASK_ID, "updated")]),
        (_form(JSONString=orjson.dumps({"task": TASK_JSON}).decode()), FORM,
         [("ProjectTask", TASK_ID, "updated")]),
        (_form(task_id=TASK, project_id=PROJECT), FORM, [("ProjectTask", TASK_ID, "updated")]),
        (project_event(created_time=MODIFIED, tasks=[]), with_token(),
         [("Project", PROJECT_ID, "created")]),
    ],
    ids=["flat-project", "task", "task-in-a-project-rule", "form-jsonstring", "form-flat",
         "created"],
)  # fmt: skip
async def test_the_documented_payload_variants_are_understood(
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    headers: dict[str, str],
    expected: list[tuple[str, str, str]],
) -> None:
    async with gateway(monkeypatch) as gw:
        answer = await gw.client.post("/webhooks/zoho", content=body, headers=headers)
        assert answer.status_code == 204
        events = [gw.events.get_nowait() for _ in expected]
        assert gw.events.empty()
    assert [(e.type_name, e.id, e.kind) for e in events] == expected


OVERSIZED = b"x" * (MAX_BODY_BYTES + 1)


@pytest.mark.parametrize(
    ("headers", "body", "status", "env"),
    [
        (with_token("not the secret"), project_event(), 401, {}),
        ({"Content-Type": "application/json"}, project_event(), 401, {}),
        (with_token(DEMO_SECRET + "x"), project_event(), 401, {}),
        (with_token(), OVERSIZED, 413, {}),
        (with_token(), b"[1, 2]", 400, {}),
        (with_token(), b"{not json", 400, {}),
        (with_token(), orjson.dumps({"project": {"project_name": "no id"}}), 400, {}),
        (with_token(), orjson.dumps({"project_id": "PRJ-1"}), 400, {}),
        (with_token(), orjson.dumps({"task": {"task_id": TASK}}), 400, {}),
        (with_token(), project_event(tasks=[{"task_id": ""}]), 400, {}),
        (with_token(), project_event(), 404, {"ZOHO_WEBHOOK_SECRET": ""}),
    ],
    ids=["wrong-token", "no-token", "longer-token", "oversized", "not-an-object", "not-json",
         "project-without-id", "id-not-zohos", "task-without-project", "task-without-id",
         "no-secret"],
)  # fmt: skip
async def test_a_refused_zoho_delivery_publishes_nothing_and_remembers_nothing(
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    body: bytes,
    status: int,
    env: dict[str, str],
) -> None:
    async with gateway(monkeypatch, **env) as gw:
        refused = await gw.client.post("/webhooks/zoho", content=body, headers=headers)
        assert refused.status_code == status
        assert gw.events.empty()
        if env:
            return
        # The refusal left no trace: the genuine delivery of the same body is published.
        genuine = project_event()
        answer = await gw.client.post("/webhooks/zoho", content=genuine, headers=with_token())
        assert answer.status_code == 204
        assert gw.events.qsize() == 2
    assert DEMO_SECRET.encode() not in refused.content


async def test_a_zoho_event_about_another_module_is_acknowledged_and_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = orjson.dumps({"invoice": {"invoice_id": "903000000090001", "total": 10}})
    async with gateway(monkeypatch) as gw:
        answer = await gw.client.post("/webhooks/zoho", content=body, headers=with_token())
        assert answer.status_code == 204
        assert gw.events.empty()


async def _access_token(client: httpx.AsyncClient) -> str:
    grant = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN,
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}  # fmt: skip
    answer = await client.post("/accounts/oauth/v2/token", data=grant)
    token: str = answer.json()["access_token"]
    return token


async def test_zohos_sandbox_sends_the_project_with_the_token_without_holding_its_answer() -> None:
    sandbox = create_zoho_sandbox(webhook_url="http://gateway/webhooks/zoho")
    receiver = Receiver()
    sender = with_receiver(sandbox, receiver)
    async with sandbox_client(sandbox) as client:
        headers = {
            "Authorization": f"Zoho-oauthtoken {await _access_token(client)}",
            "X-com-zoho-invoice-organizationid": ORGANIZATION_ID,
        }
        # The receiver holds every delivery until released: the write is answered first.
        answer = await client.post(f"/invoice/v3/projects/{PROJECT}/inactive", headers=headers)
        assert answer.status_code == 200, answer.text
        assert not receiver.requests and len(sender.deliveries) == 1
        detail = (await client.get(f"/invoice/v3/projects/{PROJECT}", headers=headers)).json()
    receiver.release.set()
    await asyncio.wait_for(sender.drained(), 10)
    (request,) = receiver.requests
    assert request.method == "POST" and str(request.url) == "http://gateway/webhooks/zoho"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-gateway-webhook-token"] == DEMO_SECRET
    # The project as its API shows it after the write, tasks and all.
    assert orjson.loads(request.content) == {"project": detail["project"]}
    assert detail["project"]["status"] == "inactive" and detail["project"]["tasks"]


async def test_zohos_sandbox_retries_a_failed_delivery_with_the_same_body() -> None:
    sandbox = create_zoho_sandbox(webhook_url="http://gateway/webhooks/zoho")
    receiver = Receiver(500, 503)
    receiver.release.set()
    sender = with_receiver(sandbox, receiver)
    waits = recorded_waits(sender)
    async with sandbox_client(sandbox) as client:
        change = {"type": "project", "id": PROJECT, "set": {"description": "Changed"}}
        assert (await client.post("/_admin/changes", json=change)).status_code == 200
    await asyncio.wait_for(sender.drained(), 10)
    assert len(receiver.requests) == 3 and waits == [900.0, 900.0]
    assert len({request.content for request in receiver.requests}) == 1


async def test_the_demo_delivers_zohos_webhooks_to_its_own_endpoint(demo_url: str) -> None:
    async with (
        httpx.AsyncClient(base_url=demo_url) as client,
        await open_socket(demo_url, {}) as socket,
    ):
        assert (await asyncio.wait_for(receive(socket), 10))["type"] == "connection_ack"
        subscribe = {"query": NODE_CHANGED, "variables": {"id": PROJECT_ID}}
        await send(socket, {"id": "1", "type": "subscribe", "payload": subscribe})
        # The subscription starts after its subscribe message is read: changes (each
        # leaving the description as seeded, as other tests share the demo) are made
        # until one arrives.
        seeded = create_zoho_sandbox().state.store.projects[PROJECT].description
        same = {"type": "project", "id": PROJECT, "set": {"description": seeded}}
        for _ in range(100):
            answer = await client.post("/zoho/_admin/changes", json=same)
            assert answer.status_code == 200
            try:
                event = await asyncio.wait_for(receive(socket), 0.5)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no change event reached the subscriber")
    changed = event["payload"]["data"]["nodeChanged"]
    assert changed == {"vendor": "ZOHO", "type": "Project", "id": PROJECT_ID, "kind": "UPDATED"}
