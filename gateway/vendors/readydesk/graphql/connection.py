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

from gateway.api.relay import Edge, PageInfo, connection_from_page
from gateway.types import Page

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


@strawberry.type
class InvoiceConnection:
    # The shape of `Connection[Invoice]`, with `totalCount` resolved on its own.
    edges: list[Edge[Invoice]]
    nodes: list[Invoice]
    page_info: PageInfo
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
        cls, page: Page[ReadyDeskInvoice], counting: asyncio.Future[int] | None
    ) -> InvoiceConnection:
        plain = connection_from_page(page, Invoice.from_model)
        return cls(
            edges=plain.edges,
            nodes=plain.nodes,
            page_info=plain.page_info,
            known_total=page.total,
            counting=None if page.total is not None else counting,
        )

    @classmethod
    def from_scan(cls, page: ScanPage, query: InvoiceQuery, *, resumed: bool) -> InvoiceConnection:
        """A page of a status-filtered walk, its cursors places in ReadyDesk's pages."""
        edges = [
            Edge(
                cursor=encode_scan_cursor(query, page.per_page, scanned.row),
                node=Invoice.from_model(scanned.invoice),
            )
            for scanned in page.items
        ]
        return cls(
            edges=edges,
            nodes=[edge.node for edge in edges],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=resumed,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            known_total=page.total,
        )
