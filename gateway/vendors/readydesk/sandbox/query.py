"""Reading ReadyDesk's request variables and selecting records with them.

The product builds SQL from these variables; the sandbox reproduces what that
SQL would return (case-insensitive comparisons as with SQL Server's default
collation, NULLs first in ascending order) without building any query text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .store import Invoice, LineItem, Store

Params = Mapping[str, str]


class QueryError(Exception):
    """A request the product would refuse; the message goes into the error wrapper."""


def _echo(text: str) -> str:
    # Error messages quote the offending input the way SQL Server does, but only
    # its printable part, so the wrapper stays well-formed in every format.
    printable = "".join(ch for ch in text if ch.isprintable())
    return printable[:60]


def flag(params: Params, name: str) -> bool:
    value = params.get(name, "N").strip().upper()
    if value not in ("Y", "N"):
        raise QueryError(f"Invalid {name}: expected Y or N")
    return value == "Y"


def integer(params: Params, name: str, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) < minimum:
        raise QueryError(f"Invalid {name}: '{_echo(raw)}'")
    return int(text)


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.casefold().split("*")))


def text_matcher(pattern: str) -> Callable[[str], bool]:
    """Exact or `*`-wildcard match on a customer ID, ignoring case."""
    compiled = _wildcard(pattern)
    return lambda value: compiled.fullmatch(value.casefold()) is not None


def id_matcher(raw: str, name: str) -> Callable[[int | None], bool]:
    """An ID, a `*` pattern, or a `,`/`|` list of either ([guess]: the list form).

    A trailing separator is allowed so an invoice's ``jobs`` value (``1|2|``)
    can be passed back as it came.
    """
    terms = [term.strip() for term in re.split(r"[,|]", raw) if term.strip()]
    if not terms:
        raise QueryError(f"Invalid {name}: '{_echo(raw)}'")
    exact: set[int] = set()
    patterns: list[re.Pattern[str]] = []
    for term in terms:
        if "*" in term and all(part.isdigit() for part in term.split("*") if part):
            patterns.append(_wildcard(term))
        elif term.isascii() and term.isdigit():
            exact.add(int(term))
        else:
            raise QueryError(f"Invalid {name}: '{_echo(raw)}'")

    def matches(value: int | None) -> bool:
        # As with SQL's LIKE, a missing value matches nothing, not even "*".
        if value is None:
            return False
        return value in exact or any(p.fullmatch(str(value)) for p in patterns)

    return matches


_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


def local_datetime(params: Params, name: str, zone: ZoneInfo) -> datetime | None:
    """A date/time variable as the server's DateTime.Parse reads it: local time."""
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    try:
        match = _US_DATE.fullmatch(text)
        if match:
            month, day, year, hour, minute, second, half = match.groups()
            hours = int(hour or 0)
            if half:
                if not 1 <= hours <= 12:
                    raise ValueError(text)
                hours = hours % 12 + (12 if half.upper() == "PM" else 0)
            naive = datetime(
                int(year), int(month), int(day), hours, int(minute or 0), int(second or 0)
            )
            return naive.replace(tzinfo=zone)
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                return parsed.astimezone(zone)
            return parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    raise QueryError(f"Invalid {name}: '{_echo(raw)}'")


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
        raise QueryError(f"Invalid order_direction: '{_echo(direction)}'")
    if "," in clause:
        raise QueryError("Incorrect syntax near ','.")
    tokens = clause.split()
    if not tokens:
        raise QueryError("Invalid order: ''")
    match = _IDENTIFIER.fullmatch(tokens[0])
    if match is None:
        raise QueryError(f"Incorrect syntax near '{_echo(tokens[0])}'.")
    name = match.group(1) or match.group(2)
    column = _BY_LOWER.get(name.lower())
    if column is None:
        raise QueryError(f"Invalid column name '{_echo(name)}'.")
    if len(tokens) > 2 or (len(tokens) == 2 and tokens[1].upper() not in _DIRECTIONS):
        raise QueryError(f"Incorrect syntax near '{_echo(tokens[-1])}'.")
    if len(tokens) == 2 and direction is not None:
        # The product appends order_direction to order: "ID DESC ASC".
        raise QueryError(f"Incorrect syntax near '{_echo(direction.strip())}'.")
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
    start_date = local_datetime(params, "start_date", store.zone)
    end_date = local_datetime(params, "end_date", store.zone)
    date_type = params.get("date_type", "I").strip().upper()
    if date_type not in _DATE_FIELDS:
        raise QueryError(f"Invalid date_type: '{_echo(params['date_type'])}'")
    term = order_term(params)
    wildcard = "*" in (cid or "") or "*" in (invoice_id or "")
    if page is not None and not (wildcard and count is not None):
        raise QueryError("page requires a wildcard cid or id and count")

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
    date_of = _DATE_FIELDS[date_type]
    if start_date is not None:
        checks.append(lambda inv: date_of(inv, store.zone) >= start_date)
    if end_date is not None:
        checks.append(lambda inv: date_of(inv, store.zone) <= end_date)

    seed = (count or 0) * 100_003 + (page or 0)
    matched = _sorted([inv for inv in store.invoices if all(c(inv) for c in checks)], term, seed)
    total = len(matched)
    offset = (page - 1) * count if page is not None and count is not None else 0
    if count is not None:
        matched = matched[offset : offset + count]
    return InvoiceSelection(matched, total, count_only, include_line_items)


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
