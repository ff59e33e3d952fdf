"""Partial results: a vendor's failure nulls only the fields that depend on it,
each with an error at its own path, and the rest of the document answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Gateway, codes
from tests.harness import gateway_with

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

EVERYTHING = """{
  tasks(first: 2) { totalCount nodes { id } }
  projects(first: 2) { nodes { id tasks(first: 2) { totalCount nodes { id } } } }
  invoices(first: 2) { totalCount nodes { id lineItems { lineItemId } } }
  todos(first: 2) { nodes { id } }
  workItems(first: 5, sort: {field: TITLE}) { missingVendors nodes { id vendor } }
}"""

# The root list fields each vendor answers; workItems asks all but ReadyDesk (by title
# every work vendor's items can reach the first page, so every one is asked).
ROOTS = {"invoiced": "tasks", "zoho": "projects", "readydesk": "invoices", "fakturoid": "todos"}
WORK_VENDORS = {"invoiced", "zoho", "fakturoid"}


def vendor_down(prefix: str) -> Any:
    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith(f"/{prefix}"):
            return httpx.Response(503, text="<html>down for maintenance, db=prod</html>")
        return None

    return fault


@pytest.mark.parametrize("vendor", list(ROOTS))
async def test_one_vendor_down_nulls_only_its_fields(gateway: Gateway, vendor: str) -> None:
    gateway.inject(vendor_down(vendor))
    body = await gateway.execute(EVERYTHING)

    data = body["data"]
    assert data is not None, body
    failed_root = ROOTS[vendor]
    assert data[failed_root] is None
    for other in set(ROOTS.values()) - {failed_root}:
        assert data[other]["nodes"], (other, body)
    # Nested per-vendor fields of the roots that answered are whole.
    if vendor != "zoho":
        assert all(p["tasks"]["nodes"] for p in data["projects"]["nodes"])
    if vendor != "readydesk":
        assert data["invoices"]["totalCount"] > 0
        assert all(i["lineItems"] is not None for i in data["invoices"]["nodes"])

    work = data["workItems"]
    assert work is not None and work["nodes"]
    if vendor in WORK_VENDORS:
        assert work["missingVendors"] == [vendor.upper()]
        assert vendor.upper() not in {n["vendor"] for n in work["nodes"]}
    else:
        assert work["missingVendors"] == []

    errors = body["errors"]
    expected_paths = [[failed_root]] + ([["workItems"]] if vendor in WORK_VENDORS else [])
    assert sorted(e["path"] for e in errors) == sorted(expected_paths)
    for error in errors:
        assert error["extensions"] == {
            "code": "UPSTREAM_UNAVAILABLE",
            "vendor": vendor,
            "status": 503,
        }
        assert "db=prod" not in error["message"]


async def test_bad_input_nulls_only_its_own_root(gateway: Gateway) -> None:
    body = await gateway.execute("""{
      tasks(first: 0) { nodes { id } }
      invoices(first: 1) { nodes { id } }
      workItems(first: 1000) { nodes { id } }
      nodes(ids: []) { id }
    }""")
    data = body["data"]
    assert data["tasks"] is None and data["workItems"] is None
    assert data["invoices"]["nodes"] and data["nodes"] == []
    assert sorted(e["path"][0] for e in body["errors"]) == ["tasks", "workItems"]
    assert set(codes(body)) == {"BAD_USER_INPUT"}


async def test_too_many_node_ids_null_only_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The call budget refuses 101 ids for the whole operation by default; with it
    # raised, the field's own limit must still null only its own root.
    async with gateway_with(monkeypatch, GATEWAY_MAX_UPSTREAM_CALLS="1000") as gateway:
        body = await gateway.execute(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } todos(first: 1) { nodes { id } } }",
            {"ids": ["x"] * 101},
        )
    assert body["data"]["nodes"] is None and body["data"]["todos"]["nodes"]
    assert codes(body) == ["BAD_USER_INPUT"]


def count_calls_fail(request: httpx.Request) -> httpx.Response | None:
    if request.url.path.startswith("/readydesk") and request.url.params.get("count_only") == "Y":
        return httpx.Response(503)
    return None


def line_item_calls_fail(request: httpx.Request) -> httpx.Response | None:
    """Fails every ReadyDesk call that asks for line items (include_line_items=Y)."""
    if request.url.path.startswith("/readydesk") and (
        request.url.params.get("include_line_items") == "Y"
    ):
        return httpx.Response(503)
    return None


INVOICES = """{ invoices(first: 3) {
  totalCount pageInfo { hasNextPage } nodes { id lineItems { lineItemId } } } }"""


async def test_failing_count_call_nulls_only_total_count(gateway: Gateway) -> None:
    gateway.inject(count_calls_fail)
    body = await gateway.execute(INVOICES)
    invoices = body["data"]["invoices"]
    assert invoices["totalCount"] is None
    assert len(invoices["nodes"]) == 3 and invoices["pageInfo"]["hasNextPage"] is True
    assert all(node["lineItems"] for node in invoices["nodes"])
    assert [e["path"] for e in body["errors"]] == [["invoices", "totalCount"]]
    assert body["errors"][0]["extensions"]["vendor"] == "readydesk"
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]


async def test_total_count_costs_a_call_only_when_selected(gateway: Gateway) -> None:
    gateway.inject(count_calls_fail)
    without = await gateway.execute("{ invoices(first: 3) { nodes { id } } }", accounting=True)
    assert "errors" not in without
    assert without["extensions"]["upstreamCalls"]["byVendor"]["readydesk"]["count"] == 1
    with_total = await gateway.execute(
        "{ invoices(first: 3) { totalCount nodes { id } } }", accounting=True
    )
    assert with_total["extensions"]["upstreamCalls"]["byVendor"]["readydesk"]["count"] == 2


async def test_status_filter_total_count_is_free(gateway: Gateway) -> None:
    gateway.inject(count_calls_fail)
    body = await gateway.execute(
        "{ invoices(first: 1, filter: {status: PAID}) { totalCount nodes { id } } }",
        accounting=True,
    )
    assert "errors" not in body, body
    assert body["data"]["invoices"]["totalCount"] > 1
    assert body["extensions"]["upstreamCalls"]["byVendor"]["readydesk"]["count"] == 1


async def test_line_items_in_the_page_call_fail_with_the_page(gateway: Gateway) -> None:
    # Line items come in the page's own call, so its failure is the page's failure:
    # `invoices` is null next to the other roots, and a page without them still answers.
    gateway.inject(line_item_calls_fail)
    body = await gateway.execute(
        "{ invoices(first: 3) { nodes { id lineItems { lineItemId } } } todos(first: 1) "
        "{ nodes { id } } plain: invoices(first: 3) { nodes { id } } }"
    )
    data = body["data"]
    assert data["invoices"] is None and data["todos"]["nodes"]
    assert len(data["plain"]["nodes"]) == 3
    assert [e["path"] for e in body["errors"]] == [["invoices"]]
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]


async def test_failing_line_item_call_of_nodes_nulls_only_line_items(gateway: Gateway) -> None:
    # `nodes` reads invoices without line items; their line items are one more call
    # for all of them, whose failure nulls only `lineItems`.
    listing = await gateway.execute("{ invoices(first: 3) { nodes { id } } }")
    ids = [node["id"] for node in listing["data"]["invoices"]["nodes"]]
    gateway.inject(line_item_calls_fail)
    body = await gateway.execute(
        """query($ids: [ID!]!) { nodes(ids: $ids) {
             ... on Invoice { invoiceId lineItems { lineItemId } } } }""",
        {"ids": ids},
    )
    nodes = body["data"]["nodes"]
    assert [n["invoiceId"] for n in nodes] == [1, 2, 3]
    assert all(n["lineItems"] is None for n in nodes)
    assert sorted(e["path"] for e in body["errors"]) == [
        ["nodes", i, "lineItems"] for i in range(3)
    ]
    assert set(codes(body)) == {"UPSTREAM_UNAVAILABLE"}


async def test_failing_project_tasks_call_nulls_only_that_projects_tasks(
    gateway: Gateway,
) -> None:
    listing = await gateway.execute("{ projects(first: 2) { nodes { zohoId } } }")
    broken = listing["data"]["projects"]["nodes"][1]["zohoId"]

    def tasks_of_broken_project(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith(f"/projects/{broken}/tasks"):
            return httpx.Response(503)
        return None

    gateway.inject(tasks_of_broken_project)
    body = await gateway.execute(
        "{ projects(first: 2) { nodes { name tasks(first: 2) { nodes { id } } } } }"
    )
    first, second = body["data"]["projects"]["nodes"]
    assert first["name"] and first["tasks"]["nodes"]
    assert second["name"] and second["tasks"] is None
    assert [e["path"] for e in body["errors"]] == [["projects", "nodes", 1, "tasks"]]
    assert body["errors"][0]["extensions"]["vendor"] == "zoho"
