"""Selecting records with ReadyDesk's request variables (read in ``variables``).

The product builds SQL from these variables; the sandbox reproduces what that
SQL would return (case-insensitive comparisons as with SQL Server's default
collation, NULLs first in ascending order) without building any query text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .store import Invoice, LineItem, Store
from .variables import (
    Params,
    QueryError,
    echo,
    flag,
    id_matcher,
    integer,
    local_datetime,
    text_matcher,
)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


# What `order` accepts, each with the value SQL Server would sort on: the one
# column the doc names (ID) and the doc's output field names, the only other
# documented names. [guess: that the table's columns carry those names]
_COLUMNS: dict[str, Callable[[Invoice], Any]] = {
    "ID": lambda inv: inv.invoice_id,
    "invoice_id": lambda inv: inv.invoice_id,
    "customer_id": lambda inv: inv.customer_id.casefold(),
    "ticket_id": lambda inv: inv.ticket_id,
    "company_id": lambda inv: inv.company_id,
    "company_name": lambda inv: inv.company_name.casefold(),
    "invoice_date": lambda inv: inv.invoice_date,
    "from_date": lambda inv: inv.from_date,
    "to_date": lambda inv: inv.to_date,
    "sub_total": lambda inv: inv.sub_total,
    "tax": lambda inv: inv.tax,
    "total": lambda inv: inv.total,
    "billing_type": lambda inv: inv.billing_type,
    "status": lambda inv: inv.status,
    "jobs": lambda inv: "".join(f"{uid}|" for uid in inv.jobs),
}
ORDER_COLUMNS = tuple(_COLUMNS)
_BY_LOWER = {name.lower(): name for name in _COLUMNS}
_IDENTIFIER = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]|([A-Za-z_][A-Za-z0-9_]*)")
_DIRECTIONS = ("ASC", "DESC")


def order_term(params: Params) -> tuple[str, bool]:
    """Parse `order` (+ `order_direction`) into one (column, descending) pair.

    The doc shows one column with an optional " ASC"/" DESC", or the direction
    in order_direction, and nothing else, so a list (``a,b``), an unknown column
    or both directions at once is refused with the SQL-style error the product's
    query would raise.
    """
    clause = params.get("order", "ID")
    direction = params.get("order_direction")
    if direction is not None and direction.strip().upper() not in _DIRECTIONS:
        raise QueryError(f"Invalid order_direction: '{echo(direction)}'")
    if "," in clause:
        raise QueryError("Incorrect syntax near ','.")
    tokens = clause.split()
    if not tokens:
        raise QueryError("Invalid order: ''")
    match = _IDENTIFIER.fullmatch(tokens[0])
    if match is None:
        raise QueryError(f"Incorrect syntax near '{echo(tokens[0])}'.")
    name = match.group(1) or match.group(2)
    column = _BY_LOWER.get(name.lower())
    if column is None:
        raise QueryError(f"Invalid column name '{echo(name)}'.")
    if len(tokens) > 2 or (len(tokens) == 2 and tokens[1].upper() not in _DIRECTIONS):
        raise QueryError(f"Incorrect syntax near '{echo(tokens[-1])}'.")
    if len(tokens) == 2 and direction is not None:
        # The product appends order_direction to order: "ID DESC ASC".
        raise QueryError(f"Incorrect syntax near '{echo(direction.strip())}'.")
    written = tokens[1] if len(tokens) == 2 else direction
    return column, (written or "ASC").strip().upper() == "DESC"


def _sorted(invoices: list[Invoice], term: tuple[str, bool], seed: int) -> list[Invoice]:
    """ORDER BY one column, as SQL Server does it: rows with equal values come
    in no promised order. The sandbox makes that visible by ordering ties by a
    hash of the request's count and page, so a client that pages on a column
    with repeated values, trusting the ties to stay put, skips or repeats rows."""
    column, descending = term
    value_of = _COLUMNS[column]

    def tie_order(inv: Invoice) -> int:
        return hash((inv.invoice_id, seed)) & 0xFFFF

    def key(inv: Invoice) -> tuple[bool, Any]:
        value = value_of(inv)
        return (value is not None, value)

    # Sorting by the hash first and then (stably) by the column keeps ties in hash order.
    return sorted(sorted(invoices, key=tie_order), key=key, reverse=descending)


@dataclass(slots=True)
class InvoiceSelection:
    invoices: list[Invoice]
    total: int
    count_only: bool
    include_line_items: bool


_DATE_FIELDS: dict[str, Callable[[Invoice, ZoneInfo], datetime]] = {
    "I": lambda inv, zone: inv.invoice_date,
    "F": lambda inv, zone: _midnight(inv.from_date, zone),
    "T": lambda inv, zone: _midnight(inv.to_date, zone),
}


def select_invoices(store: Store, params: Params) -> InvoiceSelection:
    cid, invoice_id = params.get("cid"), params.get("id")
    if cid is None and invoice_id is None:
        raise QueryError("cid is required")
    include_line_items = flag(params, "include_line_items")
    count_only = flag(params, "count_only")
    count, page = integer(params, "count", 1), integer(params, "page", 1)
    start_tid, end_tid = integer(params, "start_tid", 0), integer(params, "end_tid", 0)
    date_checks = _date_checks(params, store.zone)
    term = order_term(params)
    wildcard = "*" in (cid or "") or "*" in (invoice_id or "")
    if page is not None and not (wildcard and count is not None):
        raise QueryError("page requires a wildcard cid or id and count")
    checks = [*_id_checks(params, cid, invoice_id, start_tid, end_tid), *date_checks]
    seed = (count or 0) * 100_003 + (page or 0)
    matched = _sorted([inv for inv in store.invoices if all(c(inv) for c in checks)], term, seed)
    return InvoiceSelection(
        _page(matched, count, page), len(matched), count_only, include_line_items
    )


def _id_checks(
    params: Params,
    cid: str | None,
    invoice_id: str | None,
    start_tid: int | None,
    end_tid: int | None,
) -> list[Callable[[Invoice], bool]]:
    """What the customer and invoice ID variables ask of an invoice."""
    checks: list[Callable[[Invoice], bool]] = []
    if cid is not None:
        cid_matches = text_matcher(cid)
        checks.append(lambda inv: cid_matches(inv.customer_id))
    if invoice_id is not None:
        id_matches = id_matcher(invoice_id, "id")
        checks.append(lambda inv: id_matches(inv.invoice_id))
    if start_tid is not None:
        checks.append(lambda inv: inv.invoice_id >= start_tid)
    if end_tid is not None:
        checks.append(lambda inv: inv.invoice_id <= end_tid)
    if (start_cid := params.get("start_cid")) is not None:
        low = start_cid.casefold()
        checks.append(lambda inv: inv.customer_id.casefold() >= low)
    if (end_cid := params.get("end_cid")) is not None:
        # "Stop at customer IDs that start with this value": the prefix is inclusive.
        high = end_cid.casefold()
        checks.append(lambda inv: inv.customer_id.casefold()[: len(high)] <= high)
    return checks


def _date_checks(params: Params, zone: ZoneInfo) -> list[Callable[[Invoice], bool]]:
    """What the date variables ask of an invoice, on the date `date_type` names."""
    start_date = local_datetime(params, "start_date", zone)
    end_date = local_datetime(params, "end_date", zone)
    date_type = params.get("date_type", "I").strip().upper()
    if date_type not in _DATE_FIELDS:
        raise QueryError(f"Invalid date_type: '{echo(params['date_type'])}'")
    date_of = _DATE_FIELDS[date_type]
    checks: list[Callable[[Invoice], bool]] = []
    if start_date is not None:
        checks.append(lambda inv: date_of(inv, zone) >= start_date)
    if end_date is not None:
        checks.append(lambda inv: date_of(inv, zone) <= end_date)
    return checks


def _page(matched: list[Invoice], count: int | None, page: int | None) -> list[Invoice]:
    """The `count` invoices of `page` (the first page without one), or all of them."""
    if count is None:
        return matched
    offset = (page - 1) * count if page is not None else 0
    return matched[offset : offset + count]


def select_line_items(store: Store, params: Params) -> list[LineItem]:
    tid, uid, cid = params.get("tid"), params.get("id"), params.get("cid")
    if tid is None and uid is None and cid is None:
        raise QueryError("tid, id or cid is required")
    checks: list[Callable[[LineItem], bool]] = []
    if tid is not None:
        tid_matches = id_matcher(tid, "tid")
        checks.append(lambda item: tid_matches(item.tid))
    if uid is not None:
        uid_matches = id_matcher(uid, "id")
        checks.append(lambda item: uid_matches(item.uid))
    if cid is not None:
        cid_matches = text_matcher(cid)
        checks.append(lambda item: cid_matches(item.cid))
    return sorted(
        (item for item in store.line_items if all(c(item) for c in checks)),
        key=lambda item: item.uid,
    )
