"""ReadyDesk invoices in the graph: `invoice(id:)` and the filtered, sorted `invoices` list.

Input is checked here, before any upstream call. Sorting is an enum that the
adapter maps to fixed column names, so no client text can reach ReadyDesk's
raw `order` parameter.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.api.context import Context
from gateway.api.inputs import day_within
from gateway.api.ordering import ORDER_BY, SORT_DEPRECATION, Direction, SortKey, sort_keys
from gateway.api.relay import FIRST, SortOrder, offset_window, read_window, window
from gateway.core.errors import BadUserInput, NotFound, UpstreamBadResponse
from gateway.core.ids import expect_id
from gateway.core.records import BadRecord, good
from gateway.core.types import SortDirection

from .. import models
from .. import query as queries
from ..loaders import KEY
from ..query import customer_range_is_empty, literal_customer_id_problem
from ..rows import InvoicePage
from ..vendor import READYDESK
from .connection import InvoiceConnection, start_count
from .cursor import decode_scan_cursor
from .types import (
    INVOICE,
    Invoice,
    InvoiceStatus,
    numeric_key,
)


@strawberry.enum(description="Which of an invoice's dates `dateFrom`/`dateTo` apply to.")
class InvoiceDateField(enum.Enum):
    INVOICE = "INVOICE"
    FROM = "FROM"
    TO = "TO"


@strawberry.enum
class InvoiceSortField(enum.Enum):
    ID = "ID"
    CUSTOMER_ID = "CUSTOMER_ID"
    TICKET_ID = "TICKET_ID"
    COMPANY_NAME = "COMPANY_NAME"
    INVOICE_DATE = "INVOICE_DATE"
    FROM_DATE = "FROM_DATE"
    TO_DATE = "TO_DATE"
    SUB_TOTAL = "SUB_TOTAL"
    TOTAL = "TOTAL"
    BILLING_TYPE = "BILLING_TYPE"
    STATUS = "STATUS"


@strawberry.input(description="Filters for ReadyDesk invoices; every bound is inclusive.")
class InvoiceFilter:
    customer_id: str | None = strawberry.field(
        default=None, description="Exactly this customer ID (ReadyDesk ignores case)."
    )
    customer_id_from: str | None = strawberry.field(
        default=None, description="Customer IDs from this one on, alphabetically, ignoring case."
    )
    customer_id_to: str | None = strawberry.field(
        default=None,
        description="Customer IDs up to and including those starting with this text "
        "(`j` keeps `jones, bob`).",
    )
    invoice_id_from: int | None = None
    invoice_id_to: int | None = None
    date_from: date | None = strawberry.field(
        default=None, description="From this day on, in the help desk's time zone."
    )
    date_to: date | None = strawberry.field(
        default=None, description="Up to and including this day, in the help desk's time zone."
    )
    date_field: InvoiceDateField = strawberry.field(
        default=InvoiceDateField.INVOICE, description="The date that `dateFrom`/`dateTo` filter."
    )
    status: InvoiceStatus | None = strawberry.field(
        default=None,
        description="ReadyDesk cannot filter by status, so the gateway does: it reads "
        "the matching invoices page by page only until this page is full (all of them "
        "when `totalCount` is selected); in ID order a later page reads on from where "
        "the one before it stopped.",
    )


@strawberry.input(description="Deprecated: the shape of `orderBy`'s `InvoiceOrder` replaces it.")
class InvoiceSort:
    field: InvoiceSortField
    order: SortOrder = SortOrder.ASC


@strawberry.input(description="A sort key; ReadyDesk sorts by one column at a time.")
class InvoiceOrder:
    field: InvoiceSortField
    direction: Direction = Direction.ASC


_FORWARD_ONLY = "A status filter in ID order is walked forward only: page it with `first`/`after`."


def _customer_id(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    problem = literal_customer_id_problem(value)
    if problem:
        raise BadUserInput(f"`{field}` {problem}.", field=field)
    return value


def _invoice_id(value: int | None, field: str) -> int | None:
    if value is not None and value < 0:
        raise BadUserInput(f"`{field}` must not be negative.", field=field)
    return value


def invoice_query(criteria: InvoiceFilter, keys: list[SortKey]) -> queries.InvoiceQuery:
    """The adapter's query for validated client input, or BAD_USER_INPUT."""
    customer_from = _customer_id(criteria.customer_id_from, "filter.customerIdFrom")
    customer_to = _customer_id(criteria.customer_id_to, "filter.customerIdTo")
    if customer_from and customer_to and customer_range_is_empty(customer_from, customer_to):
        raise BadUserInput(
            "`customerIdFrom` comes after `customerIdTo`.", field="filter.customerIdFrom"
        )
    id_from = _invoice_id(criteria.invoice_id_from, "filter.invoiceIdFrom")
    id_to = _invoice_id(criteria.invoice_id_to, "filter.invoiceIdTo")
    if id_from is not None and id_to is not None and id_from > id_to:
        raise BadUserInput(
            "`invoiceIdFrom` is greater than `invoiceIdTo`.", field="filter.invoiceIdFrom"
        )
    date_from = day_within(criteria.date_from, "filter.dateFrom", models.EARLIEST_DAY, date.max)
    date_to = day_within(criteria.date_to, "filter.dateTo", models.EARLIEST_DAY, date.max)
    if date_from and date_to and date_from > date_to:
        raise BadUserInput("`dateFrom` is after `dateTo`.", field="filter.dateFrom")
    (field, descending), *_ = keys or [(InvoiceSortField.ID.name, False)]
    return queries.InvoiceQuery(
        customer_id=_customer_id(criteria.customer_id, "filter.customerId"),
        customer_id_from=customer_from,
        customer_id_to=customer_to,
        invoice_id_from=id_from,
        invoice_id_to=id_to,
        date_from=date_from,
        date_to=date_to,
        date_field=queries.DateField[criteria.date_field.name],
        status=models.InvoiceStatus[criteria.status.name] if criteria.status else None,
        sort=queries.InvoiceSortField[field],
        direction=SortDirection.DESC if descending else SortDirection.ASC,
    )


