"""Fakturoid by-id reads answered from recently read list pages (FAKTUROID_BY_ID_MAX_AGE):
client -> gateway over HTTP -> adapter -> sandbox, and two gateways on a real Redis.

Time past the bound is the index's injected clock, moved on, never a sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.state.changes import ChangeEvent
from gateway.vendors.fakturoid import FAKTUROID, PLUGIN
from gateway.vendors.fakturoid.client import FakturoidAdapter
from tests.conftest import Gateway, codes, gateway_settings
from tests.harness import gateway_with
from tests.redis_server import RedisServer
from tests.test_fakturoid import fakturoid_count, store
from tests.test_sandbox_changes import admin
from tests.test_shared_state import gateways

LIST = "{ todos(first: 5) { nodes { fakturoidId completed } } }"
BY_ID = "query($id: ID!) { todo(id: $id) { fakturoidId completed } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Todo { fakturoidId completed } } }"
MAX_AGE = 30.0

# The index is the subject: the shared read cache would answer the scans' pages.
pytestmark = pytest.mark.usefixtures("cache_off")


def adapter(gateway: Gateway) -> FakturoidAdapter:
    found: FakturoidAdapter = gateway.app.state.adapters.of(PLUGIN)
    return found


def later(gateway: Gateway, seconds: float) -> None:
    """The index's clock moves ``seconds`` on, on this gateway."""
    adapter(gateway).seen.clock = lambda: time.time() + seconds


async def listed(gateway: Gateway) -> list[dict[str, Any]]:
    body = await gateway.execute(LIST)
    assert codes(body) == []
    todos: list[dict[str, Any]] = body["data"]["todos"]["nodes"]
    return todos


