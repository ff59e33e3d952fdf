"""Writes decided on the vendor's own state, one at a time per item, keys per client.

client -> gateway -> adapter -> sandbox, with the read cache on where it matters
and changes made in the sandbox behind the gateway's back, as a vendor's own UI
would make them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.api_keys import hash_key
from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes, gateway_settings, running_gateway
from tests.redis_server import RedisServer, redis_server
from tests.test_idempotent_writes import (
    CREATE_TASK,
    INVOICED_OPEN,
    TOGGLE_PROJECT,
    TOGGLE_TASK,
    ZOHO_ACTIVE,
    open_todo,
    store,
    time_out_after_applying,
)
from tests.test_shared_state import NEW_TASK, gateways

SET_TODO = """mutation($id: ID!, $completed: Boolean!) {
  setTodoCompleted(id: $id, completed: $completed) { todo { fakturoidId completed } } }"""
SET_TASK = """mutation($id: ID!, $completed: Boolean!) {
  setTaskCompleted(id: $id, completed: $completed) { task { invoicedId complete } } }"""
TODO = "query($id: ID!) { todo(id: $id) { completed } }"
TASK = "query($id: ID!) { task(id: $id) { complete } }"
PROJECT = "query($id: ID!) { project(id: $id) { status } }"
KEYS = {"first": "tgw_first_client_0001", "second": "tgw_second_client_001"}


def toggles(gateway: Gateway, path_end: str) -> list[httpx.Request]:
    """The writes to ``path_end`` that reach the sandbox from now on."""
    seen: list[httpx.Request] = []

    def watch(request: httpx.Request) -> None:
        if request.method != "GET" and request.url.path.endswith(path_end):
            seen.append(request)

    gateway.inject(lambda request: watch(request))
    return seen


@pytest.fixture
async def cached(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(monkeypatch, GATEWAY_CACHE="true")) as running:
        yield running


async def test_set_todo_completed_decides_on_fakturoid_not_the_cache(cached: Gateway) -> None:
    todo = open_todo(cached)
    todo_id = encode_id(FAKTUROID, "Todo", todo)
    seen = await cached.execute(TODO, {"id": todo_id})
    assert seen["data"]["todo"]["completed"] is False  # now in the read cache
    # Completed in Fakturoid itself, behind the gateway's back.
    store(cached, "/fakturoid").todos[todo].completed_at = datetime.now(UTC)
    sent = toggles(cached, f"/todos/{todo}/toggle_completion.json")

    body = await cached.execute(SET_TODO, {"id": todo_id, "completed": True})
    assert codes(body) == []
    assert body["data"]["setTodoCompleted"]["todo"]["completed"] is True
    assert sent == []
    assert store(cached, "/fakturoid").todos[todo].completed_at is not None


async def test_set_task_completed_decides_on_invoiced_not_the_cache(cached: Gateway) -> None:
    task_id = encode_id(INVOICED, "Task", INVOICED_OPEN)
    assert (await cached.execute(TASK, {"id": task_id}))["data"]["task"]["complete"] is False
    store(cached, "/invoiced").tasks[INVOICED_OPEN]["complete"] = True
    sent = toggles(cached, f"/tasks/{INVOICED_OPEN}")

    body = await cached.execute(SET_TASK, {"id": task_id, "completed": True})
    assert body["data"]["setTaskCompleted"]["task"]["complete"] is True
    assert sent == []


@pytest.mark.parametrize("vendor", ["invoiced", "zoho"])
async def test_a_keyed_toggle_aims_from_the_vendors_state_not_the_cache(
    cached: Gateway, vendor: str
) -> None:
    # Changed in the vendor behind the gateway's back after the gateway cached it: the
    # toggle flips what the vendor has, whatever the cache said.
    if vendor == "invoiced":
        variables = {"id": encode_id(INVOICED, "Task", INVOICED_OPEN), "key": "toggle-cache-01"}
        await cached.execute(TASK, {"id": variables["id"]})
        store(cached, "/invoiced").tasks[INVOICED_OPEN]["complete"] = True
        body = await cached.execute(TOGGLE_TASK, variables)
        assert body["data"]["toggleTaskCompletion"]["task"]["complete"] is False
        assert store(cached, "/invoiced").tasks[INVOICED_OPEN]["complete"] is False
    else:
        variables = {"id": encode_id(ZOHO, "Project", ZOHO_ACTIVE), "key": "toggle-cache-02"}
        await cached.execute(PROJECT, {"id": variables["id"]})
        store(cached, "/zoho").projects[ZOHO_ACTIVE].status = "inactive"
        body = await cached.execute(TOGGLE_PROJECT, variables)
        assert body["data"]["toggleProjectActive"]["project"]["status"] == "ACTIVE"
        assert store(cached, "/zoho").projects[ZOHO_ACTIVE].status == "active"


@pytest.mark.parametrize("completed", [True, False])
async def test_concurrent_set_state_writes_to_one_todo_toggle_at_most_once(
    gateway: Gateway, completed: bool
) -> None:
    todo = open_todo(gateway)
    if not completed:
        store(gateway, "/fakturoid").todos[todo].completed_at = datetime.now(UTC)
    todo_id = encode_id(FAKTUROID, "Todo", todo)
    sent = toggles(gateway, f"/todos/{todo}/toggle_completion.json")
    answers = await asyncio.gather(
        *(gateway.execute(SET_TODO, {"id": todo_id, "completed": completed}) for _ in range(20))
    )
    assert [codes(answer) for answer in answers] == [[]] * 20
    assert {a["data"]["setTodoCompleted"]["todo"]["completed"] for a in answers} == {completed}
    assert len(sent) == 1  # the todo starts in the other state
    assert (store(gateway, "/fakturoid").todos[todo].completed_at is not None) is completed


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


async def test_set_state_writes_through_two_gateways_sharing_redis_toggle_once(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (first, second):
        todo = open_todo(first)
        todo_id = encode_id(FAKTUROID, "Todo", todo)
        sent = toggles(first, f"/todos/{todo}/toggle_completion.json")  # one shared sandbox
        answers = await asyncio.gather(
            *(
                gateway.execute(SET_TODO, {"id": todo_id, "completed": True})
                for gateway in [first, second] * 10
            )
        )
    assert [codes(answer) for answer in answers] == [[]] * 20
    assert {a["data"]["setTodoCompleted"]["todo"]["completed"] for a in answers} == {True}
    assert len(sent) == 1


async def _create_as(gateway: Gateway, client: str, key: str) -> dict[str, Any]:
    response = await gateway.client.post(
        "/graphql",
        json={"query": CREATE_TASK, "variables": {"input": {**NEW_TASK, "idempotencyKey": key}}},
        headers={"X-API-Key": KEYS[client]},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_idempotency_keys_belong_to_the_client_that_sent_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = ";".join(f"{name}:{hash_key(key)}:*:read,*:write" for name, key in KEYS.items())
    settings = gateway_settings(monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=entries)
    async with running_gateway(settings) as gateway:
        tasks = store(gateway, "/invoiced").tasks
        before = len(tasks)
        first = await _create_as(gateway, "first", "shared-key-01")
        second = await _create_as(gateway, "second", "shared-key-01")
        first_again = await _create_as(gateway, "first", "shared-key-01")
    assert codes(first) == codes(second) == []
    # The second client's write happened: its own task, not the first client's answer.
    ids = [body["data"]["createTask"]["task"]["invoicedId"] for body in (first, second)]
    assert ids[0] != ids[1]
    assert len(tasks) == before + 2
    assert first_again["data"] == first["data"]


async def test_an_unkeyed_create_applied_but_unanswered_says_its_outcome_is_unknown(
    gateway: Gateway,
) -> None:
    tasks = store(gateway, "/invoiced").tasks
    before = len(tasks)
    time_out_after_applying(gateway, "POST", "/invoiced/tasks")
    body = await gateway.execute(CREATE_TASK, {"input": NEW_TASK})
    assert codes(body) == ["OUTCOME_UNKNOWN"]
    error = body["errors"][0]
    assert error["extensions"]["vendor"] == "invoiced"
    assert "idempotencyKey" in error["message"]  # says what makes a retry safe
    assert len(tasks) == before + 1  # Invoiced applied it all the same


async def test_a_token_grant_that_times_out_is_no_write_of_unknown_outcome(
    gateway: Gateway,
) -> None:
    # The keyed toggle's first call needs a Zoho token; the grant times out, so nothing
    # was written: an ordinary UPSTREAM_UNAVAILABLE, and the key stays free for a retry.
    timed_out: list[httpx.Request] = []

    def token_times_out(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/oauth/v2/token") and not timed_out:
            timed_out.append(request)
            raise httpx.ReadTimeout("timed out", request=request)
        return None

    gateway.inject(token_times_out)
    variables = {"id": encode_id(ZOHO, "Project", ZOHO_ACTIVE), "key": "grant-timeout-01"}
    body = await gateway.execute(TOGGLE_PROJECT, variables)
    assert timed_out
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert store(gateway, "/zoho").projects[ZOHO_ACTIVE].status == "active"
    retried = await gateway.execute(TOGGLE_PROJECT, variables)
    assert retried["data"]["toggleProjectActive"]["project"]["status"] == "INACTIVE"
