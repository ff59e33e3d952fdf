"""The ReadyDesk adapter: one ``default.aspx`` endpoint, an ``action`` per call.

Wire facts (vendor-docs/helpdesk-get-invoices.txt, VENDORS.md): the API key
goes in the query string as ``key``; ``get_invoices`` filters by ``cid`` (``*``
wildcard, required), ``start_tid``/``end_tid`` (invoice IDs, despite the name
[doc]), ``start_cid``/``end_cid`` and ``start_date``/``end_date`` on the date
chosen by ``date_type``; ``count`` with ``page`` pages only when ``cid`` has a
wildcard; ``count_only=Y`` answers a count; ``order`` is raw SQL column text,
so it is only ever built here from a fixed table of column names, in the one
documented form (a single column and a direction).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from gateway.core.errors import UpstreamBadResponse, UpstreamMisconfigured, UpstreamRejected
from gateway.core.records import BadRecord, bad, good, parse_each
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.client import Upstream, UpstreamPolicy, create_client, vendor_limits
from gateway.upstream.responses import raise_for_status
from gateway.upstream.transport import vendor_transport

from .count import read_count
from .models import (
    ReadyDeskInvoice,
    ReadyDeskLineItem,
    parse_invoice,
    parse_line_item,
    read_included,
)
from .ordering import settled_prefix
from .query import (
    UNIQUE_COLUMNS,
    InvoiceQuery,
    order_params,
    plan_pages,
    wire_filters,
)
from .rows import InvoicePage, Row, bad_invoice, pick_by_id, unplaced_between
from .scan import (
    KeptPages,
    Scanned,
    ScanPage,
    ScanPosition,
    scan_page_size,
    scan_pages,
)
from .settings import ReadyDeskSettings
from .vendor import READYDESK
from .wire import OutputFormat, expect_records, parse_document

ENDPOINT = "API/default.aspx"
# The format this gateway asks for. Every format is parsed whatever is asked,
# since the body, not the request, says which one came back.
DEFAULT_OUTPUT: OutputFormat = "json"
# [guess] The selector's name is undocumented; the sandbox reads `output`.
OUTPUT_PARAMETER = "output"
# Adds each invoice's line items to get_invoices as a sub-section [doc]; only "Y"
# and "N" are valid [doc]. The sub-section's shape is a [guess] (see _wire).
INCLUDE_LINE_ITEMS = "include_line_items"
# Invoice IDs fetched per `start_tid`..`end_tid` range when loading by ID.
MAX_ID_SPAN = 200
# IIS refuses query strings over 2048 bytes by default; a longer query (a long
# customer ID filter) goes in a form body, which ASP.NET's Request[name] reads as
# well [guess].
MAX_QUERY_LENGTH = 1500
# A read from the start grows by this factor until its settled rows suffice.
PREFIX_GROWTH = 4


def _endpoint_url(api_url: str) -> tuple[str, str]:
    """Split READYDESK_API_URL into a base and the page; a bare host gets the default page."""
    url = httpx.URL(api_url)
    if not url.path.lower().endswith(".aspx"):
        return str(url).rstrip("/") + "/", ENDPOINT
    base, _, page = str(url.copy_with(query=None, fragment=None)).rpartition("/")
    return base + "/", page


class _KeyInQuery(httpx.AsyncBaseTransport):
    """Adds ``key`` to the query string below the client.

    httpx logs each request URL at INFO level, and Upstream records paths only;
    adding the key here, on a copy of the request, keeps it out of both while it
    still travels in the query string as ReadyDesk expects.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, key: str) -> None:
        self._inner = inner
        # Encoded once, and appended to the query the request already carries: the
        # URL is not parsed into parameters and encoded again on every call.
        self._param = urlencode({"key": key}).encode("ascii")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The body goes over as bytes: a stream would be sent chunked, GETs included.
        query = request.url.query
        outgoing = httpx.Request(
            request.method,
            request.url.copy_with(query=query + b"&" + self._param if query else self._param),
            headers=request.headers,
            content=await request.aread(),
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(outgoing)

    async def aclose(self) -> None:
        await self._inner.aclose()


class ReadyDeskAdapter:
    vendor = READYDESK

    def __init__(
        self,
        client: httpx.AsyncClient,
        page: str,
        *,
        zone: ZoneInfo,
        output: OutputFormat,
        breaker: CircuitBreaker | None = None,
        currency: str = "USD",
    ) -> None:
        self.upstream = Upstream(READYDESK, client, breaker=breaker)
        self.page = page
        self.zone = zone
        # What the help desk bills in: its amounts say no currency of their own.
        self.currency = currency.upper()
        self.output: OutputFormat = output
        # ReadyDesk pages that status-filtered walks resume in (see _scan).
        self.kept_pages = KeptPages()

    @classmethod
    def from_settings(
        cls,
        settings: ReadyDeskSettings,
        *,
        policy: UpstreamPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        output: OutputFormat | None = None,
    ) -> ReadyDeskAdapter:
        try:
            zone = ZoneInfo(settings.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                "READYDESK_TIMEZONE must be an IANA time zone name, e.g. America/New_York"
            ) from exc
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        inner = transport or vendor_transport(vendor_limits(settings.max_connections))
        base, page = _endpoint_url(settings.api_url or "")
        client = create_client(
            base,
            timeout=policy.timeout,
            transport=_KeyInQuery(inner, key),
            max_connections=settings.max_connections,
        )
        return cls(
            client,
            page,
            zone=zone,
            output=output or DEFAULT_OUTPUT,
            breaker=policy.breaker(READYDESK),
            currency=settings.currency,
        )

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def _call(self, action: str, params: Mapping[str, str]) -> bytes:
        fields = {"action": action, OUTPUT_PARAMETER: self.output, **params}
        if len(str(httpx.QueryParams(fields))) > MAX_QUERY_LENGTH:
            response = await self.upstream.send("POST", self.page, data=fields)
        else:
            response = await self.upstream.send("GET", self.page, params=fields)
        status = response.status_code
        if status == 404:
            # The page itself is missing: READYDESK_API_URL points at the wrong place.
            raise UpstreamMisconfigured(
                READYDESK, "the API page was not found; check READYDESK_API_URL", status=status
            )
        if status >= 300:
            raise_for_status(READYDESK, response)
            raise UpstreamRejected(READYDESK, "the request was redirected", status=status)
        return response.content

    async def _records(self, params: Mapping[str, str]) -> list[Row]:
        """Invoices in the order listed; one that cannot be read is a BadInvoice in place."""
        document = parse_document(await self._call("get_invoices", params))
        records = expect_records(document, "invoices")
        invoices = parse_each((r.fields for r in records), partial(parse_invoice, zone=self.zone))
        with_line_items = params.get(INCLUDE_LINE_ITEMS) == "Y"
        return [
            bad_invoice(invoice.error, record.fields)
            if isinstance(invoice, BadRecord)
            else read_included(invoice, record.children, self.zone)
            if with_line_items
            else invoice
            for invoice, record in zip(invoices, records, strict=True)
        ]

    async def every_invoice(self) -> list[Row]:
        """Every invoice, in one call (a wildcard customer and no count): the change
        poller's sweep."""
        return await self._records({"cid": "*"})

    async def count_invoices(self, query: InvoiceQuery) -> int:
        """How many invoices ReadyDesk's own filters match: one ``count_only`` call."""
        # Only the filters ReadyDesk applies itself: callers handle `status`.
        return read_count(
            await self._call("get_invoices", {**wire_filters(query), "count_only": "Y"})
        )

    async def list_invoices(
        self,
        query: InvoiceQuery,
        *,
        offset: int,
        limit: int,
        with_total: bool = False,
        with_line_items: bool = False,
    ) -> InvoicePage:
        """A page of invoices. ``with_total`` matters only with a status filter, which
        no count can apply: then every match is read once and the page carries its
        total. Otherwise ``total`` is None and ``count_invoices`` is a call of its own.
        ``with_line_items`` asks for each invoice's line items in the same calls."""
        need = limit + 1  # one row more than asked tells whether a next page exists
        filters = {**wire_filters(query), **order_params(query)}
        if with_line_items:
            filters[INCLUDE_LINE_ITEMS] = "Y"
        pageable = "*" in filters["cid"]  # paging needs a wildcard cid [doc]
        if query.status is None and query.sort in UNIQUE_COLUMNS and pageable:
            return await self._window(filters, offset, limit)
        if query.status is not None and with_total:
            # No count can filter by status: the total needs every row, and the
            # one full read serves the window as well.
            everything = await self._records(filters)
            rows = [
                invoice
                for invoice in settled_prefix(good(everything), query.sort, exhausted=True)
                if invoice.status is query.status
            ]
            matching: list[Row] = list(rows[offset : offset + need])
            return InvoicePage(
                matching[:limit],
                offset,
                len(matching) > limit,
                len(rows),
                unplaced=tuple(bad(everything)),
            )
        # A status filter in ID order is walked by `scan_by_status`; here it is read
        # from the start, as any order whose pages are not stable.
        prefix, unplaced = await self._read_prefix(query, filters, offset + need)
        window = prefix[offset : offset + need]
        return InvoicePage(window[:limit], offset, len(window) > limit, unplaced=unplaced)

    def scans_by_position(self, query: InvoiceQuery) -> bool:
        """Whether ``query`` is walked by ReadyDesk page (``scan_by_status``): a status
        filter in ID order, where ReadyDesk's pages are stable and can be had."""
        return (
            query.status is not None
            and query.sort in UNIQUE_COLUMNS
            and "*" in wire_filters(query)["cid"]
        )

    async def scan_by_status(
        self,
        query: InvoiceQuery,
        *,
        after: ScanPosition | None,
        limit: int,
        with_total: bool = False,
        with_line_items: bool = False,
    ) -> ScanPage:
        """The next ``limit`` invoices of the wanted status after ``after``, read from
        the ReadyDesk page that holds the next row on, never from the first."""
        status = query.status
        filters = {**wire_filters(query), **order_params(query)}
        if with_line_items:
            filters[INCLUDE_LINE_ITEMS] = "Y"
        per_page = after.per_page if after else scan_page_size(limit)
        start = after.row + 1 if after else 0
        if with_total:
            # No count can filter by status: the total needs every row, and the one
            # full read serves the page as well.
            everything = await self._records(filters)
            matches = [
                Scanned(invoice, row)
                for row, invoice in enumerate(everything)
                if not isinstance(invoice, BadRecord) and invoice.status is status
            ]
            window = [match for match in matches if match.row >= start][: limit + 1]
            has_next = len(window) > limit
            last = window[limit - 1].row if has_next else None
            unplaced = unplaced_between(enumerate(everything), start, last)
            return ScanPage(window[:limit], per_page, has_next, len(matches), unplaced)
        return await scan_pages(
            self._records,
            self.kept_pages,
            filters,
            status,
            per_page=per_page,
            start=start,
            limit=limit,
            resuming=after is not None,
        )

    async def _window(self, filters: dict[str, str], offset: int, limit: int) -> InvoicePage:
        """Rows in a unique order: the pages that cover the window, read at once."""
        need = limit + 1
        per_page, pages = plan_pages(offset, need)
        skip = offset - (pages[0] - 1) * per_page
        # In a unique order a row keeps its place unread, so it fails only itself.
        fetches = [
            self._records({**filters, "count": str(per_page), "page": str(p)}) for p in pages
        ]
        chunks = await asyncio.gather(*fetches)
        rows = [invoice for chunk in chunks for invoice in chunk]
        window = rows[skip : skip + need]
        return InvoicePage(window[:limit], offset, len(window) > limit)

    async def _read_prefix(
        self, query: InvoiceQuery, filters: dict[str, str], end: int
    ) -> tuple[list[Row], tuple[UpstreamBadResponse, ...]]:
        """The first ``end`` matching rows from the start of the list, ties by ID, and
        the errors of the bad rows the read could not place.

        Used when pages would not be stable (a column with repeated values) or
        cannot be had (an exact cid). Each read asks for more rows than the
        window, from the start, so every read is one consistent snapshot; it
        grows only when the rows it could settle do not fill the window.
        """
        # One row past the window shows whether its last run of ties goes on.
        count = end if query.sort in UNIQUE_COLUMNS else end + 1
        in_place = query.sort in UNIQUE_COLUMNS and query.status is None
        while True:
            rows = await self._records({**filters, "count": str(count)})
            exhausted = len(rows) < count
            if in_place:
                # ReadyDesk's order is the page's own: a bad row keeps its place.
                return rows, ()
            settled = settled_prefix(good(rows), query.sort, exhausted=exhausted)
            if query.status is not None:
                settled = [invoice for invoice in settled if invoice.status is query.status]
            if exhausted or len(settled) >= end:
                # Placed nowhere, a bad row is reported by every page whose read met it.
                return list(settled), tuple(bad(rows))
            count *= PREFIX_GROWTH

    async def get_invoices(
        self, invoice_ids: list[int], *, with_line_items: bool = False
    ) -> list[ReadyDeskInvoice | UpstreamBadResponse | None]:
        """Invoices by ID, None where absent, the error where the row cannot be read
        (see rows.pick_by_id): one ID-range call per cluster of IDs, carrying their
        line items when ``with_line_items``."""
        extra = {INCLUDE_LINE_ITEMS: "Y"} if with_line_items else {}
        spans: list[tuple[int, int]] = []
        for invoice_id in sorted(set(invoice_ids)):
            if spans and invoice_id - spans[-1][0] < MAX_ID_SPAN:
                spans[-1] = (spans[-1][0], invoice_id)
            else:
                spans.append((invoice_id, invoice_id))
        chunks = await asyncio.gather(
            *(
                self._records({"cid": "*", "start_tid": str(low), "end_tid": str(high), **extra})
                for low, high in spans
            )
        )
        return pick_by_id(invoice_ids, zip(spans, chunks, strict=True))

    async def get_line_item(self, uid: int) -> ReadyDeskLineItem | None:
        """One line item by uid, with the documented ``get_line_items`` ``id`` variable;
        None if absent. Only a `LineItem` asked for by its own ID needs this: an
        invoice's line items come with the invoice (include_line_items=Y)."""
        document = parse_document(await self._call("get_line_items", {"id": str(uid)}))
        records = expect_records(document, "line_items")
        items = [parse_line_item(r.fields, self.zone) for r in records]
        return next((item for item in items if item.id == uid), None)
