"""Cursors of a status-filtered `invoices` walk: a place in ReadyDesk's own pages.

A cursor is base64url of ``readydesk-status:<query>:<per_page>:<row>``: a digest
of the filters and order it was made for, the page size the walk reads with, and
the row (in ReadyDesk's order, every status counted) of the invoice it marks, so
the next page starts reading at the ReadyDesk page holding the following row.
A cursor of another list, another query, or edited by hand is BAD_USER_INPUT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from gateway.core.errors import BadUserInput

from ..query import MAX_CHUNK, InvoiceQuery
from ..scan import ScanPosition

_PREFIX = "readydesk-status"
_FOREIGN = "The `after` cursor is not one this list handed out."


def _query_key(query: InvoiceQuery) -> str:
    # The query is a frozen dataclass of plain values, so its repr is stable.
    return hashlib.blake2b(repr(query).encode(), digest_size=6).hexdigest()


def encode_scan_cursor(query: InvoiceQuery, per_page: int, row: int) -> str:
    raw = f"{_PREFIX}:{_query_key(query)}:{per_page}:{row}"
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_scan_cursor(cursor: str, query: InvoiceQuery) -> ScanPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, query_key, per_page, row = raw.split(":")
        position = ScanPosition(per_page=int(per_page), row=int(row))
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadUserInput(_FOREIGN, field="after") from exc
    if prefix != _PREFIX or not 1 <= position.per_page <= MAX_CHUNK or position.row < 0:
        raise BadUserInput(_FOREIGN, field="after")
    if query_key != _query_key(query):
        raise BadUserInput(
            "The `after` cursor belongs to a list with other filters or order.", field="after"
        )
    return position
