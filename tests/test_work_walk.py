"""A long `workItems` walk over the sandboxes reads every upstream page once.

The cursor carries each vendor's place inside the upstream page it stopped in
(and a handle on that page's unread rest), so a later page resumes there
without asking the vendor again, and a vendor that contributes nothing to a
page costs nothing on it.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest

from gateway.core.ids import decode_id
from tests.conftest import Gateway, codes

PAGE = """query($first: Int!, $after: String, $sort: WorkItemSort) {
  workItems(first: $first, after: $after, sort: $sort) {
    missingVendors
    pageInfo { hasNextPage endCursor }
    nodes { id title vendor dueAt createdAt updatedAt }
  }
}"""

EXTRA_INVOICED_TASKS = 140  # with the 36 seeded ones, Invoiced needs two pages of 100
PAGES = 10
PAGE_SIZE = 30  # 176 tasks + 24 project tasks + 100 todos = 300 = 10 pages
LIST_PATHS = ("/invoiced/tasks", "/fakturoid/api/v3/accounts/applecorp/todos.json")


class Reads:
    """Sees every request to the sandboxes and passes it on (a fault that never fires)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        if request.url.path in LIST_PATHS or "/zoho/invoice/v3/projects" in request.url.path:
            self.urls.append(str(request.url))

    def per_vendor(self) -> Counter[str]:
        return Counter(httpx.URL(url).path.split("/")[1] for url in self.urls)


def add_invoiced_tasks(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/invoiced").state.store
    template = store.tasks[700]
    for n in range(EXTRA_INVOICED_TASKS):
        task_id = store.next_id
        store.next_id += 1
        store.tasks[task_id] = {
            **template,
            "id": task_id,
            "name": f"Extra chore {n:03d}",
            # Due dates interleave with the seeded ones, some tie exactly.
            "due_date": template["due_date"] + (n * 7919 % 97) * 43_200,
            "created_at": template["created_at"] + n * 3_600,
            "updated_at": template["created_at"] + n * 3_600,
        }


def reference_key(sort: dict[str, Any], node: dict[str, Any]) -> tuple[Any, ...]:
    """The documented order, written out independently of gateway.core.work."""
    key = decode_id(node["id"]).key
    field = {"DUE_AT": "dueAt", "CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"}.get(
        sort["field"]
    )
    value: Any
    if field is None:
        value = node["title"].casefold()
    else:
        raw = node[field]
        value = None if raw is None else datetime.fromisoformat(raw).timestamp()
    created = datetime.fromisoformat(node["createdAt"]).timestamp() if node["createdAt"] else 0
    if value is None:
        return (1, node["vendor"].lower(), -created, key)
    if sort.get("descending"):
        value = -value if isinstance(value, float) else Descending(value)
    return (0, value, node["vendor"].lower(), -created, key)


class Descending(str):
    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)


