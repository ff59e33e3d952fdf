"""ReadyDesk invoices and line items as typed values, and how wire records become them.

Every wire value is a string. customer_id and company_name are percent-encoded
in every format [doc], as are a line item's cid, title, category, notes and
technician [guess]; the encoder is ASP.NET's (space as ``+``) [guess], so
``unquote_plus`` decodes them. Dates are US-style wall times of the server (``3/31/2014 6:30:55
PM``, ``3/1/2014``) and become aware datetimes in ``READYDESK_TIMEZONE``.
Amounts become ``Decimal`` straight from their text, never through a float.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo

from gateway.core.errors import UpstreamBadResponse

from .vendor import READYDESK
from .wire import Fields

E = TypeVar("E", bound=enum.Enum)

# ReadyDesk is an ASP.NET product on SQL Server [doc]; its dates are held as SQL
# Server `datetime` [guess], which starts at 1753-01-01, so an earlier filter bound
# would be refused by the server instead of matching nothing.
EARLIEST_DAY = date(1753, 1, 1)


class InvoiceStatus(enum.Enum):
    PENDING = "PENDING"
    PAID = "PAID"


class BillingType(enum.Enum):
    FIXED_PER_TICKET = "FT"
    FIXED_PER_JOB = "FJ"
    VARIABLE_PER_JOB = "V"


class TimeUnit(enum.Enum):
    MINUTES = "Minutes"
    HOURS = "Hours"
    DAYS = "Days"


@dataclass(frozen=True, slots=True)
class ReadyDeskInvoice:
    id: int
    customer_id: str
    ticket_id: int | None
    company_id: int | None
    company_name: str | None
    invoice_date: datetime
    from_date: date
    to_date: date
    sub_total: Decimal
    tax_percent: Decimal
    total: Decimal
    billing_type: BillingType
    status: InvoiceStatus
    # The line items' uids, in the order ReadyDesk lists them.
    jobs: tuple[int, ...]
    # The line items the row itself carried (include_line_items=Y); None when not asked.
    line_items: IncludedLineItems | None = None


@dataclass(frozen=True, slots=True)
class ReadyDeskLineItem:
    id: int
    ticket_id: int
    customer_id: str
    cost: Decimal
    date: datetime
    title: str
    category: str
    duration: Decimal
    time_unit: TimeUnit
    notes: str
    # Only in the write-name family (see parse_line_item); None when not sent.
    technician_id: str | None = None


@dataclass(frozen=True, slots=True)
class IncludedLineItems:
    """An invoice's line-item sub-section, read along with the invoice.

    A sub-section that cannot be read spoils only its own invoice's line items,
    not the page it came in: ``problem`` says why, and ``unwrap`` raises it.
    """

    items: tuple[ReadyDeskLineItem, ...]
    problem: str | None = None

    def unwrap(self) -> tuple[ReadyDeskLineItem, ...]:
        if self.problem is not None:
            raise UpstreamBadResponse(READYDESK, self.problem)
        return self.items


class _Malformed(ValueError):
    pass


def decode(text: str) -> str:
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise _Malformed("not percent-encoded UTF-8") from exc


def _integer(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise _Malformed("not an integer")
    return int(value)


def _optional_integer(text: str) -> int | None:
    return _integer(text) if text.strip() else None


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise _Malformed("not a number") from exc
    if not value.is_finite():
        raise _Malformed("not a finite number")
    return value


_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?"
)


def _wall_time(text: str) -> tuple[date, tuple[int, int, int] | None]:
    match = _US_DATE.fullmatch(text.strip())
    if match is None:
        raise _Malformed("not a US date")
    month, day, year, hour, minute, second, half = match.groups()
    calendar_day = date(int(year), int(month), int(day))
    if hour is None:
        return calendar_day, None
    hours = int(hour)
    if half is not None:
        if not 1 <= hours <= 12:
            raise _Malformed("not a 12-hour time")
        hours = hours % 12 + (12 if half.upper() == "P" else 0)
    return calendar_day, (hours, int(minute), int(second or 0))


def parse_datetime(text: str, zone: ZoneInfo) -> datetime:
    """A server wall time as an aware datetime; a bare date is local midnight."""
    day, clock = _wall_time(text)
    hour, minute, second = clock or (0, 0, 0)
    # An ambiguous wall time (the hour repeated when DST ends) takes its first
    # occurrence (fold=0): the wire carries no offset to tell them apart.
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)


def parse_date(text: str) -> date:
    day, _ = _wall_time(text)
    return day


def _jobs(text: str) -> tuple[int, ...]:
    # The docs call it comma delimited, their example and the product use "|"
    # with a trailing separator ("1|2|"); both are read.
    return tuple(_integer(part) for part in re.split(r"[|,]", text) if part.strip())


def _enum_value(kind: type[E], text: str) -> E:
    wanted = text.strip().casefold()
    for member in kind:
        if str(member.value).casefold() == wanted:
            return member
    raise _Malformed(f"not a known {kind.__name__}")


def parse_invoice(fields: Fields, zone: ZoneInfo) -> ReadyDeskInvoice:
    try:
        return ReadyDeskInvoice(
            id=_integer(fields["invoice_id"]),
            customer_id=decode(fields["customer_id"]),
            ticket_id=_optional_integer(fields.get("ticket_id", "")),
            company_id=_optional_integer(fields.get("company_id", "")),
            company_name=decode(fields.get("company_name", "")) or None,
            invoice_date=parse_datetime(fields["invoice_date"], zone),
            from_date=parse_date(fields["from_date"]),
            to_date=parse_date(fields["to_date"]),
            sub_total=_amount(fields["sub_total"]),
            tax_percent=_amount(fields["tax"]),
            total=_amount(fields["total"]),
            billing_type=_enum_value(BillingType, fields["billing_type"]),
            status=_enum_value(InvoiceStatus, fields["status"]),
            jobs=_jobs(fields.get("jobs", "")),
        )
    except (KeyError, ValueError) as exc:
        raise UpstreamBadResponse(READYDESK, "an invoice had an unexpected shape") from exc


# [guess] How a listed line item names its fields is undocumented, and servers may
# use either of two families, so each item is read by the keys it carries:
# - listing: `uid` is the line item's own ID (what the gateway has always read);
# - write: the names add_line_item/update_line_item take [doc], where `uid` is
#   the technician and the line item's own ID is `id` (get_line_items' filter name).
# Every other name (tid, cid, cost, date, title, category, duration, time_unit,
# notes) is the same in both, so only the ID and the technician depend on it.
WRITE_FAMILY_ID = "id"


def parse_line_item(fields: Fields, zone: ZoneInfo) -> ReadyDeskLineItem:
    try:
        if WRITE_FAMILY_ID in fields:
            item_id = _integer(fields[WRITE_FAMILY_ID])
            technician: str | None = decode(fields.get("uid", "")) or None
        else:
            item_id, technician = _integer(fields["uid"]), None
        return ReadyDeskLineItem(
            id=item_id,
            ticket_id=_integer(fields["tid"]),
            customer_id=decode(fields.get("cid", "")),
            cost=_amount(fields["cost"]),
            date=parse_datetime(fields["date"], zone),
            title=decode(fields.get("title", "")),
            category=decode(fields.get("category", "")),
            duration=_amount(fields["duration"]),
            time_unit=_enum_value(TimeUnit, fields["time_unit"]),
            notes=decode(fields.get("notes", "")),
            technician_id=technician,
        )
    except (KeyError, ValueError) as exc:
        raise UpstreamBadResponse(READYDESK, "a line item had an unexpected shape") from exc


def read_included(
    invoice: ReadyDeskInvoice, children: list[Fields] | None, zone: ZoneInfo
) -> ReadyDeskInvoice:
    """``invoice`` with the sub-section include_line_items=Y gave it, in the order listed.

    An invoice with no jobs may plausibly come with no sub-section at all; one
    with jobs but none is a broken answer, for that invoice alone.
    """
    if children is None:
        if invoice.jobs:
            included = IncludedLineItems((), "an invoice came without its line items")
        else:
            included = IncludedLineItems(())
        return replace(invoice, line_items=included)
    try:
        items = tuple(parse_line_item(child, zone) for child in children)
    except UpstreamBadResponse:
        return replace(
            invoice, line_items=IncludedLineItems((), "a line item had an unexpected shape")
        )
    return replace(invoice, line_items=IncludedLineItems(items))
