"""Invoiced tasks end to end: client -> gateway -> adapter -> Invoiced sandbox."""

from __future__ import annotations

import httpx
import pytest

from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway, codes

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

TASK_FIELDS = "id invoicedId name action customerId dueDate complete completedDate createdAt"


async def test_lists_tasks_page_by_page_with_total(gateway: Gateway) -> None:
    query = """query($after: String) {
      tasks(first: 10, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { invoicedId name } }
      }
    }"""
    seen: list[int] = []
    after = None
    for _ in range(4):
        body = await gateway.execute(query, {"after": after})
        connection = body["data"]["tasks"]
        assert connection["totalCount"] == 36
        seen.extend(edge["node"]["invoicedId"] for edge in connection["edges"])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 36


async def test_filter_and_sort_are_pushed_to_invoiced(gateway: Gateway) -> None:
    body = await gateway.execute(
        """{ tasks(first: 50, filter: {action: PHONE, complete: false},
                   sort: [{field: DUE_DATE, order: DESC}]) {
              totalCount nodes { action complete dueDate } } }""",
        accounting=True,
    )
    nodes = body["data"]["tasks"]["nodes"]
    assert nodes and all(n["action"] == "PHONE" and not n["complete"] for n in nodes)
    assert [n["dueDate"] for n in nodes] == sorted((n["dueDate"] for n in nodes), reverse=True)
    assert body["data"]["tasks"]["totalCount"] == len(nodes)
    assert body["extensions"]["upstreamCalls"]["total"] == 1


async def test_offset_window_not_aligned_to_pages_costs_one_call(gateway: Gateway) -> None:
    first = await gateway.execute("{ tasks(first: 7) { pageInfo { endCursor } } }")
    cursor = first["data"]["tasks"]["pageInfo"]["endCursor"]
    body = await gateway.execute(
        "query($a: String) { tasks(first: 5, after: $a) { nodes { invoicedId } } }",
        {"a": cursor},
        accounting=True,
    )
    assert [n["invoicedId"] for n in body["data"]["tasks"]["nodes"]] == [707, 708, 709, 710, 711]
    assert body["extensions"]["upstreamCalls"]["total"] == 1


async def test_same_task_twice_costs_one_upstream_call(gateway: Gateway) -> None:
    listing = await gateway.execute("{ tasks(first: 1) { nodes { id } } }")
    task_id = listing["data"]["tasks"]["nodes"][0]["id"]
    body = await gateway.execute(
        """query($id: ID!) { a: task(id: $id) { name } b: task(id: $id) { action }
                             c: node(id: $id) { id ... on Task { complete } } }""",
        {"id": task_id},
        accounting=True,
    )
    assert body["data"]["a"]["name"] and body["data"]["c"]["id"] == task_id
    assert body["extensions"]["upstreamCalls"]["byVendor"]["invoiced"]["count"] == 1


async def test_create_update_toggle_delete(gateway: Gateway) -> None:
    created = await gateway.execute(
        f"""mutation($input: CreateTaskInput!) {{
              createTask(input: $input) {{ task {{ {TASK_FIELDS} }} }} }}""",
        {
            "input": {
                "name": "  Call Šťastný & Syn about invoice 42 ",
                "action": "PHONE",
                "dueDate": "2026-12-01T09:00:00+00:00",
                "customerId": 481593,
            }
        },
    )
    task = created["data"]["createTask"]["task"]
    assert task["name"] == "Call Šťastný & Syn about invoice 42"
    assert task["dueDate"].startswith("2026-12-01T09:00:00")
    assert task["complete"] is False and task["completedDate"] is None

    updated = await gateway.execute(
        """mutation($input: UpdateTaskInput!) {
             updateTask(input: $input) { task { name action } } }""",
        {"input": {"id": task["id"], "action": "EMAIL", "name": "Email them instead"}},
    )
    assert updated["data"]["updateTask"]["task"] == {
        "name": "Email them instead",
        "action": "EMAIL",
    }

    toggle = """mutation($id: ID!) { toggleTaskCompletion(id: $id) {
                  task { complete completedDate } } }"""
    done = await gateway.execute(toggle, {"id": task["id"]})
    assert done["data"]["toggleTaskCompletion"]["task"]["complete"] is True
    assert done["data"]["toggleTaskCompletion"]["task"]["completedDate"] is not None
    undone = await gateway.execute(toggle, {"id": task["id"]})
    assert undone["data"]["toggleTaskCompletion"]["task"] == {
        "complete": False,
        "completedDate": None,
    }

    deleted = await gateway.execute(
        "mutation($id: ID!) { deleteTask(id: $id) { deletedId } }", {"id": task["id"]}
    )
    assert deleted["data"]["deleteTask"]["deletedId"] == task["id"]
    gone = await gateway.execute("query($id: ID!) { task(id: $id) { name } }", {"id": task["id"]})
    assert gone["data"]["task"] is None
    assert codes(gone) == ["NOT_FOUND"]


