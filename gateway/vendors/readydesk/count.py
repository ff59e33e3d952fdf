"""Reading the answer to ``count_only=Y``, whatever shape it comes in.

The doc says only that ``count_only=Y`` "returns only the number of records";
the shape of that answer is undocumented, so every plausible form is read
[guess: all of them]:

- the write/error wrapper: ``<response><count>30</count></response>``,
  ``{"response":[{"count":"30"}]}`` (or ``{"response":{"count":"30"}}``);
- the list's own root: ``<invoices><count>30</count></invoices>``,
  ``{"invoices":[{"count":"30"}]}``, or a count attribute ``<invoices count="30"/>``;
- a bare element or object: ``<count>30</count>``, ``{"count":30}``;
- URL-delimited: a ``count=N`` line (alone or among other pairs), or just ``30``.

Names are matched ignoring case (``Count``, ``COUNT``) and the count may also
be spelled ``record_count``/``total_count``. Two different counts in one body,
or none, make a bad response; an error wrapper is classified as usual.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring as safe_fromstring  # type: ignore[import-untyped]

from gateway.core.errors import UpstreamBadResponse

from .vendor import READYDESK
from .wire import Single, error_from_wrapper

COUNT_NAMES = frozenset({"count", "record_count", "recordcount", "total_count", "totalcount"})
# Deep enough for {"response":[{"count":..}]}; a count buried deeper is not one.
MAX_DEPTH = 4


class _Found:
    def __init__(self) -> None:
        self.counts: set[int] = set()
        self.error: str | None = None
        self.unreadable = False

    def count(self, value: object) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            self.counts.add(value)
        elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            self.counts.add(int(value.strip()))
        else:
            self.unreadable = True

    def fail(self, message: str) -> None:
        self.error = self.error if self.error is not None else message


def read_count(body: bytes) -> int:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        found = _from_xml(body)
    elif head.startswith((b"{", b"[")):
        found = _from_json(body)
    else:
        found = _from_text(body)
    if found.error is not None:
        raise error_from_wrapper(Single("error", found.error))
    if found.unreadable:
        raise UpstreamBadResponse(READYDESK, "the count was not a number")
    if len(found.counts) != 1:
        raise UpstreamBadResponse(READYDESK, "expected a count")
    return found.counts.pop()


def _from_xml(body: bytes) -> _Found:
    try:
        root: Element = safe_fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UpstreamBadResponse(READYDESK, "the XML response declared a DTD or entities") from exc
    except ParseError as exc:
        raise UpstreamBadResponse(READYDESK, "the XML response was not well-formed") from exc
    found = _Found()
    for name, value in root.attrib.items():
        if name.casefold() in COUNT_NAMES:
            found.count(value)
    for element in root.iter():
        tag = element.tag.casefold()
        if tag == "error":
            found.fail(element.text or "")
        elif tag in COUNT_NAMES and len(element) == 0:
            found.count(element.text or "")
    return found


def _from_json(body: bytes) -> _Found:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamBadResponse(READYDESK, "the JSON response was not valid JSON") from exc
    found = _Found()
    if isinstance(data, int | str) and not isinstance(data, bool):
        found.count(data)
    else:
        _walk(data, found, MAX_DEPTH)
    return found


def _walk(data: Any, found: _Found, depth: int) -> None:
    if depth == 0:
        return
    if isinstance(data, list):
        for item in data:
            _walk(item, found, depth - 1)
    elif isinstance(data, dict):
        for name, value in data.items():
            key = str(name).casefold()
            if key == "error":
                found.fail(value if isinstance(value, str) else "")
            elif key in COUNT_NAMES and not isinstance(value, dict | list):
                found.count(value)
            else:
                _walk(value, found, depth - 1)


def _from_text(body: bytes) -> _Found:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UpstreamBadResponse(READYDESK, "the response was not UTF-8 text") from exc
    found = _Found()
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("error="):
            # As in lists: the message is the rest of the line, "&" and "=" included.
            found.fail(line[len("error=") :])
        elif line.isascii() and line.isdigit():
            found.count(line)
        else:
            for pair in line.split("&"):
                name, sep, value = pair.partition("=")
                if sep and name.strip().casefold() in COUNT_NAMES:
                    found.count(value)
    return found
