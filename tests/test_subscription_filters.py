"""`workItemChanged(filter:)` against a real uvicorn gateway over its sandboxes, served in
the test's own loop so changes can also be published on the app's change bus: item
criteria are matched against the item read by id after each change, an item that
leaves the filtered list is told once, a bad filter is refused at subscribe, a
subscription without item criteria reads nothing, and a failing read delivers the
change with `matchesFilter: null`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection

from gateway.auth.api_keys import hash_key
from gateway.core.ids import decode_id
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import PLUGINS
from gateway.state.changes import ChangeBus, ChangeEvent
from tests.conftest import FaultyTransport, gateway_settings
from tests.servers import serve_in_loop

KEY = "tgw_everything_0001"
AUTH = {"X-API-Key": KEY}
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }"""
TOGGLE = """mutation($id: ID!) { toggleTaskCompletion(id: $id) { task { complete } } }"""
CHANGED = """subscription($vendors: [Vendor!], $filter: WorkItemFilter) {
  workItemChanged(vendors: $vendors, filter: $filter) { vendor type id kind matchesFilter }
}"""


@dataclass
class Served:
    url: str
    app: Starlette
    sandbox: Starlette
    transport: FaultyTransport

    @property
    def changes(self) -> ChangeBus:
        bus: ChangeBus = self.app.state.changes
        return bus

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                self.url + "/graphql", json={"query": query, "variables": variables}, headers=AUTH
            )
        body: dict[str, Any] = answer.json()
        assert body.get("data") is not None, body
        return body

    async def new_task(self, name: str) -> str:
        due = "2026-12-01T09:00:00+00:00"
        variables = {"input": {"name": name, "action": "PHONE", "dueDate": due}}
        body = await self.post(CREATE, variables)
        task_id: str = body["data"]["createTask"]["task"]["id"]
        return task_id

    async def toggle(self, task_id: str) -> None:
        await self.post(TOGGLE, {"id": task_id})

    async def listening(self, count: int) -> None:
        while self.changes.subscribers < count:  # noqa: ASYNC110 - the bus sets no event
            await asyncio.sleep(0.01)

    async def publish(self, global_id: str, kind: str = "updated") -> None:
        target = decode_id(global_id)
        event = ChangeEvent(target.vendor, target.type_name, global_id, kind, datetime.now(UTC))
        await self.changes.publish(event)

    def record(self) -> list[httpx.Request]:
        """Every request that reaches the sandboxes from now on."""
        seen: list[httpx.Request] = []

        def watch(request: httpx.Request) -> httpx.Response | None:
            seen.append(request)
            return None

        self.transport.faults.append(watch)
        return seen


@asynccontextmanager
async def served(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    settings = gateway_settings(
        monkeypatch,
        PLUGINS,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=f"everything:{hash_key(KEY)}:*:read,*:write",
    )
    sandbox = create_sandbox_app(settings.plugins)
    transport = FaultyTransport(httpx.ASGITransport(app=sandbox))
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(settings, transports=dict.fromkeys(vendors, transport))
    async with serve_in_loop(app) as url:
        yield Served(url, app, sandbox, transport)
    await app.state.adapters.aclose()


async def receive(socket: Connection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
    return message


@asynccontextmanager
async def subscription(
    gateway: Served, variables: dict[str, Any], *, listening: int = 1
) -> AsyncIterator[Connection]:
    """A graphql-transport-ws socket subscribed to `workItemChanged` with ``variables``,
    once ``listening`` subscriptions are on the bus."""
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": AUTH}))
        assert (await receive(socket))["type"] == "connection_ack"
        message = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": CHANGED, "variables": variables},
        }
        await socket.send(json.dumps(message))
        if listening:
            await asyncio.wait_for(gateway.listening(listening), 10)
        yield socket


async def next_change(socket: Connection) -> dict[str, Any]:
    message = await receive(socket)
    assert message["type"] == "next", message
    change: dict[str, Any] = message["payload"]["data"]["workItemChanged"]
    return change


async def test_an_open_items_filter_delivers_an_open_tasks_change_and_not_a_completed_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch) as gateway:
        done_later = await gateway.new_task("Done by the time it is seen")
        async with subscription(gateway, {"filter": {"completed": False}}) as socket:
            await gateway.toggle(done_later)  # completed now, never delivered: not told
            open_task = await gateway.new_task("Still to do")
            first = await next_change(socket)
    assert first == {
        "vendor": "INVOICED",
        "type": "Task",
        "id": open_task,
        "kind": "CREATED",
        "matchesFilter": True,
    }


async def test_a_delivered_task_that_completes_arrives_once_with_matches_filter_false(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        served(monkeypatch) as gateway,
        subscription(gateway, {"filter": {"completed": False}}) as socket,
    ):
        task = await gateway.new_task("Call the customer")
        created = await next_change(socket)
        await gateway.toggle(task)  # leaves the list: told, with matchesFilter false
        left = await next_change(socket)
        await gateway.publish(task)  # still completed and already told: not again
        await gateway.toggle(task)  # open again: back in the list
        back = await next_change(socket)
    assert [(c["kind"], c["matchesFilter"]) for c in (created, left, back)] == [
        ("CREATED", True),
        ("UPDATED", False),
        ("UPDATED", True),
    ]
    assert {c["id"] for c in (created, left, back)} == {task}


