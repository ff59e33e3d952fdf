"""ReadyDesk's per-request dataloaders: invoices in one by-ID read per batch."""

from __future__ import annotations

from functools import cached_property
from typing import cast

from aiodataloader import DataLoader

from gateway.api.context import each_key
from gateway.plugin import VendorKey

from .client import ReadyDeskAdapter
from .models import ReadyDeskInvoice, ReadyDeskLineItem
from .vendor import READYDESK


class ReadyDeskLoaders:
    def __init__(self, adapter: ReadyDeskAdapter) -> None:
        self._adapter = adapter

    async def _invoices(
        self, invoice_ids: list[int], *, with_line_items: bool = False
    ) -> list[ReadyDeskInvoice | None]:
        found = await self._adapter.get_invoices(invoice_ids, with_line_items=with_line_items)
        # An unreadable row is its ID's error: aiodataloader rejects just that key's
        # loads when given an Exception in place of a value, though its hints do not say so.
        return cast("list[ReadyDeskInvoice | None]", found)

    @cached_property
    def invoice(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        return DataLoader(self._invoices)

    @cached_property
    def invoice_with_line_items(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        """Invoices read with include_line_items=Y: for line items of invoices that were
        loaded without them (by `node`/`_entities`), one call for all of them."""

        async def load(invoice_ids: list[int]) -> list[ReadyDeskInvoice | None]:
            return await self._invoices(invoice_ids, with_line_items=True)

        return DataLoader(load)

    @cached_property
    def line_item(self) -> DataLoader[int, ReadyDeskLineItem | None]:
        """Keyed by uid, one call each: only a `LineItem` asked for by its own ID."""
        return DataLoader(each_key(self._adapter.get_line_item))


# How this vendor's GraphQL module reaches its adapter and loaders
# (context.adapters.of(KEY), context.loaders.of(KEY)) without importing PLUGIN.
KEY: VendorKey[ReadyDeskAdapter, ReadyDeskLoaders] = VendorKey(READYDESK)