def _included(directives: dict[str, dict[str, object]]) -> bool:
    if "skip" in directives and directives["skip"].get("if") is True:
        return False
    return not ("include" in directives and directives["include"].get("if") is False)


def selected_below(selections: Iterable[Selection], name: str) -> list[SelectedField]:
    """The fields named ``name`` in ``selections``, through fragments, honouring @skip/@include."""
    found: list[SelectedField] = []
    for selection in selections:
        if not _included(selection.directives):
            continue
        if isinstance(selection, SelectedField) and selection.name == name:
            found.append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            found.extend(selected_below(selection.selections, name))
    return found


def selects_path(selections: Iterable[Selection], *path: str) -> bool:
    """Whether the nested field ``path`` (e.g. nodes, lineItems) is selected."""
    head, *rest = path
    fields = selected_below(selections, head)
    if not rest:
        return bool(fields)
    return any(selects_path(field.selections, *rest) for field in fields)


def _selected_here(info: Info[Context, None], *path: str) -> bool:
    return any(
        selects_path(field.selections, *path)
        for field in info.selected_fields
        if isinstance(field, SelectedField)
    )


def _prime(context: Context, invoices: list[models.ReadyDeskInvoice | BadRecord]) -> None:
    loaders = context.loaders
    for invoice in good(invoices):
        loaders.of(KEY).invoice.prime(invoice.id, invoice)
        if invoice.line_items is not None:
            loaders.of(KEY).invoice_with_line_items.prime(invoice.id, invoice)


def _report_unplaced(info: Info[Context, None], errors: Iterable[UpstreamBadResponse]) -> None:
    # A row with no readable status or sort value has no place in a page the gateway
    # filtered or ordered: it is reported at the list's path, as workItems does.
    for error in errors:
        info.context.report(error, info.path.as_list())


