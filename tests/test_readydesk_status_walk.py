"""A status-filtered `invoices` walk reads on from where the page before stopped.

ReadyDesk cannot filter by status, so the gateway reads its pages and filters
them; the cursor records the place in ReadyDesk's pages, so no page of a walk
reads a ReadyDesk page that an earlier page of the walk already read.
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

import httpx
import pytest

from gateway.vendors.readydesk import PLUGIN as READYDESK_PLUGIN
from gateway.vendors.readydesk import scan
from gateway.vendors.readydesk.client import ReadyDeskAdapter
from gateway.vendors.readydesk.sandbox import PREFIX
from gateway.vendors.readydesk.sandbox.store import Store
from tests.conftest import Gateway, codes

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

WALK = """query($after: String, $status: InvoiceStatus!, $order: SortOrder!, $first: Int!) {
  invoices(first: $first, after: $after, filter: {status: $status},
           sort: {field: ID, order: $order}) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { invoiceId status }
  }
}"""


def store_of(gateway: Gateway) -> Store:
    store: Store = gateway.sandbox_app(PREFIX).state.store
    return store


def page_requests(gateway: Gateway) -> list[httpx.Request]:
    """What reaches the ReadyDesk sandbox from now on."""
    return gateway.record(PREFIX + "/")


def readydesk_adapter(gateway: Gateway) -> ReadyDeskAdapter:
    transport: httpx.ASGITransport = gateway.client._transport  # type: ignore[assignment]
    adapter: ReadyDeskAdapter = transport.app.state.adapters.of(READYDESK_PLUGIN)  # type: ignore[attr-defined]
    return adapter


def readydesk_calls(body: dict[str, Any]) -> int:
    by_vendor = body["extensions"]["upstreamCalls"]["byVendor"]
    count: int = by_vendor.get("readydesk", {"count": 0})["count"]
    return count


async def walk(
    gateway: Gateway, status: str, order: str, first: int, pages: int | None = None
) -> tuple[list[int], list[int]]:
    """The invoice IDs of a walk and the ReadyDesk calls of each of its pages."""
    seen: list[int] = []
    calls: list[int] = []
    after = None
    while pages is None or len(calls) < pages:
        variables = {"after": after, "status": status, "order": order, "first": first}
        body = await gateway.execute(WALK, variables, accounting=True)
        assert "errors" not in body, body
        connection = body["data"]["invoices"]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert {node["status"] for node in connection["nodes"]} <= {status}
        seen.extend(node["invoiceId"] for node in connection["nodes"])
        calls.append(readydesk_calls(body))
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    return seen, calls


def expected_ids(gateway: Gateway, status: str, order: str) -> list[int]:
    ids = sorted(i.invoice_id for i in store_of(gateway).invoices if i.status == status)
    return ids[::-1] if order == "DESC" else ids


@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_a_five_page_walk_reads_each_readydesk_page_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    # Small ReadyDesk pages (first + 1 rows), so the walk spans many of them.
    monkeypatch.setattr(scan, "MIN_SCAN_PAGE", 1)
    requests = page_requests(gateway)
    seen, calls = await walk(gateway, "PAID", order, first=4, pages=5)
    assert seen == expected_ids(gateway, "PAID", order)[:20]
    pages_read = Counter(int(request.url.params["page"]) for request in requests)
    # 20 invoices and the look-ahead, 26 of 30 paid: rows spread over 5-row pages.
    assert set(pages_read.values()) == {1}, pages_read
    assert sorted(pages_read) == list(range(1, len(pages_read) + 1))
    assert sum(calls) == len(pages_read) == len(requests)
    assert {request.url.params["count"] for request in requests} == {"5"}


async def test_walk_to_the_end_with_default_pages(gateway: Gateway) -> None:
    requests = page_requests(gateway)
    seen, calls = await walk(gateway, "PAID", "ASC", first=4)
    assert seen == expected_ids(gateway, "PAID", "ASC")
    assert len(calls) == 7
    # 30 invoices in pages of 25: two ReadyDesk pages for the whole walk, each once.
    assert sorted(int(r.url.params["page"]) for r in requests) == [1, 2]
    assert sum(calls) == 2
    sparse, sparse_calls = await walk(gateway, "PENDING", "ASC", first=1)
    assert sparse == expected_ids(gateway, "PENDING", "ASC") and len(sparse) == 4
    assert sum(sparse_calls) == 2  # the first page reads both; the rest resume in page 2


async def test_a_walk_resumed_elsewhere_reads_the_page_again_with_the_same_result(
    gateway: Gateway,
) -> None:
    variables = {"status": "PAID", "order": "ASC", "first": 4}
    first = await gateway.execute(WALK, variables, accounting=True)
    after = first["data"]["invoices"]["pageInfo"]["endCursor"]
    # Another gateway process has not kept the page the walk resumes in.
    readydesk_adapter(gateway).kept_pages.clear()
    second = await gateway.execute(WALK, {**variables, "after": after}, accounting=True)
    assert [n["invoiceId"] for n in second["data"]["invoices"]["nodes"]] == (
        expected_ids(gateway, "PAID", "ASC")[4:8]
    )
    assert readydesk_calls(second) == 1


async def test_total_count_and_line_items_keep_the_same_cursor(gateway: Gateway) -> None:
    query = """query($after: String) { invoices(first: 3, after: $after, filter: {status: PAID}) {
        totalCount pageInfo { endCursor } nodes { invoiceId lineItems { lineItemId } } } }"""
    first = await gateway.execute(query, accounting=True)
    assert readydesk_calls(first) == 1  # every row read once, for the total and the page
    connection = first["data"]["invoices"]
    paid = expected_ids(gateway, "PAID", "ASC")
    assert connection["totalCount"] == len(paid)
    after = connection["pageInfo"]["endCursor"]
    plain = await gateway.execute(
        "query($after: String) { invoices(first: 3, after: $after, filter: {status: PAID}) "
        "{ nodes { invoiceId } } }",
        {"after": after},
    )
    assert [n["invoiceId"] for n in plain["data"]["invoices"]["nodes"]] == paid[3:6]
    again = await gateway.execute(query, {"after": after})
    nodes = again["data"]["invoices"]["nodes"]
    assert [n["invoiceId"] for n in nodes] == paid[3:6] and all(n["lineItems"] for n in nodes)


def tampered(cursor: str) -> str:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    prefix, query, per_page, _row = raw.split(":")
    edited = f"{prefix}:{query}:{int(per_page) * 1000}:3"
    return base64.urlsafe_b64encode(edited.encode()).decode().rstrip("=")


async def test_foreign_or_tampered_cursors_are_bad_user_input(gateway: Gateway) -> None:
    variables = {"status": "PAID", "order": "ASC", "first": 2}
    body = await gateway.execute(WALK, variables)
    cursor = body["data"]["invoices"]["pageInfo"]["endCursor"]
    offset_cursor = (await gateway.execute("{ invoices(first: 2) { pageInfo { endCursor } } }"))[
        "data"
    ]["invoices"]["pageInfo"]["endCursor"]
    requests = page_requests(gateway)
    for bad in ["%%%", "bm9wZQ", offset_cursor, tampered(cursor), cursor[:-2]]:
        refused = await gateway.execute(WALK, {**variables, "after": bad})
        assert refused["data"]["invoices"] is None
        assert codes(refused) == ["BAD_USER_INPUT"], (bad, refused)
        assert refused["errors"][0]["extensions"]["field"] == "after"
    # A cursor of another filter, and a status cursor on a list without status.
    other = await gateway.execute(WALK, {**variables, "status": "PENDING", "after": cursor})
    assert codes(other) == ["BAD_USER_INPUT"]
    unfiltered = await gateway.execute(
        "query($a: String) { invoices(first: 2, after: $a) { nodes { id } } }", {"a": cursor}
    )
    assert codes(unfiltered) == ["BAD_USER_INPUT"]
    assert requests == []
