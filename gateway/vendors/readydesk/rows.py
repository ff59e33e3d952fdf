"""Invoice rows the gateway cannot read, in the reads that filter, order or pick rows.

A row ReadyDesk sends in a shape the gateway cannot parse is a :class:`BadInvoice`
in its place. Where a list keeps ReadyDesk's own order the row keeps its place
(null at its own path). Where the gateway filters by status or orders ties itself,
the row has no status or sort value to be placed by, so it is left out and
reported at the list's path (``unplaced``). A by-ID read fails for that row's ID
alone, when that much of the row reads; else for the asked IDs its range did not
answer, since the row may be any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.core.errors import UpstreamBadResponse
from gateway.core.records import BadRecord
from gateway.core.types import Page

from .models import ReadyDeskInvoice
from .wire import Fields

Row = ReadyDeskInvoice | BadRecord


@dataclass(frozen=True, slots=True)
class BadInvoice(BadRecord):
    # The row's invoice_id, when that field alone still reads as one.
    listed_id: int | None = None


def bad_invoice(error: UpstreamBadResponse, fields: Fields) -> BadInvoice:
    text = fields.get("invoice_id", "").strip()
    return BadInvoice(error, int(text) if text.isascii() and text.isdigit() else None)


@dataclass(frozen=True, slots=True)
class InvoicePage(Page[Row]):
    # Rows the read met but could not place in a page filtered or ordered here.
    unplaced: tuple[UpstreamBadResponse, ...] = ()


def unplaced_between(
    rows: Iterable[tuple[int, Row]], first: int, last: int | None
) -> tuple[UpstreamBadResponse, ...]:
    """The errors of the bad rows at positions ``first``..``last`` (None: to the end).

    A walk by ReadyDesk position reports each bad row once, on the page whose
    stretch of ReadyDesk's rows holds it."""
    return tuple(
        row.error
        for position, row in rows
        if isinstance(row, BadRecord) and position >= first and (last is None or position <= last)
    )


def pick_by_id(
    wanted: Sequence[int], chunks: Iterable[tuple[tuple[int, int], Sequence[Row]]]
) -> list[ReadyDeskInvoice | UpstreamBadResponse | None]:
    """Each wanted invoice from the ID-range reads that cover it: the invoice, the
    error of the bad row that is (or may be) it, or None when absent."""
    found: dict[int, ReadyDeskInvoice | UpstreamBadResponse] = {}
    nameless: list[tuple[int, int, UpstreamBadResponse]] = []
    for (low, high), rows in chunks:
        for row in rows:
            if isinstance(row, BadInvoice) and row.listed_id is not None:
                found[row.listed_id] = row.error
            elif isinstance(row, BadRecord):
                nameless.append((low, high, row.error))
            else:
                found[row.id] = row
    picked: list[ReadyDeskInvoice | UpstreamBadResponse | None] = []
    for invoice_id in wanted:
        maybe = (error for low, high, error in nameless if low <= invoice_id <= high)
        picked.append(found.get(invoice_id) or next(maybe, None))
    return picked
