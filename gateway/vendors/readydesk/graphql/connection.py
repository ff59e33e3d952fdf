"""`InvoiceConnection`: a page of invoices whose `totalCount` is its own upstream call.

ReadyDesk answers a count only with a separate ``count_only`` call. The list
resolver starts that call next to the page fetch when `totalCount` is selected
(so it costs no extra round trip), but the count is awaited by `totalCount`'s
own resolver: a failing count nulls `totalCount` alone, not the whole list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import strawberry

from gateway.api.relay import CursorAt, Edge, PageInfo, connection_from_page, edges_of
from gateway.core.records import BadRecord
from gateway.core.types import Page

from ..models import ReadyDeskInvoice
from ..query import InvoiceQuery
from ..scan import ScanPage
from .cursor import encode_scan_cursor
from .types import Invoice


def _consume_outcome(counting: asyncio.Future[int]) -> None:
    # A count whose list failed (and was cancelled) or whose totalCount was nulled
    # along with its parent is never awaited; reading the outcome here keeps asyncio
    # from logging "exception was never retrieved" for an error already reported.
    if not counting.cancelled():
        counting.exception()


def start_count(counting: Awaitable[int]) -> asyncio.Future[int]:
    """Run a count call in the background, for `InvoiceConnection.total_count` to await."""
    future = asyncio.ensure_future(counting)
    future.add_done_callback(_consume_outcome)
    return future


def _invoice_edges(root: InvoiceConnection) -> list[Edge[Invoice]]:
    return edges_of(root.nodes, root.cursor_at)


@strawberry.type
class InvoiceConnection:
    # The shape of `Connection[Invoice]`, with `totalCount` resolved on its own.
    edges: list[Edge[Invoice]] = strawberry.field(resolver=_invoice_edges)
    nodes: list[Invoice | None] = strawberry.field(
        description="Null items, each with an UPSTREAM_BAD_RESPONSE error at its path, are "
        "records the vendor sent in a shape the gateway cannot read."
    )
    page_info: PageInfo
    cursor_at: strawberry.Private[CursorAt]
    known_total: strawberry.Private[int | None] = None
    counting: strawberry.Private[asyncio.Future[int] | None] = None

    @strawberry.field(
        description="Invoices matching the filters. Without a status filter this is one more "
        "upstream call, made only when selected; if it fails only this field is null."
    )
    async def total_count(self) -> int | None:
        if self.counting is not None:
            return await self.counting
        return self.known_total

    @classmethod
    def from_page(
        cls, page: Page[ReadyDeskInvoice | BadRecord], counting: asyncio.Future[int] | None
    ) -> InvoiceConnection:
        plain = connection_from_page(page, Invoice.from_model)
        return cls(
            nodes=plain.nodes,
            page_info=plain.page_info,
            cursor_at=plain.cursor_at,
            known_total=page.total,
            counting=None if page.total is not None else counting,
        )

    @classmethod
    def from_scan(cls, page: ScanPage, query: InvoiceQuery, *, resumed: bool) -> InvoiceConnection:
        """A page of a status-filtered walk, its cursors places in ReadyDesk's pages."""
        rows = [scanned.row for scanned in page.items]

        def cursor_at(index: int) -> str:
            return encode_scan_cursor(query, page.per_page, rows[index])

        return cls(
            nodes=[Invoice.from_model(scanned.invoice) for scanned in page.items],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=resumed,
                start_cursor=cursor_at(0) if rows else None,
                end_cursor=cursor_at(len(rows) - 1) if rows else None,
            ),
            cursor_at=cursor_at,
            known_total=page.total,
        )
