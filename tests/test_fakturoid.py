"""Fakturoid todos end to end: client -> gateway -> adapter -> Fakturoid sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from gateway.core.ids import decode_id, encode_id
from gateway.vendors.fakturoid import FAKTUROID, PLUGIN
from gateway.vendors.fakturoid.sandbox import PREFIX, Store
from gateway.vendors.fakturoid.sandbox.store import RelatedObject
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway, codes

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

TODO_FIELDS = """id fakturoidId name text title vendor completed completedAt createdAt
                 updatedAt dueAt url relatedObjects { type id fakturoidId url } params"""
TODOS = """query($first: Int, $after: String, $since: DateTime, $completed: Boolean) {
  todos(first: $first, after: $after, since: $since, completed: $completed) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { fakturoidId completed createdAt } } } }"""
TOGGLE = """mutation($id: ID!) { toggleTodoCompletion(id: $id) {
  todo { fakturoidId completed completedAt } } }"""


def store(gateway: Gateway) -> Store:
    found: Store = gateway.sandbox_app(PREFIX).state.store
    return found


def newest_first(gateway: Gateway) -> list[int]:
    todos = store(gateway).todos.values()
    return [t.id for t in sorted(todos, key=lambda t: (t.created_at, t.id), reverse=True)]


def todo_id(fakturoid_id: int) -> str:
    return encode_id(FAKTUROID, "Todo", fakturoid_id)


def page_calls(body: dict[str, Any]) -> list[str]:
    """The todo-list requests of one operation, as ``page=N`` strings."""
    calls = body["extensions"]["upstreamCalls"]["calls"]
    return [c["path"] for c in calls if c["vendor"] == "fakturoid" and c["method"] == "GET"]


def fakturoid_count(body: dict[str, Any]) -> int:
    count: int = (
        body["extensions"]["upstreamCalls"]["byVendor"].get("fakturoid", {}).get("count", 0)
    )
    return count


async def warm_up(gateway: Gateway) -> None:
    """Fetch the token first, so later operations count only todo calls."""
    body = await gateway.execute("{ todos(first: 1) { nodes { id } } }")
    assert "errors" not in body, body


async def test_related_objects_have_global_ids_apart_from_their_fakturoid_numbers(
    gateway: Gateway,
) -> None:
    # Fakturoid numbers each kind on its own: an invoice and a subject can both be 63.
    newest = max(store(gateway).todos.values(), key=lambda t: (t.created_at, t.id))
    newest.related_objects = (RelatedObject("Invoice", 63), RelatedObject("Subject", 63))
    body = await gateway.execute(
        "{ todos(first: 1) { nodes { relatedObjects { type id fakturoidId } } } }"
    )
    invoice, subject = body["data"]["todos"]["nodes"][0]["relatedObjects"]
    assert (invoice["type"], subject["type"]) == ("INVOICE", "SUBJECT")
    assert invoice["fakturoidId"] == subject["fakturoidId"] == 63
    assert invoice["id"] != subject["id"]
    for related in (invoice, subject):
        decoded = decode_id(related["id"])
        assert (decoded.vendor, decoded.type_name) == (FAKTUROID, "TodoRelatedObject")
        assert decoded.key == f"{related['type']}/63"


async def test_todo_fields_are_typed(gateway: Gateway) -> None:
    body = await gateway.execute(f"{{ todos(first: 40) {{ nodes {{ {TODO_FIELDS} }} }} }}")
    nodes = body["data"]["todos"]["nodes"]
    assert len(nodes) == 40
    by_name = {node["name"]: node for node in nodes}
    bounced = by_name["email_bounced"]
    assert bounced["text"].startswith("Email na ") and bounced["title"] == bounced["text"]
    assert bounced["relatedObjects"][0]["type"] == "SUBJECT"
    assert set(bounced["params"]) == {"email", "inactive"}
    assert bounced["url"] == bounced["relatedObjects"][0]["url"]
    subject = bounced["relatedObjects"][0]
    assert bounced["url"].endswith(f"/applecorp/subjects/{subject['fakturoidId']}")
    unpaired = by_name["expense_payment_unpaired"]
    assert unpaired["relatedObjects"] == [] and unpaired["url"] is None
    assert unpaired["params"]["currency"] == "EUR"
    kinds = {r["type"] for node in nodes for r in node["relatedObjects"]}
    assert {"INVOICE", "SUBJECT", "GENERATOR", "EXPENSE_GENERATOR", "EXPENSE"} <= kinds
    for node in nodes:
        assert node["vendor"] == "FAKTUROID" and node["dueAt"] is None
        assert node["updatedAt"] is None
        assert node["completed"] is (node["completedAt"] is not None)
        assert node["id"] == todo_id(node["fakturoidId"])
        assert datetime.fromisoformat(node["createdAt"]).utcoffset() is not None


async def test_pages_through_three_upstream_pages(gateway: Gateway) -> None:
    await warm_up(gateway)
    seen: list[int] = []
    calls: list[list[str]] = []
    after = None
    for _ in range(3):
        body = await gateway.execute(TODOS, {"first": 35, "after": after}, accounting=True)
        connection = body["data"]["todos"]
        assert connection["totalCount"] is None
        seen.extend(edge["node"]["fakturoidId"] for edge in connection["edges"])
        calls.append(page_calls(body))
        after = connection["pageInfo"]["endCursor"]
        assert connection["pageInfo"]["hasPreviousPage"] is (len(calls) > 1)
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
    assert seen == newest_first(gateway) and len(seen) == 100
    assert body["data"]["todos"]["pageInfo"]["hasNextPage"] is False
    # Each window resumes at its cursor's page: page 1; pages 1-2; pages 2-3.
    assert [len(c) for c in calls] == [1, 2, 2]


async def test_windows_of_forty_cost_one_call_each(gateway: Gateway) -> None:
    await warm_up(gateway)
    after, pages = None, []
    for expected_size, expected_more in ((40, True), (40, True), (20, False)):
        body = await gateway.execute(TODOS, {"first": 40, "after": after}, accounting=True)
        connection = body["data"]["todos"]
        assert len(connection["edges"]) == expected_size
        assert connection["pageInfo"]["hasNextPage"] is expected_more
        pages.append(fakturoid_count(body))
        after = connection["pageInfo"]["endCursor"]
    assert pages == [1, 1, 1]


async def test_since_is_sent_as_iso_8601_and_filters(gateway: Gateway) -> None:
    await warm_up(gateway)
    tenth = store(gateway).todos[newest_first(gateway)[9]]
    since = tenth.created_at.isoformat()
    sent: list[str] = []

    def observe(request: httpx.Request) -> None:
        sent.append(request.url.params.get("since", ""))

    gateway.inject(observe)
    body = await gateway.execute(TODOS, {"since": since, "first": 50}, accounting=True)
    ids = [edge["node"]["fakturoidId"] for edge in body["data"]["todos"]["edges"]]
    assert ids == newest_first(gateway)[:9]
    assert datetime.fromisoformat(sent[0]) == tenth.created_at
    # The cursor carries the since it was made with.
    end = body["data"]["todos"]["pageInfo"]["endCursor"]
    again = await gateway.execute(TODOS, {"since": since, "after": end})
    assert again["data"]["todos"]["edges"] == []
    other = await gateway.execute(TODOS, {"since": "2020-01-01T00:00:00Z", "after": end})
    assert codes(other) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "since",
    ["yesterday", "2025-13-40T00:00:00Z", "2025-08-25T10:55:14", "2025-08-25"],
    ids=["words", "impossible", "no offset", "date only"],
)
async def test_invalid_since_is_refused_before_any_call(gateway: Gateway, since: str) -> None:
    body = await gateway.execute(TODOS, {"since": since}, accounting=True)
    # Unparseable values fail variable coercion (no data); parseable ones the resolver.
    assert (body["data"] or {}).get("todos") is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_inline_invalid_since_is_refused_too(gateway: Gateway) -> None:
    body = await gateway.execute('{ todos(since: "soon") { totalCount } }', accounting=True)
    # An invalid literal fails validation (as in Apollo Server); a variable gives
    # BAD_USER_INPUT. Either way Fakturoid is never asked.
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_completed_filter_is_applied_by_the_gateway(gateway: Gateway) -> None:
    todos = store(gateway).todos
    open_ids = [i for i in newest_first(gateway) if todos[i].completed_at is None]
    done_ids = [i for i in newest_first(gateway) if todos[i].completed_at is not None]
    body = await gateway.execute(TODOS, {"completed": False, "first": 100})
    assert [e["node"]["fakturoidId"] for e in body["data"]["todos"]["edges"]] == open_ids
    seen: list[int] = []
    after = None
    while True:
        body = await gateway.execute(TODOS, {"completed": True, "first": 15, "after": after})
        connection = body["data"]["todos"]
        seen.extend(edge["node"]["fakturoidId"] for edge in connection["edges"])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == done_ids


async def test_bad_paging_arguments_are_refused(gateway: Gateway) -> None:
    for variables in ({"first": 0}, {"first": 101}, {"after": "bm9wZQ"}, {"after": "!!"}):
        body = await gateway.execute(TODOS, variables, accounting=True)
        assert codes(body) == ["BAD_USER_INPUT"], variables
        assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_same_page_twice_in_one_operation_costs_one_call(gateway: Gateway) -> None:
    await warm_up(gateway)
    newest = newest_first(gateway)
    body = await gateway.execute(
        """query($id: ID!) {
             a: todos(first: 5) { nodes { fakturoidId } }
             b: todos(first: 30) { nodes { name } }
             c: todo(id: $id) { fakturoidId }
             d: node(id: $id) { ... on Todo { text } } }""",
        {"id": todo_id(newest[20])},
        accounting=True,
    )
    assert [n["fakturoidId"] for n in body["data"]["a"]["nodes"]] == newest[:5]
    assert len(body["data"]["b"]["nodes"]) == 30
    assert body["data"]["c"] == {"fakturoidId": newest[20]}
    assert body["data"]["d"]["text"]
    assert fakturoid_count(body) == 1


async def test_todo_by_id_scans_pages_once_for_many_ids(gateway: Gateway) -> None:
    await warm_up(gateway)
    newest = newest_first(gateway)
    body = await gateway.execute(
        """query($a: ID!, $b: ID!) { a: todo(id: $a) { fakturoidId }
                                     b: todo(id: $b) { fakturoidId }
                                     c: node(id: $a) { id } }""",
        {"a": todo_id(newest[45]), "b": todo_id(newest[99])},
        accounting=True,
    )
    assert body["data"]["a"] == {"fakturoidId": newest[45]}
    assert body["data"]["b"] == {"fakturoidId": newest[99]}
    assert fakturoid_count(body) == 3
    missing = await gateway.execute(
        "query($id: ID!) { todo(id: $id) { name } }", {"id": todo_id(99999)}, accounting=True
    )
    assert missing["data"] == {"todo": None}
    assert codes(missing) == ["NOT_FOUND"]
    assert fakturoid_count(missing) == 3
    wrong = await gateway.execute(
        "query($id: ID!) { todo(id: $id) { name } }", {"id": encode_id(INVOICED, "Task", 1)}
    )
    assert codes(wrong) == ["BAD_USER_INPUT"]


async def test_toggle_twice_restores_the_original_state(gateway: Gateway) -> None:
    todos = store(gateway).todos
    target = next(i for i in newest_first(gateway) if todos[i].completed_at is None)
    done = await gateway.execute(TOGGLE, {"id": todo_id(target)})
    todo = done["data"]["toggleTodoCompletion"]["todo"]
    assert todo["completed"] is True and todo["completedAt"] is not None
    assert todos[target].completed_at is not None
    undone = await gateway.execute(TOGGLE, {"id": todo_id(target)})
    assert undone["data"]["toggleTodoCompletion"]["todo"] == {
        "fakturoidId": target,
        "completed": False,
        "completedAt": None,
    }
    assert todos[target].completed_at is None
    listed = await gateway.execute(
        "query($id: ID!) { todo(id: $id) { completed completedAt } }", {"id": todo_id(target)}
    )
    assert listed["data"]["todo"] == {"completed": False, "completedAt": None}


async def test_toggles_in_one_operation_see_each_other(gateway: Gateway) -> None:
    target = newest_first(gateway)[0]
    body = await gateway.execute(
        """mutation($id: ID!) {
             a: toggleTodoCompletion(id: $id) { todo { completed } }
             b: toggleTodoCompletion(id: $id) { todo { completed } } }""",
        {"id": todo_id(target)},
    )
    first, second = body["data"]["a"]["todo"], body["data"]["b"]["todo"]
    assert first["completed"] is not second["completed"]


async def test_toggling_an_unknown_todo_is_not_found_without_a_scan(gateway: Gateway) -> None:
    await warm_up(gateway)
    body = await gateway.execute(TOGGLE, {"id": todo_id(424242)}, accounting=True)
    assert body["data"] == {"toggleTodoCompletion": None}
    assert codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["vendor"] == "fakturoid"
    assert fakturoid_count(body) == 1
    malformed = await gateway.execute(TOGGLE, {"id": encode_id(FAKTUROID, "Todo", "x")})
    assert codes(malformed) == ["BAD_USER_INPUT"]


@pytest.mark.federation
async def test_entities_resolve_through_the_loaders(gateway: Gateway) -> None:
    await warm_up(gateway)
    newest = newest_first(gateway)
    representations = [{"__typename": "Todo", "id": todo_id(i)} for i in (newest[1], newest[2])]
    # Unseen, so that they are scanned for, in one batch.
    await gateway.app.state.adapters.of(PLUGIN).seen.forget([newest[1], newest[2]])
    body = await gateway.execute(
        """query($reps: [_Any!]!) { _entities(representations: $reps) {
              ... on Todo { fakturoidId } } }""",
        {"reps": representations},
        accounting=True,
    )
    assert body["data"]["_entities"] == [{"fakturoidId": newest[1]}, {"fakturoidId": newest[2]}]
    assert fakturoid_count(body) == 1
    sdl = (await gateway.execute("{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Todo implements WorkItem & Node @key(fields: "id")' in sdl


async def test_blocked_account_and_read_only_mode(gateway: Gateway) -> None:
    sandbox = store(gateway)
    sandbox.blocked = True
    blocked = await gateway.execute(TODOS)
    assert codes(blocked) == ["UPSTREAM_REJECTED"]
    assert "blocked" in blocked["errors"][0]["message"]
    sandbox.blocked, sandbox.read_only = False, True
    assert "errors" not in await gateway.execute(TODOS)
    read_only = await gateway.execute(TOGGLE, {"id": todo_id(newest_first(gateway)[0])})
    # A 503 to a write that was sent: the gateway cannot tell it changed nothing.
    assert codes(read_only) == ["OUTCOME_UNKNOWN"]
    assert "read-only" in read_only["errors"][0]["message"]
    assert read_only["errors"][0]["extensions"]["vendor"] == "fakturoid"


async def test_upstream_faults_are_clean_errors(gateway: Gateway) -> None:
    leak = "Traceback: db-password=hunter2"

    def on_todos(response: httpx.Response) -> Any:
        return lambda r: response if r.url.path.endswith("todos.json") else None

    await warm_up(gateway)
    cases = [
        (httpx.Response(500, text=leak), "UPSTREAM_UNAVAILABLE"),
        (httpx.Response(200, text="{" + leak), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(200, json={"todos": []}), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(200, json=[{"id": 1, "name": leak}]), "UPSTREAM_BAD_RESPONSE"),
        (httpx.Response(400, json={"error": leak}), "UPSTREAM_REJECTED"),
    ]
    for response, code in cases:
        gateway.transport.faults[:] = [on_todos(response)]
        body = await gateway.execute(TODOS)
        assert codes(body) == [code], body
        assert body["errors"][0]["extensions"]["vendor"] == "fakturoid"
        assert "hunter2" not in str(body)
    gateway.transport.faults.clear()
    assert "errors" not in await gateway.execute(TODOS)


async def test_work_items_include_todos(gateway: Gateway) -> None:
    body = await gateway.execute(
        """{ workItems(first: 5, filter: {vendors: [FAKTUROID], completed: false},
                      sort: {field: CREATED_AT, descending: true}) {
              nodes { __typename title completed ... on Todo { fakturoidId } } } }"""
    )
    todos = store(gateway).todos
    open_ids = [i for i in newest_first(gateway) if todos[i].completed_at is None][:5]
    nodes = body["data"]["workItems"]["nodes"]
    assert [n["fakturoidId"] for n in nodes] == open_ids
    assert {n["__typename"] for n in nodes} == {"Todo"}
