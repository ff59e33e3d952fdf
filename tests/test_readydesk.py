"""ReadyDesk invoices end to end: client -> gateway -> adapter -> ReadyDesk sandbox.

Expectations come from the sandbox's own store, so every decoded name, amount
and date is checked against the value the sandbox encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from gateway.vendors.readydesk import client
from gateway.vendors.readydesk.sandbox import PREFIX, TIMEZONE
from gateway.vendors.readydesk.sandbox.store import Invoice, LineItem, Store
from gateway.vendors.readydesk.wire import OUTPUT_FORMATS
from tests.conftest import Gateway

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

ZONE = ZoneInfo(TIMEZONE)
INVOICE_FIELDS = """id invoiceId customerId ticketId companyId companyName invoiceDate
    fromDate toDate subTotal taxPercent total billingType status jobs"""
LINE_ITEM_FIELDS = """id lineItemId ticketId customerId cost date title category duration
    timeUnit notes"""
BILLING = {"V": "VARIABLE_PER_JOB", "FJ": "FIXED_PER_JOB", "FT": "FIXED_PER_TICKET"}


def store_of(gateway: Gateway) -> Store:
    store: Store = gateway.sandbox_app(PREFIX).state.store
    return store


def record_requests(gateway: Gateway) -> list[httpx.Request]:
    """What reaches the ReadyDesk sandbox from now on."""
    return gateway.record(PREFIX + "/")


def readydesk_calls(body: dict[str, Any]) -> int:
    count: int = body["extensions"]["upstreamCalls"]["byVendor"].get("readydesk", {"count": 0})[
        "count"
    ]
    return count


def check_invoice(node: dict[str, Any], invoice: Invoice) -> None:
    assert node["invoiceId"] == invoice.invoice_id
    assert node["customerId"] == invoice.customer_id
    assert node["companyName"] == (invoice.company_name or None)
    assert node["ticketId"] == invoice.ticket_id
    assert node["companyId"] == invoice.company_id
    issued = datetime.fromisoformat(node["invoiceDate"])
    assert issued == invoice.invoice_date
    assert issued.utcoffset() == invoice.invoice_date.astimezone(ZONE).utcoffset()
    assert node["fromDate"] == invoice.from_date.isoformat()
    assert node["toDate"] == invoice.to_date.isoformat()
    assert Decimal(node["subTotal"]) == invoice.sub_total
    assert Decimal(node["taxPercent"]) == invoice.tax
    assert Decimal(node["total"]) == invoice.total
    assert node["billingType"] == BILLING[invoice.billing_type]
    assert node["status"] == invoice.status
    assert node["jobs"] == invoice.jobs


def check_line_item(node: dict[str, Any], item: LineItem) -> None:
    assert node["lineItemId"] == item.uid
    assert node["ticketId"] == item.tid
    assert node["customerId"] == item.cid
    assert Decimal(node["cost"]) == item.cost
    assert datetime.fromisoformat(node["date"]) == item.date
    assert (node["title"], node["category"], node["notes"]) == (
        item.title,
        item.category,
        item.notes,
    )
    assert Decimal(node["duration"]) == item.duration
    assert node["timeUnit"] == item.time_unit.upper()


@pytest.fixture(params=OUTPUT_FORMATS)
def each_format(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[Gateway, str]:
    """The gateway with its ReadyDesk adapter asking for one output format."""
    monkeypatch.setattr(client, "DEFAULT_OUTPUT", request.param)
    gateway: Gateway = request.getfixturevalue("gateway")
    return gateway, request.param


async def test_every_output_format_gives_the_same_typed_invoices(
    each_format: tuple[Gateway, str],
) -> None:
    gateway, output = each_format
    requests = record_requests(gateway)
    body = await gateway.execute(
        f"""{{ invoices(first: 40, sort: {{field: TOTAL, order: DESC}}) {{
              totalCount pageInfo {{ hasNextPage }}
              nodes {{ {INVOICE_FIELDS} lineItems {{ {LINE_ITEM_FIELDS} }} }} }} }}""",
        accounting=True,
    )
    assert "errors" not in body, body
    store = store_of(gateway)
    connection = body["data"]["invoices"]
    expected = sorted(store.invoices, key=lambda inv: (-inv.total, inv.invoice_id))
    assert [n["invoiceId"] for n in connection["nodes"]] == [i.invoice_id for i in expected]
    assert connection["totalCount"] == len(store.invoices) == 30
    assert connection["pageInfo"]["hasNextPage"] is False
    items = {item.uid: item for item in store.line_items}
    for node, invoice in zip(connection["nodes"], expected, strict=True):
        check_invoice(node, invoice)
        assert [li["lineItemId"] for li in node["lineItems"]] == invoice.jobs
        for li in node["lineItems"]:
            check_line_item(li, items[li["lineItemId"]])
    # The page with its line items, and its total: two calls, in the format asked.
    assert readydesk_calls(body) == 2
    assert {request.url.params["output"] for request in requests} == {output}
    assert {request.url.params["action"] for request in requests} == {"get_invoices"}
    (page_call,) = [r for r in requests if "count_only" not in r.url.params]
    assert page_call.url.params["include_line_items"] == "Y"


async def test_percent_encoded_names_round_trip(each_format: tuple[Gateway, str]) -> None:
    gateway, _ = each_format
    listing = await gateway.execute("{ invoices(first: 100) { nodes { customerId companyName } } }")
    names = {(n["customerId"], n["companyName"]) for n in listing["data"]["invoices"]["nodes"]}
    assert ("SY&N 01", "Šťastný & Syn, s.r.o.") in names
    assert ("MÜLLER+PARTNER", "Müller + Partner GmbH") in names
    assert ("Zoë 7", "Zoë's Café <Bistro> & Bar") in names
    assert ("jones, bob", "Bob Jones; Consulting 100%") in names
    assert ("日本-01", "株式会社テスト") in names
    assert ("demo", None) in names
    store = store_of(gateway)
    # Each decoded ID, sent back as a filter, finds exactly that customer's invoices.
    for customer_id, _ in names:
        body = await gateway.execute(
            """query($c: String!) { invoices(first: 50, filter: {customerId: $c}) {
                  totalCount nodes { invoiceId customerId } } }""",
            {"c": customer_id},
        )
        expected = [i.invoice_id for i in store.invoices if i.customer_id == customer_id]
        connection = body["data"]["invoices"]
        assert [n["invoiceId"] for n in connection["nodes"]] == expected
        assert connection["totalCount"] == len(expected)


async def test_a_page_with_line_items_costs_one_call(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    body = await gateway.execute(
        "{ invoices(first: 20) { nodes { invoiceId lineItems { title cost } } } }",
        accounting=True,
    )
    nodes = body["data"]["invoices"]["nodes"]
    assert len(nodes) == 20 and sum(len(n["lineItems"]) for n in nodes) > 20
    assert readydesk_calls(body) == 1
    assert requests[-1].url.params["include_line_items"] == "Y"
    paths = {call["path"] for call in body["extensions"]["upstreamCalls"]["calls"]}
    assert all("key" not in path and "?" not in path for path in paths)
    through_edges = await gateway.execute(
        """{ invoices(first: 3) { edges { node { ...items } } } }
           fragment items on Invoice { lineItems { lineItemId } }""",
        accounting=True,
    )
    assert all(e["node"]["lineItems"] for e in through_edges["data"]["invoices"]["edges"])
    assert readydesk_calls(through_edges) == 1
    plain = await gateway.execute(
        "{ invoices(first: 20) { nodes { invoiceId } } }", accounting=True
    )
    assert readydesk_calls(plain) == 1
    assert "include_line_items" not in requests[-1].url.params
    skipped = await gateway.execute(
        "{ invoices(first: 2) { nodes { invoiceId lineItems @skip(if: true) { title } } } }",
        accounting=True,
    )
    assert readydesk_calls(skipped) == 1
    assert "include_line_items" not in requests[-1].url.params
    fragment = await gateway.execute(
        """{ invoices(first: 5) { ...total } }
           fragment total on InvoiceConnection { totalCount }""",
        accounting=True,
    )
    assert fragment["data"]["invoices"]["totalCount"] == 30
    assert readydesk_calls(fragment) == 2
    skipped = await gateway.execute(
        "{ invoices(first: 5) { totalCount @skip(if: true) nodes { invoiceId } } }",
        accounting=True,
    )
    assert readydesk_calls(skipped) == 1


async def test_walks_every_page_in_order(gateway: Gateway) -> None:
    query = """query($after: String) {
      invoices(first: 7, after: $after, sort: {field: INVOICE_DATE, order: DESC}) {
        pageInfo { hasNextPage endCursor } nodes { invoiceId } } }"""
    seen: list[int] = []
    after = None
    for _ in range(10):
        body = await gateway.execute(query, {"after": after}, accounting=True)
        assert readydesk_calls(body) == 1
        connection = body["data"]["invoices"]
        seen.extend(n["invoiceId"] for n in connection["nodes"])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    invoices = sorted(store_of(gateway).invoices, key=lambda i: i.invoice_id)
    expected = sorted(invoices, key=lambda i: i.invoice_date, reverse=True)
    assert seen == [i.invoice_id for i in expected]


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


FILTER_CASES: list[tuple[dict[str, Any], Callable[[Invoice], bool]]] = [
    ({"invoiceIdFrom": 5, "invoiceIdTo": 9}, lambda i: 5 <= i.invoice_id <= 9),
    (
        {"customerIdFrom": "j", "customerIdTo": "o"},
        lambda i: i.customer_id.casefold() >= "j" and i.customer_id.casefold()[:1] <= "o",
    ),
    (
        # Invoice 1 was generated on Jan 31 in New York but Feb 1 in UTC.
        {"dateFrom": "2023-01-31", "dateTo": "2023-03-31"},
        lambda i: date(2023, 1, 31) <= local_day(i.invoice_date) <= date(2023, 3, 31),
    ),
    (
        {"dateFrom": "2023-06-01", "dateTo": "2023-06-30", "dateField": "FROM"},
        lambda i: date(2023, 6, 1) <= i.from_date <= date(2023, 6, 30),
    ),
    (
        {"dateFrom": "2023-06-01", "dateTo": "2023-06-30", "dateField": "TO"},
        lambda i: date(2023, 6, 1) <= i.to_date <= date(2023, 6, 30),
    ),
    ({"status": "PENDING"}, lambda i: i.status == "PENDING"),
    (
        {"status": "PAID", "customerIdFrom": "ACME", "customerIdTo": "ACME"},
        lambda i: i.status == "PAID" and i.customer_id.startswith("ACME"),
    ),
]


@pytest.mark.parametrize(("criteria", "keep"), FILTER_CASES)
async def test_filters(
    gateway: Gateway, criteria: dict[str, Any], keep: Callable[[Invoice], bool]
) -> None:
    body = await gateway.execute(
        """query($f: InvoiceFilter) { invoices(first: 100, filter: $f) {
              totalCount nodes { invoiceId } } }""",
        {"f": criteria},
    )
    expected = [i.invoice_id for i in store_of(gateway).invoices if keep(i)]
    assert expected, "a filter case must select something"
    assert [n["invoiceId"] for n in body["data"]["invoices"]["nodes"]] == expected
    assert body["data"]["invoices"]["totalCount"] == len(expected)


async def test_status_filter_pages_in_the_gateway(gateway: Gateway) -> None:
    query = """query($after: String) { invoices(first: 4, after: $after, filter: {status: PAID}) {
                 totalCount pageInfo { hasNextPage endCursor } nodes { invoiceId status } } }"""
    first = await gateway.execute(query, accounting=True)
    paid = [i.invoice_id for i in store_of(gateway).invoices if i.status == "PAID"]
    connection = first["data"]["invoices"]
    assert [n["invoiceId"] for n in connection["nodes"]] == paid[:4]
    assert connection["totalCount"] == len(paid) and connection["pageInfo"]["hasNextPage"]
    assert readydesk_calls(first) == 1
    second = await gateway.execute(query, {"after": connection["pageInfo"]["endCursor"]})
    assert [n["invoiceId"] for n in second["data"]["invoices"]["nodes"]] == paid[4:8]