@strawberry.type
class ReadyDeskQuery:
    @strawberry.field(description="One ReadyDesk invoice; null with a NOT_FOUND error if absent.")
    async def invoice(self, info: Info[Context, None], id: strawberry.ID) -> Invoice | None:
        key = numeric_key(expect_id(id, READYDESK, INVOICE))
        loaders = info.context.loaders
        # Line items come in the same by-ID call when selected (include_line_items=Y).
        with_line_items = _selected_here(info, "lineItems")
        loader = (
            loaders.of(KEY).invoice_with_line_items if with_line_items else loaders.of(KEY).invoice
        )
        invoice = await loader.load(key)
        if invoice is None:
            raise NotFound(f"No Invoice with id {id!r}.", vendor=READYDESK)
        return Invoice.from_model(invoice)

    @strawberry.field(
        description="ReadyDesk invoices, filtered and sorted by ReadyDesk (status by the "
        "gateway). `totalCount` costs one more upstream call, made only when selected; "
        "so does `last` without `before`, which counts back from the total."
    )
    async def invoices(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: str | None = None,
        filter: InvoiceFilter | None = None,
        sort: Annotated[
            InvoiceSort | None, strawberry.argument(deprecation_reason=SORT_DEPRECATION)
        ] = None,
        order_by: Annotated[
            list[InvoiceOrder] | None,
            strawberry.argument(
                description=ORDER_BY + " At most one: ReadyDesk sorts by one column."
            ),
        ] = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="The last items (before `before`, else of the whole list). "
                "Not with a status filter in ID order, which is walked forward only."
            ),
        ] = None,
        before: str | None = None,
    ) -> InvoiceConnection | None:
        legacy = [(sort.field.name, sort.order is SortOrder.DESC)] if sort else None
        keys = sort_keys(order_by, legacy, one_key=True, vendor=READYDESK.label)
        query = invoice_query(filter or InvoiceFilter(), keys)
        wants_total = _selected_here(info, "totalCount")
        # Line items come in the page's own calls (include_line_items=Y), asked for
        # only when selected. So a failure of those calls is the page's failure.
        with_line_items = _selected_here(info, "nodes", "lineItems") or _selected_here(
            info, "edges", "node", "lineItems"
        )
        context = info.context
        adapter = context.adapters.of(KEY)
        if adapter.scans_by_position(query):
            # A status filter: the cursor is a place in ReadyDesk's pages, so a later
            # page reads on from there instead of from the start.
            if last is not None or before is not None:
                raise BadUserInput(_FORWARD_ONLY, field="last" if last is not None else "before")
            scan = await adapter.scan_by_status(
                query,
                after=decode_scan_cursor(after, query) if after else None,
                limit=window(first, None)[1],
                with_total=wants_total,
                with_line_items=with_line_items,
            )
            _prime(context, [scanned.invoice for scanned in scan.items])
            _report_unplaced(info, scan.unplaced)
            return InvoiceConnection.from_scan(scan, query, resumed=after is not None)
        paging = offset_window(first, after, last, before)
        # With a status filter the total needs every match read (no count can filter
        # by status), and that read serves the page too; otherwise the count is a call
        # of its own, started now so it overlaps the page fetch.
        counting = (
            start_count(adapter.count_invoices(query))
            if wants_total and query.status is None
            else None
        )

        async def fetch(offset: int, limit: int) -> InvoicePage:
            return await adapter.list_invoices(
                query,
                offset=offset,
                limit=limit,
                with_total=wants_total,
                with_line_items=with_line_items,
            )

        async def count() -> int:
            # `last` without `before` counts back from the total: the count `totalCount`
            # started, if it did; else what `totalCount` would cost.
            if counting is not None:
                return await counting
            if query.status is None:
                return await adapter.count_invoices(query)
            total = (await adapter.list_invoices(query, offset=0, limit=1, with_total=True)).total
            return total or 0

        empty = InvoicePage([], paging.offset, not paging.from_end)
        try:
            page = await read_window(paging, fetch, count, empty)
        except BaseException:
            if counting is not None:
                counting.cancel()
            raise
        _prime(context, page.items)
        _report_unplaced(info, page.unplaced)
        return InvoiceConnection.from_page(page, counting)