async def test_idempotency_key_replays_the_first_create(gateway: Gateway) -> None:
    mutation = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
                    task { invoicedId } } }"""
    task_input = {
        "name": "Send reminder",
        "action": "LETTER",
        "dueDate": "2026-12-02T00:00:00Z",
        "idempotencyKey": "retry-0001",
    }
    first = await gateway.execute(mutation, {"input": task_input})
    again = await gateway.execute(mutation, {"input": task_input})
    first_id = first["data"]["createTask"]["task"]["invoicedId"]
    assert again["data"]["createTask"]["task"]["invoicedId"] == first_id
    total = await gateway.execute("{ tasks(first: 1) { totalCount } }")
    assert total["data"]["tasks"]["totalCount"] == 37


async def test_missing_required_field_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.execute(
        "mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }",
        {"input": {"name": "No action", "dueDate": "2026-12-01T00:00:00Z"}},
    )
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_bad_enum_value_is_refused(gateway: Gateway) -> None:
    inline = await gateway.execute("{ tasks(filter: {action: FAX}) { totalCount } }")
    assert codes(inline) == ["GRAPHQL_VALIDATION_FAILED"]
    variable = await gateway.execute(
        "query($f: TaskFilter) { tasks(filter: $f) { totalCount } }", {"f": {"action": "FAX"}}
    )
    assert codes(variable) == ["BAD_USER_INPUT"]


async def test_blank_name_and_bad_ids_refused_before_upstream(gateway: Gateway) -> None:
    body = await gateway.execute(
        """mutation { createTask(input: {name: "  ", action: PHONE,
                                         dueDate: "2026-12-01T00:00:00Z"}) { task { id } } }""",
        accounting=True,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "name"
    assert body["extensions"]["upstreamCalls"]["total"] == 0
    garbage = await gateway.execute('{ task(id: "not-an-id") { id } }')
    assert codes(garbage) == ["BAD_USER_INPUT"]
    too_many = await gateway.execute("{ tasks(first: 101) { totalCount } }")
    assert codes(too_many) == ["BAD_USER_INPUT"]
    bad_cursor = await gateway.execute('{ tasks(after: "bm9wZQ") { totalCount } }')
    assert codes(bad_cursor) == ["BAD_USER_INPUT"]


async def test_unknown_id_is_null_with_not_found(gateway: Gateway) -> None:
    from gateway.core.ids import encode_id

    missing = encode_id(INVOICED, "Task", 99999)
    body = await gateway.execute("query($id: ID!) { task(id: $id) { name } }", {"id": missing})
    assert body["data"] == {"task": None}
    assert codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["path"] == ["task"]


async def test_upstream_500_is_a_clean_error(gateway: Gateway) -> None:
    gateway.inject(lambda request: httpx.Response(500, text="<html>stack trace, db=prod</html>"))
    body = await gateway.execute("{ tasks { totalCount } }")
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["vendor"] == "invoiced"
    assert "stack trace" not in str(body)


async def test_upstream_timeout_and_garbage_are_clean_errors(gateway: Gateway) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    gateway.inject(timeout)
    body = await gateway.execute("{ tasks { totalCount } }")
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    gateway.transport.faults[:] = [lambda request: httpx.Response(200, text="{not json")]
    body = await gateway.execute("{ tasks { totalCount } }")
    assert codes(body) == ["UPSTREAM_BAD_RESPONSE"]
    gateway.transport.faults[:] = [lambda request: httpx.Response(200, json=[{"id": "x"}])]
    body = await gateway.execute("{ tasks { nodes { id } } }")
    assert codes(body) == ["UPSTREAM_BAD_RESPONSE"]
    assert body["errors"][0]["path"] == ["tasks", "nodes", 0]


async def test_a_reopened_task_has_no_completed_date(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/invoiced").state.store
    done_id = next(tid for tid, t in sorted(store.tasks.items()) if t["complete"])
    assert store.tasks[done_id]["completed_date"] is not None
    global_id = encode_id(INVOICED, "Task", done_id)
    reopened = await gateway.execute(
        """mutation($id: ID!) { toggleTaskCompletion(id: $id) {
             task { complete completedDate } } }""",
        {"id": global_id},
    )
    assert reopened["data"]["toggleTaskCompletion"]["task"] == {
        "complete": False,
        "completedDate": None,
    }
    # Invoiced keeps the old stamp on the reopened task; every read hides it.
    assert store.tasks[done_id]["completed_date"] is not None
    read = await gateway.execute(
        """query($id: ID!) { task(id: $id) { complete completedDate }
             workItems(first: 100, filter: {completed: false}) {
               nodes { id completed completedAt } } }""",
        {"id": global_id},
    )
    assert read["data"]["task"] == {"complete": False, "completedDate": None}
    (item,) = [n for n in read["data"]["workItems"]["nodes"] if n["id"] == global_id]
    assert item == {"id": global_id, "completed": False, "completedAt": None}