async def by_id(
    gateway: Gateway, todo: int, query: str = BY_ID, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    variables = {"id": encode_id(FAKTUROID, "Todo", todo)}
    body = await gateway.execute(query, variables, accounting=True, headers=headers)
    assert codes(body) == [], body
    return body


def todo_of(body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = body["data"]
    return data.get("todo") or data["node"]


@pytest.fixture
async def fakturoid(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with gateway_with(monkeypatch, FAKTUROID_BY_ID_MAX_AGE=str(MAX_AGE)) as gateway:
        yield gateway


async def test_a_todo_on_a_list_page_just_read_costs_no_further_call(fakturoid: Gateway) -> None:
    todos = await listed(fakturoid)
    for query in (BY_ID, NODE):
        answer = await by_id(fakturoid, todos[3]["fakturoidId"], query)
        assert todo_of(answer) == todos[3]
        assert fakturoid_count(answer) == 0


async def test_a_client_asking_for_fresh_reads_gets_a_scan(fakturoid: Gateway) -> None:
    todos = await listed(fakturoid)
    answer = await by_id(fakturoid, todos[3]["fakturoidId"], headers={"Cache-Control": "no-cache"})
    assert todo_of(answer) == todos[3]
    assert fakturoid_count(answer) == 1  # page 1 holds it


async def test_past_the_bound_a_by_id_read_scans_again(fakturoid: Gateway) -> None:
    todos = await listed(fakturoid)
    later(fakturoid, MAX_AGE + 1)
    answer = await by_id(fakturoid, todos[3]["fakturoidId"])
    assert todo_of(answer) == todos[3]
    assert fakturoid_count(answer) == 1  # page 1 holds it
    # The scan refreshed the index: the next read, at the same time, costs nothing.
    assert fakturoid_count(await by_id(fakturoid, todos[3]["fakturoidId"])) == 0


async def test_a_change_behind_the_gateways_back_shows_once_past_the_bound(
    fakturoid: Gateway,
) -> None:
    todo = next(t for t in await listed(fakturoid) if not t["completed"])
    change = {"type": "todo", "id": todo["fakturoidId"], "set": {"completed": True}}
    await admin(fakturoid, "/fakturoid", change)
    # Within the bound the read is as old as the list page it comes from.
    assert todo_of(await by_id(fakturoid, todo["fakturoidId"]))["completed"] is False
    later(fakturoid, MAX_AGE + 1)
    assert todo_of(await by_id(fakturoid, todo["fakturoidId"]))["completed"] is True


async def test_a_change_event_about_a_todo_drops_it_from_the_index(fakturoid: Gateway) -> None:
    """The poller (or a toggle through another process) reports a change: the next by-id
    read scans for the todo instead of answering what the list page showed before."""
    todo = next(t for t in await listed(fakturoid) if not t["completed"])
    change = {"type": "todo", "id": todo["fakturoidId"], "set": {"completed": True}}
    await admin(fakturoid, "/fakturoid", change)
    global_id = encode_id(FAKTUROID, "Todo", todo["fakturoidId"])
    event = ChangeEvent(FAKTUROID, "Todo", global_id, "updated", datetime.now(UTC))
    await fakturoid.app.state.changes.publish(event)
    await asyncio.wait_for(adapter(fakturoid).seen.settled(), timeout=5)
    answer = await by_id(fakturoid, todo["fakturoidId"])
    assert todo_of(answer)["completed"] is True
    assert fakturoid_count(answer) == 1  # a scan of page 1
    # Another todo's entry stays: it still costs nothing.
    others = [t["fakturoidId"] for t in await listed(fakturoid)]
    other = next(each for each in others if each != todo["fakturoidId"])
    await fakturoid.app.state.changes.publish(event)
    await asyncio.wait_for(adapter(fakturoid).seen.settled(), timeout=5)
    assert fakturoid_count(await by_id(fakturoid, other)) == 0


async def test_a_todo_the_scan_no_longer_finds_is_forgotten(fakturoid: Gateway) -> None:
    gone = (await listed(fakturoid))[2]["fakturoidId"]
    del store(fakturoid).todos[gone]  # deleted in Fakturoid
    later(fakturoid, MAX_AGE + 1)
    missing = await fakturoid.execute(BY_ID, {"id": encode_id(FAKTUROID, "Todo", gone)})
    assert codes(missing) == ["NOT_FOUND"]
    later(fakturoid, 0)
    assert await adapter(fakturoid).seen.recent([gone]) == {}


async def test_an_answer_from_the_index_says_how_fresh_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The read cache keeps pages 5 s; the index's answer is good for its own bound.
    settings = {"GATEWAY_CACHE": "true", "FAKTUROID_CACHE_TTL": "5"}
    async with gateway_with(monkeypatch, **settings) as gateway:
        todo = (await listed(gateway))[0]["fakturoidId"]
        variables = f'{{"id": "{encode_id(FAKTUROID, "Todo", todo)}"}}'
        response = await gateway.client.get(
            "/graphql",
            params={"query": BY_ID, "variables": variables},
            headers={"Apollo-Require-Preflight": "true"},
        )
    assert response.status_code == 200
    control = response.headers["cache-control"]
    assert control.startswith("private, max-age=")
    assert 5 < int(control.removeprefix("private, max-age=")) <= MAX_AGE


async def test_a_toggle_decides_on_the_vendors_state_not_the_index(fakturoid: Gateway) -> None:
    todo = next(t for t in await listed(fakturoid) if not t["completed"])
    change = {"type": "todo", "id": todo["fakturoidId"], "set": {"completed": True}}
    await admin(fakturoid, "/fakturoid", change)
    sent = fakturoid.record("/fakturoid")
    done = await fakturoid.execute(
        "mutation($id: ID!) { setTodoCompleted(id: $id, completed: true) { todo { completed } } }",
        {"id": encode_id(FAKTUROID, "Todo", todo["fakturoidId"])},
    )
    assert codes(done) == []
    # Read from Fakturoid, found completed already: no toggle (which would reopen it).
    assert [request.method for request in sent] == ["GET"]
    assert store(fakturoid).todos[todo["fakturoidId"]].completed_at is not None


async def test_two_processes_share_the_index_through_redis(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (lister, reader):
        todos = await listed(lister)
        answer = await by_id(reader, todos[4]["fakturoidId"])
    assert todo_of(answer) == todos[4]
    assert answer["extensions"]["upstreamCalls"]["total"] == 0
