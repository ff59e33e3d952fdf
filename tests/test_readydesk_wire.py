"""The ReadyDesk adapter below GraphQL: format detection on real sandbox output,
window planning, customer ranges, the endpoint URL and long ID lists."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from gateway.core.errors import UpstreamBadResponse
from gateway.upstream.client import UpstreamPolicy
from gateway.vendors.readydesk import query
from gateway.vendors.readydesk.client import ReadyDeskAdapter, _endpoint_url
from gateway.vendors.readydesk.count import read_count
from gateway.vendors.readydesk.models import parse_invoice, parse_line_item
from gateway.vendors.readydesk.query import InvoiceQuery, customer_range_is_empty, plan_pages
from gateway.vendors.readydesk.sandbox import API_KEY, TIMEZONE, create_app
from gateway.vendors.readydesk.sandbox.store import Store
from gateway.vendors.readydesk.settings import ReadyDeskSettings
from gateway.vendors.readydesk.wire import OUTPUT_FORMATS, Records, Single, parse_document

ENDPOINT = "http://sandbox/API/default.aspx"


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sandbox() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app())


def store_of(sandbox: httpx.ASGITransport) -> Store:
    store: Store = sandbox.app.state.store  # type: ignore[attr-defined]
    return store


async def fetch(sandbox: httpx.ASGITransport, **params: str) -> bytes:
    async with httpx.AsyncClient(transport=sandbox, base_url="http://sandbox") as client:
        response = await client.get("/API/default.aspx", params={"key": API_KEY, **params})
    return response.content


@pytest.mark.parametrize("output", OUTPUT_FORMATS)
async def test_nested_line_items_parse_in_every_format(
    sandbox: httpx.ASGITransport, output: str
) -> None:
    body = await fetch(
        sandbox, action="get_invoices", cid="*", include_line_items="Y", output=output
    )
    document = parse_document(body)
    assert isinstance(document, Records)
    store = store_of(sandbox)
    zone = store.zone
    assert len(document.items) == len(store.invoices)
    for record, invoice in zip(document.items, store.invoices, strict=True):
        parsed = parse_invoice(record.fields, zone)
        assert (parsed.id, parsed.customer_id, parsed.total) == (
            invoice.invoice_id,
            invoice.customer_id,
            invoice.total,
        )
        children = [parse_line_item(child, zone) for child in record.children or []]
        assert [item.id for item in children] == invoice.jobs
        assert all(item.date.tzinfo is not None for item in children)


@pytest.mark.parametrize("output", OUTPUT_FORMATS)
async def test_wrappers_in_every_format(sandbox: httpx.ASGITransport, output: str) -> None:
    counted = await fetch(
        sandbox, action="get_invoices", cid="ACME*", count_only="Y", output=output
    )
    expected = sum(1 for i in store_of(sandbox).invoices if i.customer_id.startswith("ACME"))
    assert read_count(counted) == expected
    failed = parse_document(await fetch(sandbox, action="get_invoices", output=output))
    assert failed == Single("error", "cid is required")
    empty = parse_document(await fetch(sandbox, action="get_invoices", cid="nobody", output=output))
    assert isinstance(empty, Records) and empty.items == []


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe garbage", b"{", b"[1, 2]", b'{"a": [], "b": []}', b"just text", b"a=1&&b=2"],
)
def test_garbage_is_a_bad_response(body: bytes) -> None:
    with pytest.raises(UpstreamBadResponse):
        document = parse_document(body)
        if isinstance(document, Single):
            read_count(body)
        else:
            parse_invoice(document.items[0].fields, ZoneInfo("UTC"))


def test_plan_pages_covers_every_window_in_one_page_when_it_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for offset, need in itertools.product(range(0, 400, 3), (1, 2, 6, 21, 101)):
        per_page, pages = plan_pages(offset, need)
        assert per_page >= need
        first_row = (pages[0] - 1) * per_page
        assert first_row <= offset and offset + need <= first_row + per_page * len(pages)
        assert pages == list(range(pages[0], pages[0] + len(pages)))
    assert plan_pages(20, 21) == (41, [1])
    assert plan_pages(10**9 + 7, 21)[0] <= query.MAX_CHUNK
    # With no page size to spare, a straddling window takes two pages of its own size.
    monkeypatch.setattr(query, "MAX_CHUNK", 21)
    assert plan_pages(20, 21) == (21, [1, 2])


def test_customer_range_emptiness_matches_readydesk() -> None:
    ids = ["".join(p) for n in range(1, 4) for p in itertools.product("aBc", repeat=n)]
    bounds = ["".join(p) for n in range(1, 3) for p in itertools.product("abC", repeat=n)]
    for low, high in itertools.product(bounds, repeat=2):
        kept = [
            i
            for i in ids
            if i.casefold() >= low.casefold() and i.casefold()[: len(high)] <= high.casefold()
        ]
        if customer_range_is_empty(low, high):
            assert kept == [], (low, high)
        else:
            # The range keeps `low` itself, so a non-empty verdict is never wrong.
            assert low.casefold()[: len(high)] <= high.casefold()


def test_endpoint_url_accepts_the_page_or_the_host() -> None:
    assert _endpoint_url("https://help.example.com/API/default.aspx") == (
        "https://help.example.com/API/",
        "default.aspx",
    )
    assert _endpoint_url("https://help.example.com/desk/") == (
        "https://help.example.com/desk/",
        "API/default.aspx",
    )


def adapter_for(transport: httpx.AsyncBaseTransport) -> ReadyDeskAdapter:
    settings = ReadyDeskSettings(api_url=ENDPOINT, api_key=API_KEY, timezone=TIMEZONE)
    return ReadyDeskAdapter.from_settings(
        settings, policy=UpstreamPolicy(timeout=5), transport=transport
    )


@pytest.fixture
async def recorded(
    sandbox: httpx.ASGITransport,
) -> AsyncIterator[tuple[ReadyDeskAdapter, Recorder]]:
    recorder = Recorder(sandbox)
    adapter = adapter_for(recorder)
    yield adapter, recorder
    await adapter.aclose()


async def test_long_queries_go_in_one_post(
    recorded: tuple[ReadyDeskAdapter, Recorder], sandbox: httpx.ASGITransport
) -> None:
    adapter, recorder = recorded
    long_name = "ACME-" + "x" * 2000
    page = await adapter.list_invoices(InvoiceQuery(customer_id_to=long_name), offset=0, limit=5)
    (request,) = recorder.requests
    assert request.method == "POST" and request.url.params["key"] == API_KEY
    assert "end_cid" not in request.url.params
    high = long_name.casefold()
    kept = [i.invoice_id for i in store_of(sandbox).invoices if i.customer_id.casefold() <= high]
    assert [i.id for i in page.items] == kept[:5]


async def test_ids_far_apart_take_one_range_call_each(
    recorded: tuple[ReadyDeskAdapter, Recorder],
) -> None:
    adapter, recorder = recorded
    found = await adapter.get_invoices([30, 2, 1, 5000, 3])
    assert [i.id if i else None for i in found] == [30, 2, 1, None, 3]
    ranges = sorted((r.url.params["start_tid"], r.url.params["end_tid"]) for r in recorder.requests)
    assert ranges == [("1", "30"), ("5000", "5000")]


async def test_one_customer_is_read_from_its_start(
    recorded: tuple[ReadyDeskAdapter, Recorder],
) -> None:
    adapter, recorder = recorded
    page = await adapter.list_invoices(InvoiceQuery(customer_id="ACME-001"), offset=1, limit=1)
    (request,) = recorder.requests
    assert "page" not in request.url.params and request.url.params["count"] == "3"
    assert page.offset == 1 and len(page.items) == 1 and page.total is None
