"""ReadyDesk's documented wire forms, on the sandbox path (client -> gateway ->
adapter -> sandbox): one-column `order`, ties broken by the gateway, a count in
any plausible shape, and a status filter that reads only the pages it needs."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.errors import UpstreamAuthError, UpstreamBadResponse
from gateway.vendors.readydesk import client
from gateway.vendors.readydesk.count import read_count
from gateway.vendors.readydesk.sandbox import PREFIX
from gateway.vendors.readydesk.sandbox.wire import COUNT_SHAPES
from gateway.vendors.readydesk.wire import OUTPUT_FORMATS
from tests.conftest import Gateway
from tests.test_readydesk import readydesk_calls, record_requests, store_of

WALK = """query($after: String, $s: InvoiceSort, $f: InvoiceFilter, $first: Int) {
  invoices(first: $first, after: $after, sort: $s, filter: $f) {
    pageInfo { hasNextPage endCursor } nodes { invoiceId status billingType } } }"""


async def walk(gateway: Gateway, variables: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    after = None
    for _ in range(50):
        body = await gateway.execute(WALK, {**variables, "after": after})
        assert "errors" not in body, body
        connection = body["data"]["invoices"]
        ids.extend(node["invoiceId"] for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize(
    ("field", "order"), [("STATUS", "ASC"), ("BILLING_TYPE", "DESC"), ("CUSTOMER_ID", "ASC")]
)
async def test_a_column_full_of_ties_walks_every_invoice_once_in_one_column_orders(
    gateway: Gateway, field: str, order: str
) -> None:
    requests = record_requests(gateway)
    ids = await walk(gateway, {"s": {"field": field, "order": order}, "first": 4})

    invoices = store_of(gateway).invoices
    value = {
        "STATUS": lambda i: i.status,
        "BILLING_TYPE": lambda i: i.billing_type,
        "CUSTOMER_ID": lambda i: i.customer_id.casefold(),
    }[field]
    # The sandbox lists ties differently on every read, as SQL may; the gateway
    # orders each run of equal values by invoice ID.
    runs = sorted(invoices, key=lambda i: i.invoice_id)
    expected = sorted(runs, key=value, reverse=order == "DESC")
    assert ids == [i.invoice_id for i in expected]
    for request in requests:
        params = request.url.params
        assert "," not in params["order"] and " " not in params["order"]
        assert params["order_direction"] == order


@pytest.fixture(params=OUTPUT_FORMATS)
def asking_for(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """The gateway with its ReadyDesk adapter asking for one output format."""
    monkeypatch.setattr(client, "DEFAULT_OUTPUT", request.param)
    gateway: Gateway = request.getfixturevalue("gateway")
    return gateway


@pytest.mark.parametrize("shape", list(COUNT_SHAPES))
async def test_total_count_in_every_count_shape(asking_for: Gateway, shape: str) -> None:
    gateway = asking_for
    gateway.sandbox_app(PREFIX).state.count_shape = shape
    body = await gateway.execute(
        '{ invoices(first: 1, filter: {customerIdFrom: "ACME", customerIdTo: "ACME"}) '
        "{ totalCount } }"
    )
    assert "errors" not in body, body
    acme = [i for i in store_of(gateway).invoices if i.customer_id.startswith("ACME")]
    assert body["data"]["invoices"]["totalCount"] == len(acme) > 1


COUNT_BODIES = {
    "response wrapper, XML": b'<?xml version="1.0"?>\n<response>\n<count>30</count>\n</response>',
    "response wrapper, JSON": b'{"response":[{"count":"30"}]}',
    "response object, JSON": b'{"response":{"count":"30"}}',
    "bare count line": b"count=30",
    "count line with CRLF": b"count=30\r\n",
    "count among pairs": b"count=30&page=1",
    "list root, XML": b"<invoices><count>30</count></invoices>",
    "list root, JSON": b'{"invoices":[{"count":"30"}]}',
    "count in a record": b"<invoices><invoice><count>30</count></invoice></invoices>",
    "attribute, XML": b'<?xml version="1.0"?><invoices count="30"/>',
    "bare element": b"<count>30</count>",
    "bare object": b'{"count":30}',
    "bare number": b"30\r\n",
    "JSON number": b"30",
    "capitalised name": b"<Response><Count>30</Count></Response>",
    "record_count": b'{"invoices":[{"record_count":"30"}]}',
}


@pytest.mark.parametrize("body", COUNT_BODIES.values(), ids=list(COUNT_BODIES))
def test_every_plausible_count_shape_is_read(body: bytes) -> None:
    assert read_count(body) == 30


NOT_COUNTS = {
    "invoice list": b'{"invoices":[{"invoice_id":"1","total":"4"}]}',
    "empty body": b"",
    "two counts": b"<invoices><count>30</count><count>31</count></invoices>",
    "negative": b'{"count":-1}',
    "words": b"count=thirty",
    "entity": b'<!DOCTYPE x [<!ENTITY a "30">]><count>&a;</count>',
}


@pytest.mark.parametrize("body", NOT_COUNTS.values(), ids=list(NOT_COUNTS))
def test_no_count_is_a_bad_response(body: bytes) -> None:
    with pytest.raises(UpstreamBadResponse):
        read_count(body)


def test_an_error_wrapper_is_the_error_it_reports() -> None:
    with pytest.raises(UpstreamAuthError):
        read_count(b'{"invoices":[{"error":"Invalid API key"}]}')
    with pytest.raises(UpstreamAuthError):
        read_count(b"error=Invalid API key")


async def test_a_status_filter_reads_only_the_pages_it_needs(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    paid = [i.invoice_id for i in store_of(gateway).invoices if i.status == "PAID"]
    body = await gateway.execute(
        WALK, {"f": {"status": "PAID"}, "first": 3, "after": None}, accounting=True
    )
    assert [n["invoiceId"] for n in body["data"]["invoices"]["nodes"]] == paid[:3]
    assert readydesk_calls(body) == 1
    (request,) = requests
    # One page no bigger than a few windows, never the whole table.
    assert request.url.params["page"] == "1"
    assert int(request.url.params["count"]) < len(store_of(gateway).invoices)

    # Walking on: each page reads up to its own window, and every invoice appears once.
    assert await walk(gateway, {"f": {"status": "PAID"}, "first": 5}) == paid
    assert all("count" in r.url.params for r in requests)


async def test_a_rare_status_pages_on_until_the_window_is_full(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    pending = [i.invoice_id for i in store_of(gateway).invoices if i.status == "PENDING"]
    body = await gateway.execute(WALK, {"f": {"status": "PENDING"}, "first": 1}, accounting=True)
    assert [n["invoiceId"] for n in body["data"]["invoices"]["nodes"]] == pending[:1]
    pages = [r.url.params["page"] for r in requests]
    assert pages == [str(n) for n in range(1, len(pages) + 1)]  # in order, each once
    assert readydesk_calls(body) == len(pages)


async def test_a_status_filter_with_a_tied_sort_reads_one_prefix(gateway: Gateway) -> None:
    requests = record_requests(gateway)
    invoices = sorted(store_of(gateway).invoices, key=lambda i: i.invoice_id)
    paid = [i for i in invoices if i.status == "PAID"]
    expected = sorted(paid, key=lambda i: i.billing_type)[:3]
    body = await gateway.execute(
        WALK, {"f": {"status": "PAID"}, "s": {"field": "BILLING_TYPE"}, "first": 3}
    )
    assert [n["invoiceId"] for n in body["data"]["invoices"]["nodes"]] == [
        i.invoice_id for i in expected
    ]
    assert all("page" not in r.url.params and "count" in r.url.params for r in requests)
    assert int(requests[0].url.params["count"]) < len(invoices)
