"""The ReadyDesk sandbox speaks the wire format the adapter will meet in production."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from urllib.parse import unquote_plus

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from gateway.vendors.readydesk.sandbox import API_KEY, PREFIX, TIMEZONE, create_app, env
from gateway.vendors.readydesk.sandbox.store import Store

ENDPOINT = "/API/default.aspx"
INVOICE_FIELDS = [
    "invoice_id", "customer_id", "ticket_id", "company_id", "company_name", "invoice_date",
    "from_date", "to_date", "sub_total", "tax", "total", "billing_type", "status", "jobs",
]  # fmt: skip
LINE_ITEM_FIELDS = [
    "uid", "tid", "cid", "cost", "date", "title", "category", "duration", "time_unit", "notes",
]  # fmt: skip
Row = dict[str, str]


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
def store(app: Starlette) -> Store:
    result: Store = app.state.store
    return result


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def call(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    response = await client.get(ENDPOINT, params={"key": API_KEY, **params})
    assert response.status_code == 200
    return response


def xml_rows(text: str) -> list[tuple[Row, list[Row] | None]]:
    """(fields, line items or None) per record of a list document."""
    rows = []
    for element in ET.fromstring(text):
        fields = {child.tag: child.text or "" for child in element if len(child) == 0}
        section = element.find("line_items")
        items = None if section is None else [{c.tag: c.text or "" for c in li} for li in section]
        rows.append((fields, items))
    return rows


def url_rows(text: str) -> list[Row]:
    # Split first, decode the encoded fields after: dates carry raw spaces and "/".
    return [dict(pair.split("=", 1) for pair in line.split("&")) for line in text.splitlines()]


async def rows(client: httpx.AsyncClient, output: str, **params: str) -> list[Row]:
    """Invoice or line-item records of any format as plain dicts (no nesting)."""
    text = (await call(client, output=output, **params)).text
    if output == "xml":
        return [fields for fields, _ in xml_rows(text)]
    if output == "json":
        body = orjson.loads(text)
        return list(body["invoices" if params["action"] == "get_invoices" else "line_items"])
    return url_rows(text)


async def error_of(client: httpx.AsyncClient, output: str = "xml", **params: str) -> str:
    text = (await call(client, output=output, **params)).text
    if output == "xml":
        root = ET.fromstring(text)
        assert root.tag == "response"
        return root.findtext("error") or ""
    if output == "json":
        (entry,) = orjson.loads(text)["response"]
        return str(entry["error"])
    assert text.startswith("error=")
    return text.removeprefix("error=")


async def invoice_ids(client: httpx.AsyncClient, **params: str) -> list[int]:
    found = await rows(client, "xml", action="get_invoices", **params)
    return [int(row["invoice_id"]) for row in found]


def test_env_points_the_gateway_at_the_mounted_endpoint() -> None:
    assert env("http://127.0.0.1:8001/") == {
        "READYDESK_API_URL": "http://127.0.0.1:8001/readydesk/API/default.aspx",
        "READYDESK_API_KEY": API_KEY,
        "READYDESK_TIMEZONE": "America/New_York",
    }
    assert PREFIX == "/readydesk" and TIMEZONE == "America/New_York"


def test_seed_is_deterministic_consistent_and_per_app(store: Store) -> None:
    other: Store = create_app().state.store
    assert other is not store and other.invoices == store.invoices
    assert 25 <= len(store.invoices) <= 35 and len(store.customers) >= 8
    assert {inv.status for inv in store.invoices} == {"PAID", "PENDING"}
    assert {inv.billing_type for inv in store.invoices} == {"FT", "FJ", "V"}
    days = [inv.invoice_date.date() for inv in store.invoices]
    assert min(days) < date(2023, 3, 1) and max(days) > date(2024, 11, 30)
    items = {item.uid: item for item in store.line_items}
    for inv in store.invoices:
        assert all(items[uid].cid == inv.customer_id for uid in inv.jobs)
        assert all(items[uid].tid == inv.ticket_id for uid in inv.jobs)
        assert inv.sub_total == sum((items[uid].cost for uid in inv.jobs), Decimal(0))


async def test_xml_matches_the_vendor_example(client: httpx.AsyncClient, store: Store) -> None:
    text = (await call(client, action="get_invoices", cid="*")).text
    assert text.startswith('<?xml version="1.0"?>\n<invoices>\n<invoice>\n<invoice_id>1<')
    assert "<company_id></company_id>" in text
    parsed = xml_rows(text)
    assert [int(fields["invoice_id"]) for fields, _ in parsed] == [
        i.invoice_id for i in store.invoices
    ]
    assert all(list(fields) == INVOICE_FIELDS and items is None for fields, items in parsed)
    first, summer, empty = parsed[0][0], parsed[7][0], parsed[-1][0]
    # Stored as 2023-02-01 00:00 UTC: the server's local (EST) day is still January.
    assert first["invoice_date"] == "1/31/2023 7:00:00 PM"
    assert (first["from_date"], first["to_date"], first["jobs"]) == ("1/1/2023", "1/31/2023", "1|")
    assert (first["sub_total"], first["tax"], first["total"]) == ("48.75", "21", "58.99")
    # 2023-07-01 03:49:31 UTC is still June 30 under daylight saving time (UTC-4).
    assert summer["invoice_date"] == "6/30/2023 11:49:31 PM"
    assert (empty["customer_id"], empty["ticket_id"], empty["company_id"]) == ("demo", "", "")
    assert (empty["company_name"], empty["jobs"], empty["total"]) == ("", "", "0")


async def test_json_values_are_all_strings_with_line_items(
    client: httpx.AsyncClient, store: Store
) -> None:
    text = (
        await call(client, action="get_invoices", cid="*", include_line_items="Y", output="json")
    ).text
    invoices = orjson.loads(text)["invoices"]
    assert len(invoices) == len(store.invoices)
    for invoice in invoices:
        items = invoice.pop("line_items")
        assert list(invoice) == INVOICE_FIELDS
        assert all(isinstance(value, str) for value in invoice.values())
        assert all(list(item) == LINE_ITEM_FIELDS for item in items)
        assert all(isinstance(value, str) for item in items for value in item.values())
        assert "".join(item["uid"] + "|" for item in items) == invoice["jobs"]


async def test_xml_line_items_sit_inside_each_invoice(client: httpx.AsyncClient) -> None:
    text = (await call(client, action="get_invoices", cid="o'brien", include_line_items="Y")).text
    parsed = xml_rows(text)
    assert parsed and all(items is not None for _, items in parsed)
    for fields, items in parsed:
        assert items is not None
        assert "".join(item["uid"] + "|" for item in items) == fields["jobs"]
        assert all(list(item) == LINE_ITEM_FIELDS for item in items)
        assert all(item["time_unit"] in {"Minutes", "Hours", "Days"} for item in items)


async def test_url_delimited_records_one_per_line(client: httpx.AsyncClient, store: Store) -> None:
    text = (
        await call(client, action="get_invoices", cid="ACME*", include_line_items="Y", output="url")
    ).text
    assert "\r\n" in text and "invoice_date=" in text
    lines = url_rows(text)
    acme = [inv for inv in store.invoices if inv.customer_id.startswith("ACME")]
    invoices = [line for line in lines if "invoice_id" in line]
    assert [int(line["invoice_id"]) for line in invoices] == [inv.invoice_id for inv in acme]
    assert all(list(line) == INVOICE_FIELDS for line in invoices)
    assert len(lines) == len(acme) + sum(len(inv.jobs) for inv in acme)
    # Line items follow the invoice that lists them.
    current: Row = {}
    for line in lines:
        if "invoice_id" in line:
            current = line
        else:
            assert list(line) == LINE_ITEM_FIELDS
            assert line["uid"] in current["jobs"].split("|")
    assert invoices[0]["invoice_date"].endswith((" AM", " PM"))


@pytest.mark.parametrize("output", ["xml", "json", "url"])
async def test_url_encoded_fields_arrive_percent_encoded(
    client: httpx.AsyncClient, output: str
) -> None:
    found = await rows(client, output, action="get_invoices", cid="SY&N 01")
    assert found and {row["customer_id"] for row in found} == {"SY%26N+01"}
    assert {unquote_plus(row["company_name"]) for row in found} == {"Šťastný & Syn, s.r.o."}
    assert all("%c5%a0" in row["company_name"] for row in found)
    # "+" in the data is %2b, so only unquote_plus gets the name back.
    muller = await rows(client, output, action="get_invoices", cid="müller*")
    assert {row["customer_id"] for row in muller} == {"M%c3%9cLLER%2bPARTNER"}
    assert {unquote_plus(row["company_name"]) for row in muller} == {"Müller + Partner GmbH"}
    items = await rows(client, output, action="get_line_items", id="23")
    assert unquote_plus(items[0]["notes"]) == 'Customer says it\'s "urgent".\nCalled back at 3 PM.'


@pytest.mark.parametrize("output", ["xml", "json", "url"])
async def test_errors_come_back_with_200_in_the_wrapper(
    client: httpx.AsyncClient, output: str
) -> None:
    assert (
        await error_of(client, output, key="wrong", action="get_invoices", cid="*")
        == "Invalid API key"
    )
    assert await error_of(client, output, action="get_everything", cid="*") == "Invalid action"
    assert await error_of(client, output, action="get_invoices") == "cid is required"
    bad_date = await error_of(
        client, output, action="get_invoices", cid="*", start_date="13/45/2023"
    )
    assert bad_date.startswith("Invalid start_date")
    assert (await error_of(client, output, action="get_invoices", cid="*", count="ten")).startswith(
        "Invalid count"
    )
    assert (
        await error_of(client, output, action="get_invoices", cid="*", date_type="X")
    ).startswith("Invalid date_type")


async def test_missing_key_and_unknown_output_are_errors(client: httpx.AsyncClient) -> None:
    response = await client.get(ENDPOINT, params={"action": "get_invoices", "cid": "*"})
    assert response.status_code == 200 and "<error>Invalid API key</error>" in response.text
    unknown_output = await call(client, output="csv", action="get_invoices", cid="*")
    assert ET.fromstring(unknown_output.text).findtext("error", "").startswith("Invalid output")


async def test_wildcard_paging_walks_every_invoice_once(
    client: httpx.AsyncClient, store: Store
) -> None:
    seen: list[int] = []
    for page in range(1, 6):
        chunk = await invoice_ids(client, cid="*", count="7", page=str(page))
        assert len(chunk) == (7 if page < 5 else len(store.invoices) - 28)
        seen += chunk
    assert seen == [inv.invoice_id for inv in store.invoices]
    assert await invoice_ids(client, id="*", count="7", page="6") == []
    assert await invoice_ids(client, cid="*", count="3") == [1, 2, 3]
    assert await invoice_ids(client, cid="*", count="2", page="2", order="ID DESC") == [28, 27]
    # Paging needs a wildcard and a count, as the docs say.
    assert (
        await error_of(client, action="get_invoices", cid="demo", count="2", page="1")
    ).startswith("page requires")
    assert (await error_of(client, action="get_invoices", cid="*", page="1")).startswith(
        "page requires"
    )


@pytest.mark.parametrize("output", ["xml", "json", "url"])
async def test_count_only_returns_just_the_count(
    client: httpx.AsyncClient, store: Store, output: str
) -> None:
    text = (
        await call(
            client,
            action="get_invoices",
            cid="ACME*",
            count_only="Y",
            count="1",
            page="1",
            output=output,
        )
    ).text
    expected = str(sum(inv.customer_id.startswith("ACME") for inv in store.invoices))
    if output == "xml":
        assert ET.fromstring(text).findtext("count") == expected
    elif output == "json":
        assert orjson.loads(text) == {"response": [{"count": expected}]}
    else:
        assert text == f"count={expected}"


async def test_invoice_date_range_is_in_server_local_time(client: httpx.AsyncClient) -> None:
    # Invoices 1 and 2 were made on 2023-02-01 UTC, i.e. the evening of 1/31 in New York.
    january_31 = {"start_date": "1/31/2023", "end_date": "1/31/2023 11:59:59 PM"}
    assert await invoice_ids(client, cid="*", date_type="I", **january_31) == [1, 2]
    assert await invoice_ids(client, cid="*", **january_31) == [1, 2]
    iso = {"start_date": "2023-02-01T00:00:00Z", "end_date": "2023-01-31 19:00:01-05:00"}
    assert await invoice_ids(client, cid="*", **iso) == [1]


@pytest.mark.parametrize(("date_type", "field"), [("F", "from_date"), ("T", "to_date")])
async def test_period_date_types_filter_their_own_field(
    client: httpx.AsyncClient, store: Store, date_type: str, field: str
) -> None:
    # Invoice 9 is a per-ticket invoice from 7/20/2023 to 8/2/2023.
    expected = [
        inv.invoice_id
        for inv in store.invoices
        if getattr(inv, field).month == 7 and inv.from_date.year == 2023
    ]
    found = await invoice_ids(
        client, cid="*", date_type=date_type, start_date="7/1/2023", end_date="7/31/2023"
    )
    assert found == expected
    assert (9 in found) == (date_type == "F")


async def test_id_and_customer_ranges(client: httpx.AsyncClient, store: Store) -> None:
    assert await invoice_ids(client, cid="*", start_tid="5", end_tid="8") == [5, 6, 7, 8]
    assert await invoice_ids(client, id="3") == [3]
    assert await invoice_ids(client, id="1|2|") == [1, 2]
    in_range = await rows(client, "xml", action="get_invoices", cid="*", start_cid="j", end_cid="m")
    assert {unquote_plus(row["customer_id"]) for row in in_range} == {
        "jones, bob",
        "MÜLLER+PARTNER",
    }
    acme = await invoice_ids(client, cid="acme*")
    assert acme == [inv.invoice_id for inv in store.invoices if inv.customer_id.startswith("ACME")]


async def test_order_by_known_columns(client: httpx.AsyncClient, store: Store) -> None:
    by_total = await rows(client, "xml", action="get_invoices", cid="*", order="total DESC")
    totals = [Decimal(row["total"]) for row in by_total]
    assert totals == sorted(totals, reverse=True) and len(totals) == len(store.invoices)
    by_cid = await rows(
        client, "xml", action="get_invoices", cid="*", order="CUSTOMER_ID", order_direction="DESC"
    )
    cids = [unquote_plus(row["customer_id"]).casefold() for row in by_cid]
    assert cids == sorted(cids, reverse=True)
    by_id = await rows(client, "xml", action="get_invoices", cid="*", order="[ID] DESC")
    assert [int(row["invoice_id"]) for row in by_id] == sorted(
        (inv.invoice_id for inv in store.invoices), reverse=True
    )


async def test_ties_come_in_no_promised_order(client: httpx.AsyncClient, store: Store) -> None:
    # As in SQL: two reads of the same order may list equal values differently,
    # which is why the gateway breaks ties itself.
    orders = set()
    for count in ("30", "31", "32", "40"):
        found = await rows(
            client, "xml", action="get_invoices", cid="*", order="status", count=count
        )
        assert [row["status"] for row in found] == sorted(inv.status for inv in store.invoices)
        orders.add(tuple(row["invoice_id"] for row in found))
    assert len(orders) > 1


@pytest.mark.parametrize(
    "params",
    [
        {"order": "Nope"},
        {"order": "CID"},
        {"order": "InvoiceDate DESC"},
        {"order": "total DESC,ID ASC"},
        {"order": "status, invoice_id"},
        {"order": "ID; DROP TABLE Invoices--"},
        {"order": "ID, (SELECT 1)"},
        {"order": "ID ASC DESC"},
        {"order": "ID DESC", "order_direction": "ASC"},
        {"order_direction": "DESC; --"},
    ],
)
async def test_order_refuses_unknown_or_hostile_text(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    message = await error_of(client, action="get_invoices", cid="*", **params)
    assert message.startswith(
        ("Invalid column name", "Incorrect syntax near", "Invalid order_direction")
    )


@pytest.mark.parametrize("output", ["xml", "json", "url"])
async def test_get_line_items_by_id_ticket_and_customer(
    client: httpx.AsyncClient, store: Store, output: str
) -> None:
    by_ids = await rows(client, output, action="get_line_items", id="1|2|")
    assert [row["uid"] for row in by_ids] == ["1", "2"]
    assert all(list(row) == LINE_ITEM_FIELDS for row in by_ids)
    assert [
        row["uid"] for row in await rows(client, output, action="get_line_items", id="5, 1")
    ] == ["1", "5"]
    ticket = store.invoices[3]
    by_ticket = await rows(client, output, action="get_line_items", tid=str(ticket.ticket_id))
    assert [int(row["uid"]) for row in by_ticket] == ticket.jobs
    acme = await rows(client, output, action="get_line_items", cid="ACME*")
    expected = [item.uid for item in store.line_items if item.cid.startswith("ACME")]
    assert [int(row["uid"]) for row in acme] == expected
    everything = await rows(client, output, action="get_line_items", cid="*")
    # Work logged but not invoiced yet is there too.
    assert len(everything) == len(store.line_items) > sum(len(i.jobs) for i in store.invoices)
    assert (await error_of(client, output, action="get_line_items")) == "tid, id or cid is required"
    assert (await error_of(client, output, action="get_line_items", id="1|x")).startswith(
        "Invalid id"
    )


async def test_post_form_fetches_many_invoices_line_items(
    client: httpx.AsyncClient, store: Store
) -> None:
    jobs = "".join(f"{uid}|" for inv in store.invoices[:10] for uid in inv.jobs)
    form = {"key": API_KEY, "action": "get_line_items", "id": jobs, "output": "json"}
    response = await client.post(ENDPOINT, data=form)
    assert response.status_code == 200
    uids = [int(item["uid"]) for item in orjson.loads(response.text)["line_items"]]
    assert uids == [uid for inv in store.invoices[:10] for uid in inv.jobs]
