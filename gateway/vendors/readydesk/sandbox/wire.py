"""How ReadyDesk writes values and documents: the XML, JSON and URL-delimited forms."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import orjson

from .store import Invoice, LineItem

Format = Literal["xml", "json", "url"]
FORMATS: dict[str, Format] = {"xml": "xml", "json": "json", "url": "url"}

XML_DECLARATION = '<?xml version="1.0"?>\n'
# [guess] ASP.NET writes Windows line ends when a page builds text by hand.
URL_RECORD_SEPARATOR = "\r\n"

# HttpUtility.UrlEncode leaves these bytes alone, turns space into "+" and writes
# everything else as lower-case %xx of the UTF-8 bytes. [guess: the product is
# ASP.NET, so this is the encoder it most likely calls]
_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()")


def url_encode(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02x}")
    return "".join(out)


def format_datetime(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return (
        f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02}:{local.second:02} {half}"
    )


def format_date(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def format_number(value: Decimal) -> str:
    # .NET's decimal.ToString() as the vendor example shows it: "0", "4", "8.875".
    return format(value.normalize(), "f")


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


@dataclass(slots=True)
class Record:
    fields: list[tuple[str, str]]
    # None: no sub-section at all; []: the sub-section is present but empty.
    children: list[Record] | None = None


def invoice_record(
    invoice: Invoice,
    zone: ZoneInfo,
    items: list[LineItem] | None,
    names: LineItemNames = "listing",
) -> Record:
    fields = [
        ("invoice_id", str(invoice.invoice_id)),
        ("customer_id", url_encode(invoice.customer_id)),
        ("ticket_id", _optional(invoice.ticket_id)),
        ("company_id", _optional(invoice.company_id)),
        ("company_name", url_encode(invoice.company_name)),
        ("invoice_date", format_datetime(invoice.invoice_date, zone)),
        ("from_date", format_date(invoice.from_date)),
        ("to_date", format_date(invoice.to_date)),
        ("sub_total", format_number(invoice.sub_total)),
        ("tax", format_number(invoice.tax)),
        ("total", format_number(invoice.total)),
        ("billing_type", invoice.billing_type),
        ("status", invoice.status),
        ("jobs", "".join(f"{uid}|" for uid in invoice.jobs)),
    ]
    children = None if items is None else [line_item_record(item, zone, names) for item in items]
    return Record(fields, children)


# Which names a line item's fields go by [guess: the shape of get_line_items'
# answer and of the include_line_items=Y sub-section is undocumented]:
# "listing"  uid is the line item's own ID (this sandbox's default);
# "write"    the names of add_line_item/update_line_item [doc]: uid is the
#            technician, and the line item's own ID is `id`, as get_line_items'
#            filter names it [doc] (its place in an answer is the guess);
# "mixed"    the two in turn, by uid, for a reader that must decide per item.
LineItemNames = Literal["listing", "write", "mixed"]
LINE_ITEM_NAMES: tuple[LineItemNames, ...] = ("listing", "write", "mixed")


def line_item_record(item: LineItem, zone: ZoneInfo, names: LineItemNames = "listing") -> Record:
    # [guess] The line-item docs do not say which fields are URL encoded; every
    # free-text field is, as the invoice's customer_id and company_name are, so
    # the URL-delimited form stays parseable whatever a technician typed.
    write = names == "write" or (names == "mixed" and item.uid % 2 == 0)
    ids = (
        [("id", str(item.uid)), ("uid", url_encode(item.technician))]
        if write
        else [("uid", str(item.uid))]
    )
    return Record(
        [
            *ids,
            ("tid", str(item.tid)),
            ("cid", url_encode(item.cid)),
            ("cost", format_number(item.cost)),
            ("date", format_datetime(item.date, zone)),
            ("title", url_encode(item.title)),
            ("category", url_encode(item.category)),
            ("duration", format_number(item.duration)),
            ("time_unit", item.time_unit),
            ("notes", url_encode(item.notes)),
        ]
    )


@dataclass(frozen=True, slots=True)
class Shape:
    """Element names of one list document: <root><item>…<child_root><child_item>."""

    root: str
    item: str
    child_root: str = "line_items"
    child_item: str = "line_item"


INVOICES = Shape("invoices", "invoice")
LINE_ITEMS = Shape("line_items", "line_item")


def render_records(fmt: Format, shape: Shape, records: list[Record]) -> str:
    if fmt == "xml":
        return _xml_records(shape, records)
    if fmt == "json":
        return _json_records(shape, records)
    return URL_RECORD_SEPARATOR.join(_url_lines(records))


def _xml_records(shape: Shape, records: list[Record]) -> str:
    root = ET.Element(shape.root)
    for record in records:
        element = ET.SubElement(root, shape.item)
        _xml_fields(element, record.fields)
        if record.children is not None:
            section = ET.SubElement(element, shape.child_root)
            for child in record.children:
                _xml_fields(ET.SubElement(section, shape.child_item), child.fields)
    return _xml_document(root)


def _xml_fields(element: ET.Element, fields: list[tuple[str, str]]) -> None:
    for name, value in fields:
        ET.SubElement(element, name).text = value


def _xml_document(root: ET.Element) -> str:
    # One element per line and <x></x> for empty values, as in the vendor example.
    ET.indent(root, space="")
    return XML_DECLARATION + ET.tostring(root, encoding="unicode", short_empty_elements=False)


def _json_records(shape: Shape, records: list[Record]) -> str:
    items = []
    for record in records:
        item: dict[str, object] = dict(record.fields)
        if record.children is not None:
            item[shape.child_root] = [dict(child.fields) for child in record.children]
        items.append(item)
    return orjson.dumps({shape.root: items}).decode()


def _url_lines(records: list[Record]) -> list[str]:
    # [guess] One record per line; a record's line items follow it on their own
    # lines (they start with "uid=", an invoice with "invoice_id=").
    lines = []
    for record in records:
        lines.append(_url_record(record.fields))
        lines.extend(_url_record(child.fields) for child in record.children or [])
    return lines


def _url_record(fields: list[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value}" for name, value in fields)


def render_single(fmt: Format, name: str, value: str) -> str:
    """The write/error/count wrapper: one named value inside <response>."""
    if fmt == "xml":
        root = ET.Element("response")
        ET.SubElement(root, name).text = value
        return _xml_document(root)
    if fmt == "json":
        return orjson.dumps({"response": [{name: value}]}).decode()
    # A one-key document: the value is everything after "name=", on one line.
    return f"{name}=" + " ".join(value.splitlines())


def _count_in_list_root(fmt: Format, value: str) -> str:
    if fmt == "xml":
        root = ET.Element(INVOICES.root)
        ET.SubElement(root, "count").text = value
        return _xml_document(root)
    if fmt == "json":
        return orjson.dumps({INVOICES.root: [{"count": value}]}).decode()
    return f"count={value}"


def _count_as_attribute(fmt: Format, value: str) -> str:
    if fmt == "xml":
        return _xml_document(ET.Element(INVOICES.root, count=value))
    if fmt == "json":
        return orjson.dumps({"count": int(value)}).decode()
    return value


def _bare_count_line(fmt: Format, value: str) -> str:
    return f"count={value}"


# The answer to count_only=Y is undocumented: each plausible shape a real
# server might use, so the suite shows that the adapter reads all of them.
# [guess: every shape, including the default]
COUNT_SHAPES: dict[str, Callable[[Format, str], str]] = {
    # <response><count>30</count></response>, {"response":[{"count":"30"}]}, count=30
    "response": lambda fmt, value: render_single(fmt, "count", value),
    # <invoices><count>30</count></invoices>, {"invoices":[{"count":"30"}]}, count=30
    "list_root": _count_in_list_root,
    # <invoices count="30"></invoices>, {"count":30}, a bare 30
    "attribute": _count_as_attribute,
    # a bare count=30 line whatever the format asked for
    "bare_line": _bare_count_line,
}
