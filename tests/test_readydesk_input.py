"""ReadyDesk: client input is checked before any upstream call, sorting cannot carry
client text, and invoices load by global ID through the dataloaders."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.readydesk import READYDESK
from gateway.vendors.readydesk.query import ORDER_COLUMNS
from gateway.vendors.readydesk.sandbox import PREFIX
from tests.conftest import Gateway, codes
from tests.test_readydesk import readydesk_calls, record_requests, store_of

LIST = """query($f: InvoiceFilter, $s: InvoiceSort, $first: Int) {
  invoices(first: $first, filter: $f, sort: $s) { totalCount nodes { invoiceId } } }"""

BAD_INPUT: dict[str, dict[str, Any]] = {
    "reversed dates": {"f": {"dateFrom": "2024-02-01", "dateTo": "2024-01-31"}},
    "reversed invoice ids": {"f": {"invoiceIdFrom": 9, "invoiceIdTo": 3}},
    "reversed customer ids": {"f": {"customerIdFrom": "p", "customerIdTo": "jones"}},
    "negative invoice id": {"f": {"invoiceIdFrom": -1}},
    "wildcard customer id": {"f": {"customerId": "ACME*"}},
    "blank customer id": {"f": {"customerId": "  "}},
    "control characters": {"f": {"customerIdFrom": "a\nb"}},
    "page over the cap": {"first": 101},
    "page of zero": {"first": 0},
    "malformed date": {"f": {"dateFrom": "2024-02-30"}},
    "US-style date": {"f": {"dateTo": "1/31/2024"}},
    "unknown date field": {"f": {"dateFrom": "2024-01-01", "dateField": "PAID_ON"}},
    "unknown status": {"f": {"status": "OVERDUE"}},
    "sort text": {"s": {"field": "ID; DROP TABLE Invoices --"}},
    "sort with direction": {"s": {"field": "ID DESC"}},
}


@pytest.mark.parametrize("variables", BAD_INPUT.values(), ids=list(BAD_INPUT))
async def test_bad_input_is_refused_before_any_upstream_call(
    gateway: Gateway, variables: dict[str, Any]
) -> None:
    body = await gateway.execute(LIST, variables, accounting=True)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_inline_hostile_sort_fails_validation(gateway: Gateway) -> None:
    for sort in ('"ID DESC; --"', "ID_DESC", "{field: ID, order: SIDEWAYS}", '{field: "ID"}'):
        body = await gateway.execute(
            f"{{ invoices(sort: {{field: {sort}}}) {{ nodes {{ invoiceId }} }} }}"
            if not sort.startswith("{")
            else f"{{ invoices(sort: {sort}) {{ nodes {{ invoiceId }} }} }}",
            accounting=True,
        )
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"], sort
        assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_only_known_column_names_ever_reach_order(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    fields = await gateway.execute('{ __type(name: "InvoiceSortField") { enumValues { name } } }')
    names = [value["name"] for value in fields["data"]["__type"]["enumValues"]]
    assert len(names) == len(ORDER_COLUMNS)
    for name in names:
        for order in ("ASC", "DESC"):
            body = await gateway.execute(LIST, {"s": {"field": name, "order": order}, "first": 3})
            assert "errors" not in body, body
    # Client text that looks like SQL goes only where a value belongs.
    hostile = "x' ORDER BY 1; --"
    body = await gateway.execute(LIST, {"f": {"customerId": hostile, "customerIdFrom": hostile}})
    assert body["data"]["invoices"] == {"totalCount": 0, "nodes": []}

    # Only the documented form: one column, the direction in order_direction.
    columns = set(ORDER_COLUMNS.values())
    ordered = [r.url.params for r in requests if "order" in r.url.params]
    assert len(ordered) >= 2 * len(names) + 1
    assert {p["order"] for p in ordered} == columns
    assert {p["order_direction"] for p in ordered} == {"ASC", "DESC"}
    last = requests[-2:]  # the page and its count, in either order
    assert {r.url.params.get("cid") for r in last} == {hostile}
    assert all(hostile not in r.url.params.get("order", "") for r in last)


async def test_sort_directions_are_applied(gateway: Gateway) -> None:
    body = await gateway.execute(LIST, {"s": {"field": "SUB_TOTAL", "order": "DESC"}, "first": 50})
    ids = [n["invoiceId"] for n in body["data"]["invoices"]["nodes"]]
    invoices = store_of(gateway).invoices
    assert ids == [
        i.invoice_id for i in sorted(invoices, key=lambda i: (-i.sub_total, i.invoice_id))
    ]


def invoice_id(number: int) -> str:
    return encode_id(READYDESK, "Invoice", number)


@pytest.mark.federation
async def test_invoices_by_id_share_one_call(gateway: Gateway) -> None:
    a, b = invoice_id(3), invoice_id(4)
    body = await gateway.execute(
        """query($a: ID!, $b: ID!, $reps: [_Any!]!) {
             one: invoice(id: $a) { invoiceId customerId lineItems { lineItemId } }
             two: node(id: $b) { id ... on Invoice { invoiceId } }
             again: invoice(id: $a) { total }
             _entities(representations: $reps) { ... on Invoice { invoiceId } } }""",
        {"a": a, "b": b, "reps": [{"__typename": "Invoice", "id": b}]},
        accounting=True,
    )
    assert "errors" not in body, body
    data = body["data"]
    store = store_of(gateway)
    assert data["one"]["invoiceId"] == 3 and data["two"] == {"id": b, "invoiceId": 4}
    assert [li["lineItemId"] for li in data["one"]["lineItems"]] == store.invoices[2].jobs
    assert data["_entities"] == [{"invoiceId": 4}]
    # One ID-range call for both invoices, one for the line items.
    assert readydesk_calls(body) == 2


async def test_line_item_is_a_node(gateway: Gateway) -> None:
    item = store_of(gateway).line_items[0]
    node_id = encode_id(READYDESK, "LineItem", item.uid)
    body = await gateway.execute(
        "query($id: ID!) { node(id: $id) { id ... on LineItem { lineItemId title } } }",
        {"id": node_id},
    )
    assert body["data"]["node"] == {"id": node_id, "lineItemId": item.uid, "title": item.title}


async def test_unknown_and_malformed_ids(gateway: Gateway) -> None:
    query = "query($id: ID!) { invoice(id: $id) { invoiceId } }"
    missing = await gateway.execute(query, {"id": invoice_id(999)})
    assert missing["data"] == {"invoice": None} and codes(missing) == ["NOT_FOUND"]
    assert missing["errors"][0]["extensions"]["vendor"] == "readydesk"
    for wrong in (
        encode_id(INVOICED, "Task", 3),
        encode_id(READYDESK, "Invoice", "3; DROP"),
        "not-an-id",
    ):
        body = await gateway.execute(query, {"id": wrong}, accounting=True)
        assert codes(body) == ["BAD_USER_INPUT"], wrong
        assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_sandbox_prefix_is_where_requests_go(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    await gateway.execute("{ invoices(first: 1) { nodes { invoiceId } } }")
    assert [r.url.path for r in requests] == [PREFIX + "/API/default.aspx"]
