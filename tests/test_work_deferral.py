"""`workItems` asks a vendor only when its items can reach the page.

Zoho tasks have no dates and Fakturoid todos no due date, so by due date all
their items sort last: the merge asks them only once the page gets past every
dated item, and a walk still yields every item once, in the documented order.
Seeded sandboxes: 36 Invoiced tasks (all dated), 100 todos, 24 project tasks.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.conftest import Gateway, codes
from tests.test_work_walk import PAGE, Reads, add_invoiced_tasks, reference_key, walk

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

INVOICED_TASKS, TODOS, PROJECT_TASKS = 36, 100, 24


def vendors_called(body: dict[str, Any]) -> Counter[str]:
    """Upstream calls per vendor, token grants included."""
    return Counter(call["vendor"] for call in body["extensions"]["upstreamCalls"]["calls"])


def fakturoid_down(request: httpx.Request) -> httpx.Response | None:
    if request.url.path.startswith("/fakturoid"):
        return httpx.Response(503, text="down, db=prod")
    return None


async def test_a_first_page_invoiced_fills_asks_no_one_else(gateway: Gateway) -> None:
    body = await gateway.execute(PAGE, {"first": 20, "sort": {"field": "DUE_AT"}}, accounting=True)

    assert "errors" not in body
    connection = body["data"]["workItems"]
    assert {node["vendor"] for node in connection["nodes"]} == {"INVOICED"}
    assert connection["pageInfo"]["hasNextPage"]
    # Not even a token grant: Zoho and Fakturoid were not asked at all.
    assert vendors_called(body) == Counter({"invoiced": 1})


async def test_undated_vendors_are_asked_in_their_order_as_the_page_reaches_them(
    gateway: Gateway,
) -> None:
    # 36 tasks, then todos (Fakturoid sorts before Zoho among the undated): the page
    # reaches Fakturoid, whose first page fills it, so Zoho is still not asked.
    body = await gateway.execute(PAGE, {"first": 50, "sort": {"field": "DUE_AT"}}, accounting=True)

    nodes = body["data"]["workItems"]["nodes"]
    assert Counter(node["vendor"] for node in nodes) == {"INVOICED": 36, "FAKTUROID": 14}
    called = vendors_called(body)
    assert called["fakturoid"] >= 1 and "zoho" not in called


async def test_a_due_date_walk_reaches_the_deferred_vendors_at_the_end(gateway: Gateway) -> None:
    add_invoiced_tasks(gateway)  # 176 tasks: the first five pages of 30 are all Invoiced
    store = gateway.sandbox_app("/invoiced").state.store
    # Undated tasks of a keyed vendor sort among the undated by vendor name: after the
    # todos and before the project tasks (newest first, which is also their id order).
    for n, task_id in enumerate(sorted(store.tasks)[-3:]):
        store.tasks[task_id]["due_date"] = None
        store.tasks[task_id]["created_at"] = 1_900_000_000 - n * 60
    reads = Reads()
    gateway.inject(reads)
    sort = {"field": "DUE_AT"}

    nodes, bodies = await walk(gateway, sort)

    assert all("errors" not in body for body in bodies)
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == 176 + TODOS + PROJECT_TASKS
    assert nodes == sorted(nodes, key=lambda node: reference_key(sort, node))
    assert [node["vendor"] for node in nodes[-PROJECT_TASKS - 3 : -PROJECT_TASKS]] == [
        "INVOICED"
    ] * 3
    per_page = [vendors_called(body) for body in bodies]
    # Items 1-150 are dated Invoiced tasks: nobody else is asked on those pages.
    assert all(set(calls) <= {"invoiced"} for calls in per_page[:5])
    # Zoho is first asked on the last page, where the project tasks are.
    assert [page for page, calls in enumerate(per_page, 1) if "zoho" in calls] == [10]
    assert Counter(url for url in reads.urls).most_common(1)[0][1] == 1  # no page read twice


async def test_full_page_of_dated_items_still_knows_whether_undated_ones_follow(
    gateway: Gateway,
) -> None:
    by_due = {"field": "DUE_AT"}
    only = {"vendors": ["INVOICED", "ZOHO"]}
    query = """query($first: Int!, $after: String, $filter: WorkItemFilter, $sort: WorkItemSort) {
      workItems(first: $first, after: $after, filter: $filter, sort: $sort) {
        pageInfo { hasNextPage endCursor } nodes { vendor } } }"""
    first = await gateway.execute(
        query, {"first": INVOICED_TASKS, "filter": only, "sort": by_due}, accounting=True
    )
    page = first["data"]["workItems"]
    assert {node["vendor"] for node in page["nodes"]} == {"INVOICED"}
    assert page["pageInfo"]["hasNextPage"]  # Zoho was asked, to say so
    cursor = page["pageInfo"]["endCursor"]
    second = await gateway.execute(
        query,
        {"first": 50, "after": cursor, "filter": only, "sort": by_due},
        accounting=True,
    )
    rest = second["data"]["workItems"]
    assert [node["vendor"] for node in rest["nodes"]] == ["ZOHO"] * PROJECT_TASKS
    assert not rest["pageInfo"]["hasNextPage"]
    assert second["extensions"]["upstreamCalls"]["total"] == 0  # Zoho's set, read once

    # Zoho tasks are never complete: a full page of the completed tasks is the last.
    done = {**only, "completed": True}
    everything = await gateway.execute(query, {"first": 100, "filter": done, "sort": by_due})
    count = len(everything["data"]["workItems"]["nodes"])
    assert 0 < count < INVOICED_TASKS
    full = await gateway.execute(
        query, {"first": count, "filter": done, "sort": by_due}, accounting=True
    )
    assert len(full["data"]["workItems"]["nodes"]) == count
    assert not full["data"]["workItems"]["pageInfo"]["hasNextPage"]
    assert "zoho" in vendors_called(full)  # asked, to say so


async def test_a_deferred_vendor_failing_when_finally_asked_is_reported(gateway: Gateway) -> None:
    gateway.inject(fakturoid_down)
    sort = {"field": "DUE_AT"}

    # A page that never reaches the todos does not ask Fakturoid, so nothing is missing.
    clean = await gateway.execute(PAGE, {"first": 20, "sort": sort})
    assert "errors" not in clean and clean["data"]["workItems"]["missingVendors"] == []

    body = await gateway.execute(PAGE, {"first": 50, "sort": sort})
    connection = body["data"]["workItems"]
    assert connection["missingVendors"] == ["FAKTUROID"]
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["path"] == ["workItems"]
    assert "db=prod" not in body["errors"][0]["message"]
    # Past the tasks the page goes on to the vendor after it, Zoho.
    vendors = [node["vendor"] for node in connection["nodes"]]
    assert vendors == ["INVOICED"] * INVOICED_TASKS + ["ZOHO"] * 14
    assert connection["pageInfo"]["hasNextPage"]

    # Back up: the rest of the list still holds every todo, and every item once.
    gateway.transport.faults.remove(fakturoid_down)
    nodes = list(connection["nodes"])
    after = connection["pageInfo"]["endCursor"]
    while after is not None:
        page = await gateway.execute(PAGE, {"first": 50, "after": after, "sort": sort})
        assert "errors" not in page
        nodes += page["data"]["workItems"]["nodes"]
        info = page["data"]["workItems"]["pageInfo"]
        after = info["endCursor"] if info["hasNextPage"] else None
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == INVOICED_TASKS + TODOS + PROJECT_TASKS
    assert Counter(node["vendor"] for node in nodes)["FAKTUROID"] == TODOS