async def test_a_search_filter_matches_titles_and_what_work_items_searches_besides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`search` as `workItems` applies it: an Invoiced task's name, and a Zoho task's
    description (the seeded "Wireframes" task says "Home, menu and ordering pages.")."""
    async with served(monkeypatch) as gateway:
        listed = await gateway.post(
            'query { workItems(filter: {vendors: [ZOHO], search: "menu"}) { nodes { id } } }',
            {},
        )
        [zoho_task] = [n["id"] for n in listed["data"]["workItems"]["nodes"]]
        other_zoho = await gateway.post(
            'query { workItems(filter: {vendors: [ZOHO], search: "workshop"}) { nodes { id } } }',
            {},
        )
        [unmatched_zoho] = [n["id"] for n in other_zoho["data"]["workItems"]["nodes"]]
        async with subscription(gateway, {"filter": {"search": "MENU"}}) as socket:
            await gateway.new_task("Call about the invoice")
            await gateway.publish(unmatched_zoho)
            await gateway.new_task("Update the menu prices")
            by_title = await next_change(socket)
            await gateway.publish(zoho_task)
            by_description = await next_change(socket)
    assert by_title["vendor"] == "INVOICED" and by_title["matchesFilter"] is True
    assert by_description == {
        "vendor": "ZOHO",
        "type": "ProjectTask",
        "id": zoho_task,
        "kind": "UPDATED",
        "matchesFilter": True,
    }


@pytest.mark.parametrize(
    "variables",
    [
        {"filter": {"search": "x" * 201}},
        {"filter": {"dueBefore": "2026-12-01T00:00:00+00:00", "dueAfter": "2026-12-02T00:00:00Z"}},
        {"filter": {"dueBefore": "2026-12-01T00:00:00"}},
        {"vendors": ["INVOICED"], "filter": {"vendors": ["ZOHO"]}},
    ],
)
async def test_a_bad_filter_is_refused_at_subscribe_with_its_code(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, Any]
) -> None:
    async with (
        served(monkeypatch) as gateway,
        subscription(gateway, variables, listening=0) as socket,
    ):
        refused = await receive(socket)
        ended = await receive(socket)
    assert refused["type"] == "next" and refused["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["BAD_USER_INPUT"]
    assert ended == {"id": "1", "type": "complete"}


async def test_filter_vendors_and_vendors_deliver_the_vendors_in_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with served(monkeypatch) as gateway:
        task = await gateway.new_task("Call them")
        listed = await gateway.post(
            "query { workItems(filter: {vendors: [ZOHO]}) { nodes { id } } }", {}
        )
        zoho_task = listed["data"]["workItems"]["nodes"][0]["id"]
        both = {"vendors": ["INVOICED", "ZOHO"], "filter": {"vendors": ["ZOHO", "FAKTUROID"]}}
        async with subscription(gateway, both) as socket:
            await gateway.publish(task)
            await gateway.publish(zoho_task)
            change = await next_change(socket)
    assert (change["id"], change["matchesFilter"]) == (zoho_task, None)


async def test_without_item_criteria_a_change_costs_no_upstream_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A filter of vendors only reads nothing; one with item criteria reads the item once
    per event, shared between its subscriptions by collapsing and the read cache."""
    async with served(monkeypatch) as gateway:
        task = await gateway.new_task("Call them")
        async with subscription(gateway, {"filter": {"vendors": ["INVOICED"]}}) as plain:
            calls = gateway.record()
            for _ in range(3):
                await gateway.publish(task)
                assert (await next_change(plain))["matchesFilter"] is None
            assert calls == []
            criteria = {"filter": {"vendors": ["INVOICED"], "completed": False}}
            async with (
                subscription(gateway, criteria, listening=2) as first,
                subscription(gateway, criteria, listening=3) as second,
            ):
                await gateway.publish(task)
                changes = [await next_change(s) for s in (plain, first, second)]
    assert [c["matchesFilter"] for c in changes] == [None, True, True]
    assert [(r.method, r.url.path) for r in calls] == [
        ("GET", f"/invoiced/tasks/{decode_id(task).key}")
    ]


async def test_a_failing_read_delivers_the_change_with_matches_filter_null(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(monkeypatch) as gateway:
        task = await gateway.new_task("Call them")
        down = True

        def vendor_down(request: httpx.Request) -> httpx.Response | None:
            if down and request.url.path.startswith("/invoiced/tasks/"):
                return httpx.Response(503, json={"message": "secret-ish upstream body"})
            return None

        gateway.transport.faults.append(vendor_down)
        async with subscription(gateway, {"filter": {"completed": False}}) as socket:
            with caplog.at_level(logging.WARNING, logger="gateway.subscriptions"):
                await gateway.publish(task)
                unknown = await next_change(socket)
            down = False
            await gateway.publish(task)  # the subscription lives on
            known = await next_change(socket)
    assert (unknown["id"], unknown["matchesFilter"]) == (task, None)
    assert (known["id"], known["matchesFilter"]) == (task, True)
    [line] = [r.getMessage() for r in caplog.records if r.name == "gateway.subscriptions"]
    assert "UPSTREAM_UNAVAILABLE" in line
    assert "secret" not in line and "http" not in line and "/invoiced" not in line
