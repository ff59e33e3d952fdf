"""ReadyDesk's per-request dataloaders: invoices in one by-ID read per batch."""

from __future__ import annotations

from functools import cached_property, partial

from aiodataloader import DataLoader

from gateway.api.context import each_key

from .client import ReadyDeskAdapter
from .models import ReadyDeskInvoice, ReadyDeskLineItem


class ReadyDeskLoaders:
    def __init__(self, adapter: ReadyDeskAdapter) -> None:
        self._adapter = adapter

    @cached_property
    def invoice(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        return DataLoader(self._adapter.get_invoices)

    @cached_property
    def invoice_with_line_items(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        """Invoices read with include_line_items=Y: for line items of invoices that were
        loaded without them (by `node`/`_entities`), one call for all of them."""
        return DataLoader(partial(self._adapter.get_invoices, with_line_items=True))

    @cached_property
    def line_item(self) -> DataLoader[int, ReadyDeskLineItem | None]:
        """Keyed by uid, one call each: only a `LineItem` asked for by its own ID."""
        return DataLoader(each_key(self._adapter.get_line_item))
