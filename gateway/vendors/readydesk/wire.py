"""ReadyDesk's three output formats, recognised from the body alone.

The product answers every call with HTTP 200 and a hand-written page whose
content type says nothing [guess], so the body decides: ``<`` starts XML,
``{`` starts JSON, anything else is the URL-delimited form (an empty body is
a URL-delimited list with no records). Each format carries either a list of
records (``invoices``/``line_items``) or a one-value ``response`` wrapper
(``count``, ``error``, ``added_invoice``): the wrapper is documented for
writes, its use for errors (with HTTP 200) is a [guess]. Values stay raw strings here;
decoding them is the models' job.

XML goes through defusedxml with DTDs forbidden: an entity-expansion
("billion laughs") body, an external entity or any DOCTYPE is refused as a bad
response before anything is expanded or fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring as safe_fromstring  # type: ignore[import-untyped]

from gateway.core.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)

from .vendor import READYDESK

OutputFormat = Literal["xml", "json", "url"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("xml", "json", "url")

Fields = dict[str, str]
# The sub-section that include_line_items=Y adds to each invoice. The doc only says
# "a sub-section"; its shape is a [guess], and the reader takes every plausible one:
# XML  <invoice>…<line_items><line_item><uid>…</line_item></line_items></invoice>
#      (the sandbox's), any other section/item names, <line_item> elements straight
#      inside <invoice>, an empty <line_items/>;
# JSON "line_items": [{…}] (the sandbox's), {"line_item": [{…}]} or {"line_item": {…}}
#      as an XML-to-JSON converter writes it, one bare object, "" or null for none;
# URL  one line per line item right after its invoice's line (see _parse_url).
WRAPPER_ROOT = "response"


def _is_section_name(name: str) -> bool:
    return name.replace("_", "").casefold() in {"lineitems", "lineitem"}


@dataclass(frozen=True, slots=True)
class Record:
    fields: Fields
    # Nested line items when the invoice carried a sub-section, else None.
    children: list[Fields] | None = None


@dataclass(frozen=True, slots=True)
class Records:
    """A list document; ``root`` is None for the URL-delimited form, which has none."""

    root: str | None
    items: list[Record]


@dataclass(frozen=True, slots=True)
class Single:
    """The ``response`` wrapper: one named value (count, error, added_invoice)."""

    name: str
    value: str


Document = Records | Single


def _bad(message: str) -> UpstreamBadResponse:
    return UpstreamBadResponse(READYDESK, message)


def parse_document(body: bytes) -> Document:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _parse_xml(body)
    if head.startswith((b"{", b"[")):
        return _parse_json(body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad("the response was not UTF-8 text") from exc
    return _parse_url(text)


def _parse_xml(body: bytes) -> Document:
    try:
        root: Element = safe_fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise _bad("the XML response declared a DTD or entities, which are refused") from exc
    except ParseError as exc:
        raise _bad("the XML response was not well-formed") from exc
    if root.tag == WRAPPER_ROOT:
        values = [(child.tag, child.text or "") for child in root if len(child) == 0]
        return _single(values)
    return Records(root.tag, [_xml_record(element) for element in root])


def _xml_leaves(element: Element) -> Fields:
    # Attributes too, should a release write a line item as <line_item uid="1" …/>.
    return {**element.attrib, **{leaf.tag: leaf.text or "" for leaf in element}}


def _xml_record(element: Element) -> Record:
    """A record's leaf values; any nested element is its line-item sub-section."""
    fields: Fields = {}
    children: list[Fields] | None = None
    for child in element:
        if len(child) == 0 and not (_is_section_name(child.tag) and not (child.text or "").strip()):
            fields[child.tag] = child.text or ""
            continue
        children = children if children is not None else []
        if len(child) and all(len(leaf) == 0 and not leaf.attrib for leaf in child):
            children.append(_xml_leaves(child))  # a line item with no wrapper around it
        else:
            children.extend(_xml_leaves(item) for item in child if len(item) or item.attrib)
    return Record(fields, children)


def _parse_json(body: bytes) -> Document:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad("the JSON response was not valid JSON") from exc
    if not isinstance(data, dict) or len(data) != 1:
        raise _bad("the JSON response had an unexpected shape")
    ((root, rows),) = data.items()
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise _bad("the JSON response had an unexpected shape")
    if root == WRAPPER_ROOT:
        return _single([(name, _string(value)) for row in rows for name, value in row.items()])
    return Records(root, [_json_record(row) for row in rows])


def _json_record(row: dict[str, object]) -> Record:
    """A record's values; a nested list or object (or an empty line_items) is its
    line-item sub-section."""
    fields: Fields = {}
    children: list[Fields] | None = None
    for name, value in row.items():
        if isinstance(value, list | dict) or (_is_section_name(name) and not value):
            children = (children or []) + _json_items(value)
        else:
            fields[name] = _string(value)
    return Record(fields, children)