async def walk(
    gateway: Gateway, sort: dict[str, Any], *, before_page: Any = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of the list: its nodes, and each page's whole answer."""
    nodes: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    after = None
    for number in range(1, PAGES + 1):
        if before_page is not None:
            await before_page(number)
        variables = {"first": PAGE_SIZE, "after": after, "sort": sort}
        body = await gateway.execute(PAGE, variables, accounting=True)
        bodies.append(body)
        connection = body["data"]["workItems"]
        nodes += connection["nodes"]
        after = connection["pageInfo"]["endCursor"]
        assert len(after) < 400, "the cursor must stay small"
        if not connection["pageInfo"]["hasNextPage"]:
            break
    return nodes, bodies


def calls_by_vendor(bodies: list[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for body in bodies:
        for call in body["extensions"]["upstreamCalls"]["calls"]:
            if call["method"] == "GET":  # not the OAuth token grants
                counts[call["vendor"]] += 1
    return counts


@pytest.mark.parametrize(
    "sort",
    [
        {"field": "DUE_AT"},
        {"field": "CREATED_AT", "descending": True},
        {"field": "UPDATED_AT"},
        {"field": "TITLE"},
    ],
)
async def test_ten_page_walk_reads_every_upstream_page_once(
    gateway: Gateway, sort: dict[str, Any]
) -> None:
    add_invoiced_tasks(gateway)
    reads = Reads()
    gateway.inject(reads)
    nodes, bodies = await walk(gateway, sort)

    assert len(bodies) == PAGES and not bodies[-1]["data"]["workItems"]["pageInfo"]["hasNextPage"]
    assert all("errors" not in body for body in bodies)
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == 300
    assert nodes == sorted(nodes, key=lambda node: reference_key(sort, node))

    repeated = [url for url, count in Counter(reads.urls).items() if count > 1]
    assert repeated == []
    # The accounting extension agrees: calls per vendor are the distinct pages read.
    assert calls_by_vendor(bodies) == reads.per_vendor()
    # Streamed or read whole (TITLE), each vendor's pages are read once:
    # 176 tasks at 100 a page, 100 todos at 40 a page.
    assert reads.per_vendor()["invoiced"] == 2
    assert reads.per_vendor()["fakturoid"] == 3


async def test_a_vendor_failing_midway_is_resumed_without_rereading(gateway: Gateway) -> None:
    # By due date the undated todos come after every Invoiced task (pages 7-10),
    # so Fakturoid's second page is first needed on page 8: it fails there.
    add_invoiced_tasks(gateway)
    reads = Reads()
    gateway.inject(reads)
    refused: list[str] = []

    def fakturoid_down(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("todos.json"):
            refused.append(str(request.url))
            return httpx.Response(503)
        return None

    async def before_page(number: int) -> None:
        if number == 8:
            gateway.inject(fakturoid_down)
        elif number == 9:
            gateway.transport.faults.remove(fakturoid_down)

    nodes, bodies = await walk(gateway, {"field": "DUE_AT"}, before_page=before_page)

    eighth = bodies[7]
    assert eighth["data"]["workItems"]["missingVendors"] == ["FAKTUROID"]
    assert codes(eighth) == ["UPSTREAM_UNAVAILABLE"]
    assert all("errors" not in body for i, body in enumerate(bodies) if i != 7)
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids))
    # The rest is paged on after the last page of the walk, every todo still once.
    after = bodies[-1]["data"]["workItems"]["pageInfo"]["endCursor"]
    while bodies[-1]["data"]["workItems"]["pageInfo"]["hasNextPage"]:
        bodies.append(await gateway.execute(PAGE, {"first": PAGE_SIZE, "after": after}))
        nodes += bodies[-1]["data"]["workItems"]["nodes"]
        after = bodies[-1]["data"]["workItems"]["pageInfo"]["endCursor"]
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == 300
    todos = [n for n in nodes if n["vendor"] == "FAKTUROID"]
    assert len(todos) == 100
    # Pages that answered were each read once; the refused page was asked again.
    answered = Counter(url for url in reads.urls)
    answered.subtract(refused)
    assert set(refused) and max(answered.values()) == 1


async def test_a_write_mid_walk_reads_the_vendor_page_afresh(gateway: Gateway) -> None:
    # A write drops what the gateway kept of that vendor, so the next page reads
    # the current state: the cursor's page number and offset are enough to resume.
    reads = Reads()
    gateway.inject(reads)
    sort = {"field": "CREATED_AT", "descending": True}
    first = await gateway.execute(PAGE, {"first": 10, "sort": sort})
    todos = [n for n in first["data"]["workItems"]["nodes"] if n["vendor"] == "FAKTUROID"]
    assert todos, first
    toggle = "mutation($id: ID!) { toggleTodoCompletion(id: $id) { todo { completed } } }"
    assert "errors" not in await gateway.execute(toggle, {"id": todos[0]["id"]})
    after = first["data"]["workItems"]["pageInfo"]["endCursor"]
    second = await gateway.execute(PAGE, {"first": 10, "after": after, "sort": sort})
    assert "errors" not in second
    seen = first["data"]["workItems"]["nodes"] + second["data"]["workItems"]["nodes"]
    assert len({n["id"] for n in seen}) == 20
    assert reads.per_vendor()["fakturoid"] == 2  # page 1 again, after the write


def forged(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


async def test_tampered_cursors_are_bad_user_input_before_any_call(gateway: Gateway) -> None:
    first = await gateway.execute(PAGE, {"first": 5})
    cursor = first["data"]["workItems"]["pageInfo"]["endCursor"]
    payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    fingerprint = payload["q"]
    bad = [
        forged({"q": fingerprint, "s": {"invoiced": ["1.not a token!", 0]}}),
        forged({"q": fingerprint, "s": {"invoiced": ["1." + "A" * 500, 0]}}),
        forged({"q": fingerprint, "s": {"fakturoid": ["0", 0]}}),
        forged({"q": fingerprint, "s": {"invoiced": ["1", 10**9]}}),
        forged({"q": fingerprint, "s": {"invoiced": ["1", -1]}}),
        forged({"q": fingerprint, "s": {"readydesk": ["1", 0]}}),
        forged({"q": fingerprint, "s": {"nobody": ["1", 0]}}),
        forged({"q": fingerprint, "s": {"zoho": ["1", 0], "pad": "x" * 4000}}),
        cursor[:-3],
    ]
    for after in bad:
        body = await gateway.execute(PAGE, {"first": 5, "after": after}, accounting=True)
        assert codes(body) == ["BAD_USER_INPUT"], after
        assert body["errors"][0]["extensions"]["field"] == "after"
        assert body["extensions"]["upstreamCalls"]["total"] == 0
