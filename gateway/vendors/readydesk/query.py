"""How an invoice query becomes ReadyDesk's `get_invoices` variables.

``order`` is raw SQL column text on the server, so it is built only here, from
a fixed table of column names chosen by an enum: no caller text can reach it.
Only the documented form is sent: one column, its direction in
``order_direction``.
``start_tid``/``end_tid`` bound the invoice ID despite their name [doc].
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from gateway.core.types import SortDirection

from .models import InvoiceStatus

# Rows per `page` the window planner may ask for before it splits a window in two.
MAX_CHUNK = 500


class DateField(enum.Enum):
    """Which invoice date a date range applies to (`date_type`)."""

    INVOICE = "I"
    FROM = "F"
    TO = "T"


class InvoiceSortField(enum.Enum):
    ID = "id"
    CUSTOMER_ID = "customer_id"
    TICKET_ID = "ticket_id"
    COMPANY_NAME = "company_name"
    INVOICE_DATE = "invoice_date"
    FROM_DATE = "from_date"
    TO_DATE = "to_date"
    SUB_TOTAL = "sub_total"
    TOTAL = "total"
    BILLING_TYPE = "billing_type"
    STATUS = "status"


# The only text that ever reaches `order`. The doc shows one column with an
# optional direction (`order=ID DESC`, or `order=ID&order_direction=DESC`) and
# names just one column, ID; the others are the doc's output field names, the
# only other documented names. [guess: that the table's columns carry them]
ORDER_COLUMNS: Mapping[InvoiceSortField, str] = {
    InvoiceSortField.ID: "ID",
    InvoiceSortField.CUSTOMER_ID: "customer_id",
    InvoiceSortField.TICKET_ID: "ticket_id",
    InvoiceSortField.COMPANY_NAME: "company_name",
    InvoiceSortField.INVOICE_DATE: "invoice_date",
    InvoiceSortField.FROM_DATE: "from_date",
    InvoiceSortField.TO_DATE: "to_date",
    InvoiceSortField.SUB_TOTAL: "sub_total",
    InvoiceSortField.TOTAL: "total",
    InvoiceSortField.BILLING_TYPE: "billing_type",
    InvoiceSortField.STATUS: "status",
}
# Columns whose values are unique, so the server's order alone is stable.
UNIQUE_COLUMNS = frozenset({InvoiceSortField.ID})


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """Filters and order of an invoice list; every bound is inclusive."""

    customer_id: str | None = None
    customer_id_from: str | None = None
    customer_id_to: str | None = None
    invoice_id_from: int | None = None
    invoice_id_to: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    date_field: DateField = DateField.INVOICE
    status: InvoiceStatus | None = None
    sort: InvoiceSortField = InvoiceSortField.ID
    direction: SortDirection = SortDirection.ASC


def literal_customer_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an exact customer ID, or None if it can."""
    if not value.strip():
        return "must not be blank"
    if "*" in value:
        return "must not contain '*' (ReadyDesk reads it as a wildcard)"
    if not value.isprintable():
        return "must not contain control characters"
    return None


def customer_range_is_empty(low: str, high: str) -> bool:
    """True when no customer ID can satisfy start_cid=low and end_cid=high.

    ReadyDesk keeps IDs ``>= low`` whose first ``len(high)`` characters are
    ``<= high`` (end_cid is a prefix), ignoring case; the smallest candidate is
    ``low`` itself, so the range is empty exactly when low's prefix is past high.
    """
    return low.casefold()[: len(high)] > high.casefold()


def plan_pages(offset: int, need: int) -> tuple[int, list[int]]:
    """A ``count`` and the ``page`` numbers whose rows cover ``[offset, offset+need)``.

    The smallest page size up to MAX_CHUNK that holds the window in one page
    costs one call; a window that no such page holds takes two pages of ``need``.
    """
    last = offset + need - 1
    for per_page in range(need, max(MAX_CHUNK, need) + 1):
        if offset // per_page == last // per_page:
            return per_page, [offset // per_page + 1]
    first = offset // need + 1
    return need, [first, first + 1]


def _us_date(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def wire_filters(query: InvoiceQuery) -> dict[str, str]:
    params = {"cid": query.customer_id if query.customer_id is not None else "*"}
    optional = {
        "start_cid": query.customer_id_from,
        "end_cid": query.customer_id_to,
        "start_tid": None if query.invoice_id_from is None else str(query.invoice_id_from),
        "end_tid": None if query.invoice_id_to is None else str(query.invoice_id_to),
        "start_date": None if query.date_from is None else _us_date(query.date_from),
        # A bare end date means its midnight (SQL's reading), so the last second
        # of the day is sent to keep the whole day, as a client expects.
        "end_date": None if query.date_to is None else f"{_us_date(query.date_to)} 11:59:59 PM",
    }
    params.update({name: value for name, value in optional.items() if value is not None})
    if query.date_from is not None or query.date_to is not None:
        params["date_type"] = query.date_field.value
    return params


def order_params(query: InvoiceQuery) -> dict[str, str]:
    """One column and a direction, the only form the doc shows.

    SQL leaves rows with equal values in no particular order, so for any column
    but ID the adapter breaks ties itself (``_ordering``), never the server.
    """
    direction = "DESC" if query.direction is SortDirection.DESC else "ASC"
    return {"order": ORDER_COLUMNS[query.sort], "order_direction": direction}
