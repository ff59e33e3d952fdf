"""Invoiced's per-request dataloaders: tasks by id (Invoiced has no batch read)."""

from __future__ import annotations

from functools import cached_property

from aiodataloader import DataLoader

from gateway.api.context import each_key
from gateway.plugin import VendorKey

from .client import InvoicedAdapter
from .models import InvoicedTask
from .vendor import INVOICED


class InvoicedLoaders:
    def __init__(self, adapter: InvoicedAdapter) -> None:
        self._adapter = adapter

    @cached_property
    def task(self) -> DataLoader[int, InvoicedTask | None]:
        return DataLoader(each_key(self._adapter.get_task))


# How this vendor's GraphQL module reaches its adapter and loaders
# (context.adapters.of(KEY), context.loaders.of(KEY)) without importing PLUGIN.
KEY: VendorKey[InvoicedAdapter, InvoicedLoaders] = VendorKey(INVOICED)