def _json_items(value: object) -> list[Fields]:
    if isinstance(value, list):
        return [fields for item in value for fields in _json_items(item)]
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(next(iter(value.values())), list | dict):
            return _json_items(next(iter(value.values())))  # {"line_item": [...]}
        return [{name: _string(inner) for name, inner in value.items()}]
    if value is None or value == "":
        return []
    raise _bad("the JSON response held an unexpected line-item section")


def _string(value: object) -> str:
    # The product writes every value as a string; numbers and null are accepted
    # too, so a future release that types its JSON does not break the gateway.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _bad("the JSON response held a value of an unexpected type")


def _parse_url(text: str) -> Document:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("&") and lines:
            # The doc's own example wraps one record over several lines, each
            # continuation starting with "&".
            lines[-1] += line
        elif line.strip():
            lines.append(line)
    if not lines:
        return Records(None, [])
    if lines[0].startswith("error="):
        # The message is everything after "error=", "&" and "=" included.
        return Single("error", lines[0][len("error=") :])
    rows = [_url_pairs(line) for line in lines]
    if len(rows) == 1 and len(rows[0]) == 1 and "invoice_id" not in rows[0]:
        return _single(list(rows[0].items()))
    return Records(None, _url_records(rows))


def _url_records(rows: list[Fields]) -> list[Record]:
    """[guess] An invoice's line items follow it on their own lines, told apart by
    their "uid" or "id" (either name family, see models; in any place on the line);
    a line-item document is nothing but such lines."""
    items: list[Record] = []
    for row in rows:
        parent = items[-1] if items else None
        is_line_item = ("uid" in row or "id" in row) and "invoice_id" not in row
        if is_line_item and parent is not None and parent.children is not None:
            parent.children.append(row)
        elif "invoice_id" in row:
            items.append(Record(row, []))
        else:
            items.append(Record(row))
    return [Record(item.fields, item.children or None) for item in items]


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _url_pairs(line: str) -> Fields:
    # Split on the raw text: unencoded fields (dates) carry spaces and "/" as is,
    # and the encoded ones cannot contain a literal "&" or "=".
    pairs: Fields = {}
    for pair in line.split("&"):
        name, sep, value = pair.partition("=")
        if not sep or not _FIELD_NAME.fullmatch(name):
            raise _bad("a URL-delimited record was malformed or truncated")
        pairs[name] = value
    return pairs


def _single(values: list[tuple[str, str]]) -> Single:
    if not values:
        raise _bad("the response wrapper was empty")
    named = dict(values)
    if "error" in named:
        return Single("error", named["error"])
    name, value = values[0]
    return Single(name, value)


def expect_records(document: Document, root: str) -> list[Record]:
    """The records of a list document, or the error its wrapper reports."""
    if isinstance(document, Single):
        raise error_from_wrapper(document)
    if document.root is not None and document.root != root:
        raise _bad(f"expected a list of {root}, got another document")
    return document.items


_AUTH = re.compile(
    r"\bkey\b|\bIP\b|not authori[sz]ed|unauthori[sz]ed|access denied|permission", re.IGNORECASE
)
_PARAMETER = re.compile(
    r"^\s*(invalid\b|incorrect syntax|.*\bis required\b|.*\brequires\b)", re.IGNORECASE
)
_PARAMETER_NAME = re.compile(r"^\s*Invalid (\w+)\b")
# Parameters the adapter sends; only these names may be echoed back as a detail.
KNOWN_PARAMETERS = frozenset(
    {
        "action", "output", "cid", "id", "tid", "start_tid", "end_tid", "start_cid", "end_cid",
        "start_date", "end_date", "date_type", "include_line_items", "count", "count_only",
        "page", "order", "order_direction",
    }
)  # fmt: skip


def error_from_wrapper(document: Single) -> UpstreamError:
    """Classify a wrapper; the vendor's text only picks the class, never the message.

    [guess] The error texts are undocumented: the patterns follow the product's
    settings (key, allowed IPs) and SQL Server's own messages.
    """
    if document.name != "error":
        return _bad("expected a list, got a one-value response")
    message = document.value
    if _AUTH.search(message):
        return UpstreamAuthError(READYDESK, "the API key was refused")
    if _PARAMETER.match(message):
        match = _PARAMETER_NAME.match(message)
        param = match.group(1).lower() if match else None
        if message.lower().startswith("invalid column name") or "syntax" in message.lower():
            param = "order"
        return UpstreamRejected(
            READYDESK,
            "the request was refused",
            param=param if param in KNOWN_PARAMETERS else None,
        )
    # An unrecognised failure (a database timeout, an unhandled exception) is the
    # service's own trouble rather than something wrong with the request.
    return UpstreamUnavailable(READYDESK, "the service reported an error")
