"""Walking a status-filtered invoice list by ReadyDesk's own pages.

ReadyDesk cannot filter by status, so the gateway reads its pages in ID order
and keeps the invoices of the wanted status. A position is the row (in
ReadyDesk's order of the invoices its own filters match) of the last invoice
handed out, with the page size the walk reads with; the next page of the walk
starts reading at the ReadyDesk page holding the following row, never at the
first.

A page usually ends inside a ReadyDesk page whose remaining rows the next page
of the walk needs. Those ReadyDesk pages are kept here for a few minutes, for
that next page only (a walk's first page always reads afresh), so a walk reads
each ReadyDesk page once. They live in this process: another gateway process,
or a walk resumed after they expire, reads that page again, with the same result
unless the invoices changed meanwhile.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gateway.core.errors import UpstreamBadResponse
from gateway.core.records import BadRecord

from .models import InvoiceStatus, ReadyDeskInvoice
from .query import MAX_CHUNK
from .rows import Row, unplaced_between

# Rows per ReadyDesk page when the gateway filters by status: no smaller than the
# window, so one page usually fills it.
MIN_SCAN_PAGE = 25
# How long, and how many, ReadyDesk pages are kept for the next page of a walk.
KEEP_SECONDS = 300.0
KEEP_PAGES = 64


def scan_page_size(limit: int) -> int:
    return min(max(limit + 1, MIN_SCAN_PAGE), MAX_CHUNK)


@dataclass(frozen=True, slots=True)
class ScanPosition:
    """Where a status-filtered walk is: the page size it reads with and the row
    (from 0, in ReadyDesk's order, every status counted) of the invoice handed out last."""

    per_page: int
    row: int


@dataclass(frozen=True, slots=True)
class Scanned:
    invoice: ReadyDeskInvoice
    row: int


@dataclass(frozen=True, slots=True)
class ScanPage:
    items: list[Scanned]
    per_page: int
    has_next: bool
    # Every match, when the whole list was read to count them; else None.
    total: int | None = None
    # Rows of this page's stretch of ReadyDesk's list whose status cannot be read.
    unplaced: tuple[UpstreamBadResponse, ...] = ()


PageKey = tuple[tuple[str, str], ...]


def page_key(params: Mapping[str, str]) -> PageKey:
    return tuple(sorted(params.items()))


class KeptPages:
    """ReadyDesk pages a walk will resume in, by their request variables."""

    def __init__(
        self,
        *,
        seconds: float = KEEP_SECONDS,
        max_pages: int = KEEP_PAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._max_pages = max_pages
        self._clock = clock
        self._pages: OrderedDict[PageKey, tuple[float, list[Row]]] = OrderedDict()

    def get(self, key: PageKey) -> list[Row] | None:
        kept = self._pages.get(key)
        if kept is None:
            return None
        expires_at, rows = kept
        if expires_at <= self._clock():
            del self._pages[key]
            return None
        return rows

    def put(self, key: PageKey, rows: list[Row]) -> None:
        self._pages[key] = (self._clock() + self._seconds, rows)
        self._pages.move_to_end(key)
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)

    def clear(self) -> None:
        self._pages.clear()


ReadRows = Callable[[Mapping[str, str]], Awaitable[list[Row]]]


async def scan_pages(
    read_rows: ReadRows,
    kept_pages: KeptPages,
    filters: Mapping[str, str],
    status: InvoiceStatus | None,
    *,
    per_page: int,
    start: int,
    limit: int,
    resuming: bool,
) -> ScanPage:
    """Read ReadyDesk pages of ``per_page`` from the one holding row ``start`` until
    ``limit`` invoices of ``status`` and one more are found, or the list ends."""
    kept: list[Scanned] = []
    read: list[tuple[int, PageKey, list[Row]]] = []
    page = start // per_page + 1
    while True:
        params = {**filters, "count": str(per_page), "page": str(page)}
        key = page_key(params)
        rows = await _rows(read_rows, kept_pages, params, key, resuming=resuming)
        first_row = (page - 1) * per_page
        read.append((first_row, key, rows))
        kept.extend(
            Scanned(invoice, first_row + index)
            for index, invoice in enumerate(rows)
            if first_row + index >= start
            and not isinstance(invoice, BadRecord)
            and invoice.status is status
        )
        if len(rows) < per_page or len(kept) > limit:
            break
        page += 1
    items = kept[:limit]
    has_next = len(kept) > limit
    # A bad row after the last invoice handed out is the next page's to report.
    positions = ((first + i, row) for first, _, rows in read for i, row in enumerate(rows))
    unplaced = unplaced_between(positions, start, items[-1].row if has_next else None)
    if has_next:
        _keep_pages_after(kept_pages, read, items[-1].row)
    return ScanPage(items, per_page, has_next, unplaced=unplaced)


async def _rows(
    read_rows: ReadRows,
    kept_pages: KeptPages,
    params: Mapping[str, str],
    key: PageKey,
    *,
    resuming: bool,
) -> list[Row]:
    # A walk's first page reads afresh; later ones resume in the pages it kept.
    rows = kept_pages.get(key) if resuming else None
    return rows if rows is not None else await read_rows(params)


def _keep_pages_after(
    kept_pages: KeptPages, read: list[tuple[int, PageKey, list[Row]]], last_row: int
) -> None:
    """Keep the pages read that hold rows after ``last_row``, the last invoice handed
    out: the next page of the walk starts in them."""
    for first_row, key, rows in read:
        if first_row + len(rows) > last_row + 1:
            kept_pages.put(key, rows)
