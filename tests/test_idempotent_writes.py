"""Writes that cannot silently undo or repeat themselves: client -> gateway -> sandboxes.

The in-doubt case is made real: a transport that lets the sandbox apply the write
and then raises a timeout, as a vendor that committed but answered too late.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes
from tests.harness import gateway_with

INVOICED_OPEN = 700  # seeded open
INVOICED_DONE = 703  # seeded complete
ZOHO_ACTIVE = "903000000072397"
STOREFRONT = "903000000072369"

TOGGLE_TASK = """mutation($id: ID!, $key: String) {
  toggleTaskCompletion(id: $id, idempotencyKey: $key) { task { invoicedId complete } } }"""
TOGGLE_PROJECT = """mutation($id: ID!, $key: String) {
  toggleProjectActive(id: $id, idempotencyKey: $key) { project { zohoId status } } }"""
TOGGLE_TODO = """mutation($id: ID!, $key: String) {
  toggleTodoCompletion(id: $id, idempotencyKey: $key) { todo { fakturoidId completed } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { invoicedId name } } }"""
CREATE_PROJECT_TASK = """mutation($input: CreateProjectTaskInput!) {
  createProjectTask(input: $input) { projectTask { zohoId name } } }"""


class ApplyThenTimeout(httpx.AsyncBaseTransport):
    """Passes matching requests to the sandbox, which applies them, then times out."""

    def __init__(self, inner: httpx.AsyncBaseTransport, matches: Callable[[httpx.Request], bool]):
        self.inner, self.matches, self.remaining = inner, matches, 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.remaining and self.matches(request):
            self.remaining -= 1
            await response.aread()
            raise httpx.ReadTimeout("answered too late", request=request)
        return response


def time_out_after_applying(gateway: Gateway, method: str, path_end: str) -> None:
    transport = gateway.transport
    transport.inner = ApplyThenTimeout(
        transport.inner,
        lambda request: request.method == method and request.url.path.endswith(path_end),
    )


def writes(body: dict[str, Any]) -> list[str]:
    """The vendor writes a response cost (token grants are not writes)."""
    calls = body["extensions"]["upstreamCalls"]["calls"]
    return [
        f"{call['method']} {call['path']}"
        for call in calls
        if call["method"] != "GET" and "token" not in call["path"]
    ]


def total_calls(body: dict[str, Any]) -> int:
    total: int = body["extensions"]["upstreamCalls"]["total"]
    return total


def store(gateway: Gateway, prefix: str) -> Any:
    return gateway.sandbox_app(prefix).state.store


def open_todo(gateway: Gateway) -> int:
    todos = store(gateway, "/fakturoid").todos.values()
    return max((t for t in todos if t.completed_at is None), key=lambda t: t.created_at).id


@dataclass(frozen=True)
class Toggle:
    mutation: str
    method: str
    subject: Callable[[Gateway], Any]  # what is toggled, chosen from the seed
    path_end: Callable[[Any], str]
    global_id: Callable[[Any], str]
    state: Callable[[Gateway, Any], bool]  # the vendor's state, read from the sandbox


TOGGLES = {
    "invoiced": Toggle(
        TOGGLE_TASK,
        "PATCH",
        lambda gw: INVOICED_OPEN,
        lambda task: f"/tasks/{task}",
        lambda task: encode_id(INVOICED, "Task", task),
        lambda gw, task: bool(store(gw, "/invoiced").tasks[task]["complete"]),
    ),
    "zoho": Toggle(
        TOGGLE_PROJECT,
        "POST",
        lambda gw: ZOHO_ACTIVE,
        lambda project: f"/projects/{project}/inactive",
        lambda project: encode_id(ZOHO, "Project", project),
        lambda gw, project: store(gw, "/zoho").projects[project].status == "inactive",
    ),
    "fakturoid": Toggle(
        TOGGLE_TODO,
        "POST",
        open_todo,
        lambda todo: f"/todos/{todo}/toggle_completion.json",
        lambda todo: encode_id(FAKTUROID, "Todo", todo),
        lambda gw, todo: store(gw, "/fakturoid").todos[todo].completed_at is not None,
    ),
}


@pytest.mark.parametrize("vendor", list(TOGGLES))
async def test_timed_out_toggle_retried_with_its_key_keeps_the_intended_state(
    gateway: Gateway, vendor: str
) -> None:
    toggle = TOGGLES[vendor]
    subject = toggle.subject(gateway)
    variables = {"id": toggle.global_id(subject), "key": f"flip-{vendor}-0001"}
    assert toggle.state(gateway, subject) is False
    time_out_after_applying(gateway, toggle.method, toggle.path_end(subject))

    first = await gateway.execute(toggle.mutation, variables)
    assert codes(first) == ["OUTCOME_UNKNOWN"]
    assert toggle.state(gateway, subject) is True  # the vendor applied it all the same

    retried = await gateway.execute(toggle.mutation, variables, accounting=True)
    assert "errors" not in retried
    assert toggle.state(gateway, subject) is True  # not flipped back
    replayed = await gateway.execute(toggle.mutation, variables, accounting=True)
    assert replayed["data"] == retried["data"]
    assert total_calls(replayed) == 0
    assert toggle.state(gateway, subject) is True


@pytest.mark.parametrize("vendor", list(TOGGLES))
async def test_concurrent_duplicate_toggles_write_once(gateway: Gateway, vendor: str) -> None:
    toggle = TOGGLES[vendor]
    subject = toggle.subject(gateway)
    variables = {"id": toggle.global_id(subject), "key": f"twice-{vendor}-01"}
    answers = await asyncio.gather(
        *(gateway.execute(toggle.mutation, variables, accounting=True) for _ in range(3))
    )
    assert sum(len(writes(answer)) for answer in answers) == 1
    assert all(answer["data"] == answers[0]["data"] for answer in answers)
    assert toggle.state(gateway, subject) is True


async def test_duplicate_creates_with_a_key_make_one_upstream_create(gateway: Gateway) -> None:
    invoiced = {"name": "Chase", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z"}
    zoho = {"projectId": encode_id(ZOHO, "Project", STOREFRONT), "name": "QA pass"}
    tasks, project = store(gateway, "/invoiced").tasks, store(gateway, "/zoho").projects
    before = len(tasks), len(project[STOREFRONT].tasks)
    for mutation, task_input in ((CREATE_TASK, invoiced), (CREATE_PROJECT_TASK, zoho)):
        keyed = {**task_input, "idempotencyKey": "create-once-0001"}
        first = await gateway.execute(mutation, {"input": keyed}, accounting=True)
        again = await gateway.execute(mutation, {"input": keyed}, accounting=True)
        assert len(writes(first)) == 1
        assert total_calls(again) == 0
        assert again["data"] == first["data"]
    assert (len(tasks), len(project[STOREFRONT].tasks)) == (before[0] + 1, before[1] + 1)


async def test_timed_out_creates_retried_with_their_key_do_not_duplicate(
    gateway: Gateway,
) -> None:
    tasks, project = store(gateway, "/invoiced").tasks, store(gateway, "/zoho").projects
    before = len(tasks), len(project[STOREFRONT].tasks)
    cases = [
        (CREATE_TASK, "/invoiced/tasks", {"name": "Chase", "action": "PHONE",
                                          "dueDate": "2026-12-01T09:00:00Z"}),
        (CREATE_PROJECT_TASK, f"/projects/{STOREFRONT}/tasks",
         {"projectId": encode_id(ZOHO, "Project", STOREFRONT), "name": "Wireframes"}),
    ]  # fmt: skip
    answers = []
    for mutation, path_end, task_input in cases:
        time_out_after_applying(gateway, "POST", path_end)
        keyed = {"input": {**task_input, "idempotencyKey": "late-create-01"}}
        first = await gateway.execute(mutation, keyed)
        assert codes(first) == ["OUTCOME_UNKNOWN"]
        answers.append(await gateway.execute(mutation, keyed))
    assert (len(tasks), len(project[STOREFRONT].tasks)) == (before[0] + 1, before[1] + 1)
    # The retries answered with the tasks the timed-out attempts wrote.
    assert answers[0]["data"]["createTask"]["task"]["invoicedId"] == max(tasks)
    written = answers[1]["data"]["createProjectTask"]["projectTask"]["zohoId"]
    assert written == max(project[STOREFRONT].tasks)
    namesakes = [t for t in project[STOREFRONT].tasks.values() if t.task_name == "Wireframes"]
    assert len(namesakes) == 2  # the seeded task and the one new task, no third


async def test_concurrent_duplicate_creates_write_once(gateway: Gateway) -> None:
    project = store(gateway, "/zoho").projects[STOREFRONT]
    before = len(project.tasks)
    task_input = {
        "projectId": encode_id(ZOHO, "Project", STOREFRONT),
        "name": "Load test",
        "idempotencyKey": "burst-0000001",
    }
    answers = await asyncio.gather(
        *(
            gateway.execute(CREATE_PROJECT_TASK, {"input": task_input}, accounting=True)
            for _ in range(4)
        )
    )
    assert sum(len(writes(answer)) for answer in answers) == 1
    assert (
        len({answer["data"]["createProjectTask"]["projectTask"]["zohoId"] for answer in answers})
        == 1
    )
    assert len(project.tasks) == before + 1


async def test_a_key_reused_with_other_input_is_refused(gateway: Gateway) -> None:
    task_input = {"name": "Chase", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z"}
    await gateway.execute(CREATE_TASK, {"input": {**task_input, "idempotencyKey": "reuse-0001"}})
    other = {**task_input, "name": "Chase harder", "idempotencyKey": "reuse-0001"}
    refused = await gateway.execute(CREATE_TASK, {"input": other}, accounting=True)
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["field"] == "idempotencyKey"
    assert total_calls(refused) == 0

    task = encode_id(INVOICED, "Task", INVOICED_OPEN)
    await gateway.execute(TOGGLE_TASK, {"id": task, "key": "reuse-0002"})
    elsewhere = encode_id(INVOICED, "Task", INVOICED_DONE)
    refused = await gateway.execute(TOGGLE_TASK, {"id": elsewhere, "key": "reuse-0002"})
    assert codes(refused) == ["BAD_USER_INPUT"]


async def test_a_write_refused_by_the_vendor_leaves_its_key_free(gateway: Gateway) -> None:
    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/tasks"):
            return httpx.Response(400, json={"code": 2, "message": "Invalid value"})
        return None

    gateway.inject(refuse)
    project = encode_id(ZOHO, "Project", STOREFRONT)
    task_input = {"projectId": project, "name": "First try", "idempotencyKey": "refused-01"}
    refused = await gateway.execute(CREATE_PROJECT_TASK, {"input": task_input})
    assert codes(refused) == ["UPSTREAM_REJECTED"]
    gateway.transport.faults.clear()
    fixed = {**task_input, "name": "Second try"}
    created = await gateway.execute(CREATE_PROJECT_TASK, {"input": fixed})
    assert created["data"]["createProjectTask"]["projectTask"]["name"] == "Second try"


@pytest.mark.parametrize("vendor", list(TOGGLES))
async def test_a_timed_out_write_drops_the_work_list_snapshot(
    gateway: Gateway, vendor: str
) -> None:
    # A write that timed out may have landed, so later pages must not serve the old set.
    from tests.test_work_items import PAGE

    toggle = TOGGLES[vendor]
    subject = toggle.subject(gateway)
    variables: dict[str, Any] = {
        "filter": {"vendors": [vendor.upper()]},
        "sort": {"field": "TITLE"},
    }
    first = await gateway.execute(PAGE, variables, accounting=True)
    after = {**variables, "after": first["data"]["workItems"]["pageInfo"]["endCursor"]}
    time_out_after_applying(gateway, toggle.method, toggle.path_end(subject))
    failed = await gateway.execute(toggle.mutation, {"id": toggle.global_id(subject)})
    assert codes(failed) == ["OUTCOME_UNKNOWN"]
    second = await gateway.execute(PAGE, after, accounting=True)
    assert total_calls(second) > 0


async def test_a_key_reused_after_the_window_binds_invoiced_to_the_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Invoiced remembers keys far longer than the gateway does: once the gateway has
    # forgotten a key, the same key with other input must create, not replay.
    def task_input(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "action": "PHONE",
            "dueDate": "2026-12-01T09:00:00Z",
            "idempotencyKey": "reused-key-001",
        }

    async with gateway_with(monkeypatch, GATEWAY_IDEMPOTENCY_WINDOW="0.01") as gateway:
        first = await gateway.execute(CREATE_TASK, {"input": task_input("Call Ada")})
        await asyncio.sleep(0.05)
        other = await gateway.execute(CREATE_TASK, {"input": task_input("Call Grace")})
        await asyncio.sleep(0.05)
        again = await gateway.execute(CREATE_TASK, {"input": task_input("Call Ada")})
    created = first["data"]["createTask"]["task"]
    assert other["data"]["createTask"]["task"]["name"] == "Call Grace"
    assert other["data"]["createTask"]["task"]["invoicedId"] != created["invoicedId"]
    # The same key and input still reach Invoiced's own replay: no duplicate.
    assert again["data"]["createTask"]["task"] == created
