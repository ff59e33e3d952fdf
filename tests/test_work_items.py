"""`workItems` end to end over the sandboxes: one list across vendors, in order,
page after page, concurrent fan-out, and partial results when a vendor fails."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway, codes

PAGE = """query($first: Int = 7, $after: String, $filter: WorkItemFilter, $sort: WorkItemSort) {
  workItems(first: $first, after: $after, filter: $filter, sort: $sort) {
    missingVendors
    pageInfo { hasNextPage endCursor }
    nodes { __typename id title vendor completed dueAt createdAt }
  }
}"""


async def all_pages(
    gateway: Gateway, variables: dict[str, Any], limit: int = 100
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    for _ in range(limit):
        body = await gateway.execute(PAGE, {**variables, "after": after})
        assert "errors" not in body, body["errors"]
        connection = body["data"]["workItems"]
        items.extend(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return items
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("never reached the last page")


async def test_mixed_list_is_ordered_across_vendors_over_many_pages(gateway: Gateway) -> None:
    merged = await all_pages(gateway, {"sort": {"field": "TITLE"}})
    titles = [item["title"].casefold() for item in merged]
    assert titles == sorted(titles)
    assert len({item["id"] for item in merged}) == len(merged)
    per_vendor = {}
    for vendor in ("INVOICED", "ZOHO", "FAKTUROID"):
        alone = await all_pages(gateway, {"filter": {"vendors": [vendor]}})
        per_vendor[vendor] = {item["id"] for item in alone}
        assert alone and {item["vendor"] for item in alone} == {vendor}
    assert {item["id"] for item in merged} == set().union(*per_vendor.values())


async def test_due_soonest_first_with_undated_work_last(gateway: Gateway) -> None:
    merged = await all_pages(gateway, {"filter": {"completed": False}, "sort": {"field": "DUE_AT"}})
    due = [item["dueAt"] for item in merged]
    dated = [d for d in due if d is not None]
    assert dated == sorted(dated) and due[: len(dated)] == dated
    assert not any(item["completed"] for item in merged)
    assert {"INVOICED", "ZOHO"} <= {item["vendor"] for item in merged}
    # Undated work comes last, by vendor, newest first within a vendor.
    tail = merged[len(dated) :]
    assert [item["vendor"] for item in tail] == sorted(item["vendor"] for item in tail)
    todos = [item["createdAt"] for item in tail if item["vendor"] == "FAKTUROID"]
    assert todos and todos == sorted(todos, reverse=True)


async def test_filters_apply_whether_or_not_the_vendor_can(gateway: Gateway) -> None:
    items = await all_pages(
        gateway,
        {
            "filter": {
                "search": "remittance",
                "dueAfter": "2026-01-15T00:00:00Z",
                "dueBefore": "2026-02-15T00:00:00Z",
            },
            "sort": {"field": "DUE_AT", "descending": True},
        },
    )
    assert items and all("remittance" in item["title"].lower() for item in items)
    assert all("2026-01-15" < item["dueAt"] < "2026-02-15" for item in items)
    assert [i["dueAt"] for i in items] == sorted((i["dueAt"] for i in items), reverse=True)


async def test_a_vendor_failing_mid_pagination_leaves_partial_results(gateway: Gateway) -> None:
    # Invoiced (the only dated vendor, so first by due date) fails on the first
    # page: the other vendors still answer. The upstream page a later list page
    # resumes inside is not read again (tests/test_work_walk.py fails one midway).
    variables: dict[str, Any] = {"sort": {"field": "DUE_AT"}}
    gateway.inject(lambda r: httpx.Response(503) if r.url.path.startswith("/invoiced/") else None)
    first = await gateway.execute(PAGE, variables)
    connection = first["data"]["workItems"]
    assert connection["missingVendors"] == ["INVOICED"]
    assert connection["nodes"] and all(n["vendor"] != "INVOICED" for n in connection["nodes"])
    assert codes(first) == ["UPSTREAM_UNAVAILABLE"]
    assert first["errors"][0]["extensions"]["vendor"] == "invoiced"
    assert first["errors"][0]["path"] == ["workItems"]

    # Once Invoiced is back, the following pages pick it up where it stopped:
    # every Invoiced task still appears, once.
    gateway.transport.faults.clear()
    seen = connection["nodes"]
    after = connection["pageInfo"]["endCursor"]
    while after:
        body = await gateway.execute(PAGE, {**variables, "first": 50, "after": after})
        assert "errors" not in body
        seen += body["data"]["workItems"]["nodes"]
        page_info = body["data"]["workItems"]["pageInfo"]
        after = page_info["endCursor"] if page_info["hasNextPage"] else None
    invoiced = [n["id"] for n in seen if n["vendor"] == "INVOICED"]
    assert len(invoiced) == len(set(invoiced)) == 36


async def test_bad_arguments_are_refused_before_any_upstream_call(gateway: Gateway) -> None:
    cases = [
        {"filter": {"dueAfter": "2026-03-01T00:00:00Z", "dueBefore": "2026-02-01T00:00:00Z"}},
        {"filter": {"search": "x" * 201}},
        {"after": "not-a-cursor"},
    ]
    for variables in cases:
        body = await gateway.execute(PAGE, variables, accounting=True)
        assert codes(body) == ["BAD_USER_INPUT"], variables
        assert body["extensions"]["upstreamCalls"]["total"] == 0
    first = await gateway.execute(PAGE, {"sort": {"field": "TITLE"}})
    cursor = first["data"]["workItems"]["pageInfo"]["endCursor"]
    other_sort = await gateway.execute(PAGE, {"after": cursor, "sort": {"field": "CREATED_AT"}})
    assert codes(other_sort) == ["BAD_USER_INPUT"]


@pytest.mark.federation
async def test_repeated_and_aliased_nodes_cost_one_call_each(gateway: Gateway) -> None:
    task = encode_id(INVOICED, "Task", 701)
    body = await gateway.execute(
        """query($t: ID!) {
             a: node(id: $t) { id } b: node(id: $t) { id }
             c: task(id: $t) { title }
             d: nodes(ids: [$t, $t]) { id }
             e: _entities(representations: [{__typename: "Task", id: $t}]) { __typename }
           }""",
        {"t": task},
        accounting=True,
    )
    assert "errors" not in body, body
    assert body["extensions"]["upstreamCalls"]["total"] == 1


class Barrier(httpx.AsyncBaseTransport):
    """Holds each vendor's first request until every vendor's first request has
    arrived: only a gateway that asks them concurrently gets past it."""

    VENDORS = frozenset({"invoiced", "zoho", "fakturoid"})

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.arrived: set[str] = set()
        self.all_arrived = asyncio.Event()
        self.gave_up: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        vendor = request.url.path.split("/")[1]
        if vendor in self.VENDORS and not self.all_arrived.is_set():
            self.arrived.add(vendor)
            if self.arrived == self.VENDORS:
                self.all_arrived.set()
            # Bounded by loop turns, not seconds: a serial gateway fails, never hangs.
            for _ in range(1000):
                if self.all_arrived.is_set():
                    break
                await asyncio.sleep(0)
            else:
                self.gave_up.add(vendor)
        return await self.inner.handle_async_request(request)


async def test_vendors_are_called_concurrently(settings: Settings) -> None:
    barrier = Barrier(httpx.ASGITransport(app=create_sandbox_app()))
    app = create_app(settings, transports=dict.fromkeys(VENDORS, barrier))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        # By title every vendor's items may reach the first page, so all are asked.
        query = "{ workItems(sort: {field: TITLE}) { nodes { id } } }"
        response = await client.post("/graphql", json={"query": query})
    assert "errors" not in response.json()
    assert barrier.all_arrived.is_set() and not barrier.gave_up


@pytest.mark.parametrize("vendor", ["INVOICED", "ZOHO", "FAKTUROID"])
async def test_unconfigured_vendor_asked_for_is_reported(
    monkeypatch: pytest.MonkeyPatch, vendor: str
) -> None:
    from tests.conftest import gateway_settings

    names = {
        "INVOICED": "INVOICED_API_KEY",
        "ZOHO": "ZOHO_ORGANIZATION_ID",
        "FAKTUROID": "FAKTUROID_CLIENT_ID",
    }
    settings = gateway_settings(monkeypatch)
    monkeypatch.delenv(names[vendor])
    settings = Settings()
    app = create_app(
        settings, transports=dict.fromkeys(VENDORS, httpx.ASGITransport(app=create_sandbox_app()))
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": "{ workItems(filter: {vendors: [INVOICED, ZOHO, FAKTUROID]}) "
                "{ missingVendors nodes { vendor } } }"
            },
        )
    body = response.json()
    assert body["data"]["workItems"]["missingVendors"] == [vendor]
    assert codes(body) == ["VENDOR_NOT_CONFIGURED"]
    assert vendor not in {n["vendor"] for n in body["data"]["workItems"]["nodes"]}


async def test_first_page_reads_only_the_upstream_pages_it_needs(gateway: Gateway) -> None:
    query = "{ workItems(first: 20, sort: {field: CREATED_AT, descending: true}) { nodes { id } } }"
    body = await gateway.execute(query, accounting=True)
    calls = body["extensions"]["upstreamCalls"]["calls"]
    todo_pages = [c for c in calls if c["path"].endswith("todos.json")]
    task_pages = [c for c in calls if c["vendor"] == "invoiced"]
    # Todos stream newest first, Fakturoid's own order: one page of 40 suffices.
    assert len(todo_pages) == 1 and len(task_pages) == 1


async def test_later_pages_reuse_the_zoho_snapshot(gateway: Gateway) -> None:
    variables: dict[str, Any] = {"filter": {"vendors": ["ZOHO"]}, "sort": {"field": "TITLE"}}
    first = await gateway.execute(PAGE, variables, accounting=True)
    assert first["extensions"]["upstreamCalls"]["byVendor"]["zoho"]["count"] > 1
    cursor = first["data"]["workItems"]["pageInfo"]["endCursor"]
    second = await gateway.execute(PAGE, {**variables, "after": cursor}, accounting=True)
    assert second["extensions"]["upstreamCalls"]["total"] == 0
    titles = [n["title"] for n in first["data"]["workItems"]["nodes"]]
    titles += [n["title"] for n in second["data"]["workItems"]["nodes"]]
    assert titles == sorted(titles, key=str.casefold) and len(set(titles)) == 14


async def test_title_sort_follows_the_gateway_collation_for_every_vendor(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/invoiced").state.store
    store.tasks[735]["name"] = "aardvark follow-up"  # lower case sorts after Z byte-wise
    merged = await all_pages(gateway, {"sort": {"field": "TITLE"}})
    titles = [item["title"] for item in merged]
    assert titles == sorted(titles, key=str.casefold)
    assert titles[0] == "aardvark follow-up"


async def test_readydesk_is_not_work(gateway: Gateway) -> None:
    body = await gateway.execute(PAGE, {"filter": {"vendors": ["READYDESK"]}}, accounting=True)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0
