"""ReadyDesk's in-memory database and its deterministic demo data.

Instants (``invoice_date``, a line item's ``date``) are stored as aware UTC
datetimes and only turned into the server's local wall time on the wire, so the
sandbox really converts between zones instead of pretending UTC is local.
``from_date``/``to_date`` are calendar dates in the server's zone, as the
product's invoice dialog shows them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

TIMEZONE = "America/New_York"

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Customer:
    cid: str
    company_id: int | None
    company_name: str
    tax: Decimal
    hourly_rate: Decimal


@dataclass(slots=True)
class LineItem:
    uid: int
    tid: int
    cid: str
    cost: Decimal
    date: datetime
    title: str
    category: str
    duration: Decimal
    time_unit: str
    notes: str
    # The technician who logged the work; written only under the write-name family.
    technician: str = ""


@dataclass(slots=True)
class Invoice:
    invoice_id: int
    customer_id: str
    ticket_id: int | None
    company_id: int | None
    company_name: str
    invoice_date: datetime
    from_date: date
    to_date: date
    sub_total: Decimal
    tax: Decimal
    total: Decimal
    billing_type: str
    status: str
    jobs: list[int]


@dataclass(slots=True)
class Store:
    zone: ZoneInfo
    customers: list[Customer]
    invoices: list[Invoice]
    line_items: list[LineItem]


# Awkward on purpose: every character class an adapter could mangle when it
# decodes the percent-encoded customer_id/company_name fields.
CUSTOMERS = (
    Customer("SY&N 01", 5, "Šťastný & Syn, s.r.o.", Decimal(21), Decimal(65)),
    Customer("ACME-001", 1, "ACME Corp", Decimal("8.875"), Decimal(95)),
    Customer("ACME-002", 1, "ACME Corp", Decimal("8.875"), Decimal(95)),
    Customer("o'brien", 3, 'O\'Brien "Bros" Plumbing, LLC', Decimal(0), Decimal(80)),
    Customer("MÜLLER+PARTNER", 4, "Müller + Partner GmbH", Decimal(19), Decimal(110)),
    Customer("demo", None, "", Decimal(0), Decimal(60)),
    Customer("Zoë 7", 6, "Zoë's Café <Bistro> & Bar", Decimal("8.875"), Decimal(70)),
    Customer("jones, bob", 7, "Bob Jones; Consulting 100%", Decimal("6.25"), Decimal(120)),
    Customer("日本-01", 8, "株式会社テスト", Decimal(10), Decimal(100)),
)

TITLES = (
    "Reset password & unlock account",
    'Replace 24" monitor',
    "Printer jam (3rd floor)",
    "VPN drops every ~5 min",
    "Überprüfung der Firewall",
    "Install Office 365; migrate mail",
    "Backup restore = partial?",
    "New hire setup: laptop + phone",
)
# Technician IDs as ReadyDesk's own (login names) [guess]; one with a space and a
# "+" so a reader that does not decode them shows it.
TECHNICIANS = ("admin", "jsmith", "m.kovar+helpdesk", "Ann Lee")
CATEGORIES = ("Hardware", "Software & Licensing", "Network/Security", "On-site visit")
NOTES = (
    "",
    'Customer says it\'s "urgent".\nCalled back at 3 PM.',
    "Parts: 2 cables, 1 adapter (OK'd by Zoë)",
    "Follow-up needed <see ticket>",
    "Remote session; 100% resolved",
)
# (unit, amount, equivalent hours): Days count as an 8-hour working day.
DURATIONS = (
    ("Minutes", Decimal(45), Decimal("0.75")),
    ("Hours", Decimal(2), Decimal(2)),
    ("Hours", Decimal("1.5"), Decimal("1.5")),
    ("Days", Decimal(1), Decimal(8)),
)
BILLING_TYPES = ("V", "FJ", "FT")
FIXED_PER_JOB = Decimal(75)
FIXED_PER_TICKET = Decimal(250)
BILLED_INVOICES = 29
FIRST_TICKET = 5001


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _period(i: int) -> tuple[date, date]:
    # 29 invoices over the 24 months of 2023-2024; per-ticket (FT) invoices cover
    # the ticket's own span, which can straddle a month end, so filtering on
    # from_date and on to_date give different answers.
    month = i * 24 // BILLED_INVOICES
    first = date(2023 + month // 12, month % 12 + 1, 1)
    if BILLING_TYPES[i % 3] == "FT":
        start = first + timedelta(days=3 + i % 10 * 2)
        return start, start + timedelta(days=5 + i % 9)
    return first, _month_end(first)


def _line_items(
    i: int, customer: Customer, tid: int, start: date, end: date, next_uid: int, zone: ZoneInfo
) -> list[LineItem]:
    items = []
    span = (end - start).days
    for k in range(1 + i % 4):
        unit, amount, hours = DURATIONS[(i + k) % len(DURATIONS)]
        billing = BILLING_TYPES[i % 3]
        if billing == "V":
            cost = (customer.hourly_rate * hours).quantize(CENT)
        elif billing == "FJ":
            cost = FIXED_PER_JOB
        else:
            cost = FIXED_PER_TICKET if k == 0 else Decimal(0)
        local = datetime.combine(
            start + timedelta(days=min(k * 2, span)),
            time(9 + k * 2, (i * 11 + k * 17) % 60),
            zone,
        )
        items.append(
            LineItem(
                uid=next_uid + k,
                tid=tid,
                cid=customer.cid,
                cost=cost,
                date=local.astimezone(UTC),
                title=TITLES[(i * 3 + k) % len(TITLES)],
                category=CATEGORIES[(i + k) % len(CATEGORIES)],
                duration=amount,
                time_unit=unit,
                notes=NOTES[(i + 2 * k) % len(NOTES)],
                technician=TECHNICIANS[(i + k) % len(TECHNICIANS)],
            )
        )
    return items


def _generated_at(i: int, to_date: date) -> datetime:
    # Generated in the evening after the period ends, local time: always the next
    # day in UTC, so a client that ignores the zone gets the day wrong.
    return datetime.combine(to_date + timedelta(days=1), time(i % 4, i * 7 % 60, i * 13 % 60), UTC)


def seed_store() -> Store:
    zone = ZoneInfo(TIMEZONE)
    invoices: list[Invoice] = []
    line_items: list[LineItem] = []
    for i in range(BILLED_INVOICES):
        customer = CUSTOMERS[i * 4 % len(CUSTOMERS)]
        start, end = _period(i)
        tid = FIRST_TICKET + i
        items = _line_items(i, customer, tid, start, end, len(line_items) + 1, zone)
        line_items.extend(items)
        sub_total = sum((item.cost for item in items), Decimal(0))
        month = i * 24 // BILLED_INVOICES
        invoices.append(
            Invoice(
                invoice_id=i + 1,
                customer_id=customer.cid,
                ticket_id=tid,
                company_id=customer.company_id,
                company_name=customer.company_name,
                invoice_date=_generated_at(i, end),
                from_date=start,
                to_date=end,
                sub_total=sub_total,
                tax=customer.tax,
                total=(sub_total * (1 + customer.tax / 100)).quantize(CENT),
                billing_type=BILLING_TYPES[i % 3],
                status="PAID" if month < 20 or i % 3 == 0 else "PENDING",
                jobs=[item.uid for item in items],
            )
        )
    # Like the vendor's own example: an invoice made for a customer with no
    # company and nothing billed yet, so every optional field is empty.
    empty_start, empty_end = date(2024, 12, 1), date(2024, 12, 31)
    invoices.append(
        Invoice(
            invoice_id=BILLED_INVOICES + 1,
            customer_id="demo",
            ticket_id=None,
            company_id=None,
            company_name="",
            invoice_date=_generated_at(BILLED_INVOICES, empty_end),
            from_date=empty_start,
            to_date=empty_end,
            sub_total=Decimal(0),
            tax=Decimal(0),
            total=Decimal(0),
            billing_type="V",
            status="PENDING",
            jobs=[],
        )
    )
    # Work logged on open tickets but not invoiced yet: reachable only through
    # get_line_items, never through an invoice's jobs list.
    for n, customer in enumerate(CUSTOMERS[:3]):
        tid = FIRST_TICKET + BILLED_INVOICES + n
        start = date(2024, 12, 10 + n)
        line_items.extend(_line_items(n, customer, tid, start, start, len(line_items) + 1, zone))
    return Store(zone=zone, customers=list(CUSTOMERS), invoices=invoices, line_items=line_items)
