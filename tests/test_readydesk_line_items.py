"""ReadyDesk line items through include_line_items=Y on get_invoices.

The doc says only that the flag adds "a sub-section" to each invoice, so the
reader takes every plausible shape of it; each variant is named below and read
through the adapter from a body as a server might write it. The rest travels
client -> gateway -> adapter -> sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from gateway.core.errors import UpstreamBadResponse
from gateway.upstream.client import UpstreamPolicy
from gateway.vendors.readydesk.client import ReadyDeskAdapter
from gateway.vendors.readydesk.models import ReadyDeskInvoice
from gateway.vendors.readydesk.query import InvoiceQuery
from gateway.vendors.readydesk.sandbox import API_KEY, PREFIX, TIMEZONE
from gateway.vendors.readydesk.sandbox.store import Store
from gateway.vendors.readydesk.sandbox.wire import (
    INVOICES,
    invoice_record,
    line_item_record,
    render_records,
)
from gateway.vendors.readydesk.settings import ReadyDeskSettings
from tests.conftest import Gateway, codes

INVOICE = {
    "invoice_id": "1",
    "customer_id": "demo",
    "ticket_id": "5001",
    "company_id": "",
    "company_name": "",
    "invoice_date": "3/31/2014 6:30:55 PM",
    "from_date": "3/1/2014",
    "to_date": "3/31/2014",
    "sub_total": "4",
    "tax": "0",
    "total": "4",
    "billing_type": "V",
    "status": "PENDING",
    "jobs": "7|8|",
}
ITEMS = [
    {
        "uid": str(uid),
        "tid": "5001",
        "cid": "demo",
        "cost": "2",
        "date": "3/30/2014 9:15:00 AM",
        "title": f"Job+{uid}",
        "category": "Hardware",
        "duration": "1.5",
        "time_unit": "Hours",
        "notes": "",
    }
    for uid in (7, 8)
]
NO_JOBS = {**INVOICE, "invoice_id": "2", "jobs": ""}


def without_uid(item: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in item.items() if name != "uid"}


def xml_fields(fields: dict[str, str]) -> str:
    return "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())


def xml_body(*invoices: str) -> str:
    return '<?xml version="1.0"?>\n<invoices>' + "".join(invoices) + "</invoices>"


def url_line(fields: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in fields.items())


# name -> (body, expected line-item uids per invoice)
VARIANTS: dict[str, tuple[str, list[list[int]]]] = {
    "xml_nested_section": (
        xml_body(
            "<invoice>"
            + xml_fields(INVOICE)
            + "<line_items>"
            + "".join(f"<line_item>{xml_fields(item)}</line_item>" for item in ITEMS)
            + "</line_items></invoice>"
        ),
        [[7, 8]],
    ),
    "xml_other_section_and_item_names": (
        xml_body(
            "<invoice>"
            + xml_fields(INVOICE)
            + "<LineItems>"
            + "".join(f"<Item>{xml_fields(item)}</Item>" for item in ITEMS)
            + "</LineItems></invoice>"
        ),
        [[7, 8]],
    ),
    "xml_items_straight_inside_the_invoice": (
        xml_body(
            "<invoice>"
            + xml_fields(INVOICE)
            + "".join(f"<line_item>{xml_fields(item)}</line_item>" for item in ITEMS)
            + "</invoice>"
        ),
        [[7, 8]],
    ),
    "xml_items_as_attributes": (
        xml_body(
            "<invoice>"
            + xml_fields(INVOICE)
            + "<line_items>"
            + "".join(
                "<line_item " + " ".join(f'{k}="{v}"' for k, v in item.items()) + "/>"
                for item in ITEMS
            )
            + "</line_items></invoice>"
        ),
        [[7, 8]],
    ),
    "xml_empty_and_absent_sections_without_jobs": (
        xml_body(
            f"<invoice>{xml_fields(NO_JOBS)}<line_items/></invoice>",
            f"<invoice>{xml_fields({**NO_JOBS, 'invoice_id': '3'})}</invoice>",
        ),
        [[], []],
    ),
    "json_nested_array": (
        orjson.dumps({"invoices": [{**INVOICE, "line_items": ITEMS}]}).decode(),
        [[7, 8]],
    ),
    "json_converter_wrapped_array": (
        orjson.dumps({"invoices": [{**INVOICE, "line_items": {"line_item": ITEMS}}]}).decode(),
        [[7, 8]],
    ),
    "json_converter_wrapped_single_object": (
        orjson.dumps({"invoices": [{**INVOICE, "line_items": {"line_item": ITEMS[0]}}]}).decode(),
        [[7]],
    ),
    "json_bare_object": (
        orjson.dumps({"invoices": [{**INVOICE, "LineItems": ITEMS[1]}]}).decode(),
        [[8]],
    ),
    "json_empty_string_null_and_absent_without_jobs": (
        orjson.dumps(
            {
                "invoices": [
                    {**NO_JOBS, "line_items": ""},
                    {**NO_JOBS, "invoice_id": "3", "line_items": None},
                    {**NO_JOBS, "invoice_id": "4"},
                ]
            }
        ).decode(),
        [[], [], []],
    ),
    "url_lines_after_their_invoice_crlf": (
        "\r\n".join([url_line(INVOICE), *map(url_line, ITEMS), url_line(NO_JOBS)]),
        [[7, 8], []],
    ),
    "url_lf_blank_lines_and_uid_not_first": (
        "\n".join(
            [
                url_line(INVOICE),
                "",
                *(url_line({"tid": i["tid"], **{k: v for k, v in i.items()}}) for i in ITEMS),
                "",
            ]
        ),
        [[7, 8]],
    ),
    "url_write_family_lines_without_a_technician": (
        # Named as add_line_item names them: `id` is the line item, `uid` (the
        # technician) may be left out; such a line still belongs to its invoice.
        "\r\n".join(
            [url_line(INVOICE), *(url_line({"id": i["uid"], **without_uid(i)}) for i in ITEMS)]
        ),
        [[7, 8]],
    ),
    "url_records_wrapped_as_in_the_doc_example": (
        # The doc prints one record over several lines, each continuation starting "&".
        url_line(INVOICE).replace("&from_date", "\r\n&from_date").replace("&sub", "\n&sub")
        + "\r\n"
        + "\r\n".join(url_line(item).replace("&date", "\r\n&date") for item in ITEMS),
        [[7, 8]],
    ),
}


def adapter_answering(body: str, seen: list[httpx.Request]) -> ReadyDeskAdapter:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=body, headers={"Content-Type": "text/html"})

    settings = ReadyDeskSettings(
        api_url="http://readydesk/API/default.aspx", api_key=API_KEY, timezone=TIMEZONE
    )
    return ReadyDeskAdapter.from_settings(
        settings, policy=UpstreamPolicy(timeout=5), transport=httpx.MockTransport(answer)
    )


@pytest.fixture
async def reader() -> AsyncIterator[Callable[[str], Any]]:
    adapters: list[ReadyDeskAdapter] = []

    async def read(body: str) -> tuple[list[ReadyDeskInvoice], list[httpx.Request]]:
        seen: list[httpx.Request] = []
        adapter = adapter_answering(body, seen)
        adapters.append(adapter)
        page = await adapter.list_invoices(InvoiceQuery(), offset=0, limit=10, with_line_items=True)
        return page.items, seen

    yield read
    for adapter in adapters:
        await adapter.aclose()


@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_every_plausible_sub_section_is_read(
    reader: Callable[[str], Any], variant: str
) -> None:
    body, expected = VARIANTS[variant]
    invoices, seen = await reader(body)
    assert [request.url.params["include_line_items"] for request in seen] == ["Y"]
    assert [[item.id for item in inv.line_items.unwrap()] for inv in invoices] == expected
    for invoice in invoices:
        for item in invoice.line_items.unwrap():
            assert (item.ticket_id, item.cost, item.duration) == (5001, 2, Decimal("1.5"))
            assert item.title == f"Job {item.id}" and item.date.hour == 9


@pytest.mark.parametrize(
    ("variant", "body"),
    [
        ("xml_jobs_but_no_section", xml_body(f"<invoice>{xml_fields(INVOICE)}</invoice>")),
        ("json_jobs_but_no_section", orjson.dumps({"invoices": [INVOICE]}).decode()),
        (
            "json_malformed_item",
            orjson.dumps({"invoices": [{**INVOICE, "line_items": [{"uid": "x"}]}]}).decode(),
        ),
        ("url_jobs_but_no_lines", url_line(INVOICE)),
    ],
)
async def test_an_unreadable_sub_section_spoils_only_its_invoices_line_items(
    reader: Callable[[str], Any], variant: str, body: str
) -> None:
    (invoice,), _ = await reader(body)
    assert invoice.id == 1 and invoice.total == 4
    with pytest.raises(UpstreamBadResponse):
        invoice.line_items.unwrap()


def store_of(gateway: Gateway) -> Store:
    store: Store = gateway.sandbox_app(PREFIX).state.store
    return store


def watch(gateway: Gateway) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith(PREFIX + "/"):
            seen.append(request)
        return None

    gateway.inject(record)
    return seen


async def test_invoice_by_id_reads_line_items_in_its_one_call(gateway: Gateway) -> None:
    seen = watch(gateway)
    listing = await gateway.execute("{ invoices(first: 2) { nodes { id jobs } } }")
    target = listing["data"]["invoices"]["nodes"][1]
    seen.clear()
    body = await gateway.execute(
        "query($id: ID!) { invoice(id: $id) { invoiceId lineItems { lineItemId } } }",
        {"id": target["id"]},
    )
    lines = body["data"]["invoice"]["lineItems"]
    assert [li["lineItemId"] for li in lines] == target["jobs"]
    (call,) = seen
    assert call.url.params["action"] == "get_invoices"
    assert call.url.params["include_line_items"] == "Y"
    seen.clear()
    await gateway.execute("query($id: ID!) { invoice(id: $id) { total } }", {"id": target["id"]})
    (plain,) = seen
    assert "include_line_items" not in plain.url.params


@pytest.mark.federation
async def test_entities_line_items_cost_one_more_call_for_all(gateway: Gateway) -> None:
    listing = await gateway.execute("{ invoices(first: 4) { nodes { id jobs } } }")
    nodes = listing["data"]["invoices"]["nodes"]
    seen = watch(gateway)
    body = await gateway.execute(
        """query($r: [_Any!]!) { _entities(representations: $r) {
             ... on Invoice { invoiceId lineItems { lineItemId } } } }""",
        {"r": [{"__typename": "Invoice", "id": node["id"]} for node in nodes]},
    )
    assert "errors" not in body, body
    got = [[li["lineItemId"] for li in e["lineItems"]] for e in body["data"]["_entities"]]
    assert got == [node["jobs"] for node in nodes]
    # The invoices by ID, then their line items in one batched by-ID read.
    assert len(seen) == 2
    assert [r.url.params.get("include_line_items") for r in seen] == [None, "Y"]


async def test_a_line_item_by_its_own_id_uses_the_documented_single_id(gateway: Gateway) -> None:
    listing = await gateway.execute("{ invoices(first: 1) { nodes { lineItems { id title } } } }")
    item = listing["data"]["invoices"]["nodes"][0]["lineItems"][0]
    seen = watch(gateway)
    body = await gateway.execute(
        "query($id: ID!) { node(id: $id) { ... on LineItem { lineItemId title } } }",
        {"id": item["id"]},
    )
    assert body["data"]["node"]["title"] == item["title"]
    (call,) = seen
    uid = body["data"]["node"]["lineItemId"]
    assert call.url.params["action"] == "get_line_items" and call.url.params["id"] == str(uid)


async def test_a_malformed_line_item_nulls_only_its_invoices_line_items(gateway: Gateway) -> None:
    store = store_of(gateway)
    records = [invoice_record(inv, store.zone, []) for inv in store.invoices[:3]]
    by_uid = {item.uid: item for item in store.line_items}
    for record, invoice in zip(records, store.invoices, strict=False):
        record.children = [line_item_record(by_uid[uid], store.zone) for uid in invoice.jobs]
    assert records[1].children
    broken = records[1].children[0]
    broken.fields = [(name, "soon" if name == "date" else value) for name, value in broken.fields]
    body_text = render_records("xml", INVOICES, records)

    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("include_line_items") == "Y":
            return httpx.Response(200, text=body_text)
        return None

    gateway.inject(answer)
    body = await gateway.execute(
        "{ invoices(first: 2) { nodes { invoiceId lineItems { cost } } } }"
    )
    first, second = body["data"]["invoices"]["nodes"]
    assert (first["invoiceId"], second["invoiceId"]) == (1, 2)
    assert first["lineItems"] and second["lineItems"] is None
    assert [e["path"] for e in body["errors"]] == [["invoices", "nodes", 1, "lineItems"]]
    assert codes(body) == ["UPSTREAM_BAD_RESPONSE"]


@pytest.mark.parametrize("output", ["xml", "json", "url"])
async def test_sandbox_accepts_only_y_or_n(gateway: Gateway, output: str) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway.sandbox_app(PREFIX)), base_url="http://sb"
    ) as client:
        params = {"key": API_KEY, "action": "get_invoices", "cid": "*", "output": output}
        refused = await client.get(
            "/API/default.aspx", params={**params, "include_line_items": "yes"}
        )
        accepted = await client.get(
            "/API/default.aspx", params={**params, "include_line_items": "y", "count": "1"}
        )
    assert "Invalid include_line_items" in refused.text
    assert "Invalid" not in accepted.text and "uid" in accepted.text
