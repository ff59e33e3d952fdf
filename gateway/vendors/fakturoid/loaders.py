"""Fakturoid's per-request dataloaders: todo pages, and todos found in them."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property, partial

from aiodataloader import DataLoader

from gateway.api.context import each_key
from gateway.plugin import VendorKey

from .client import FakturoidAdapter
from .models import FakturoidTodo, TodoPage
from .seen import find_by_id
from .vendor import FAKTUROID


class FakturoidLoaders:
    def __init__(self, adapter: FakturoidAdapter) -> None:
        self._adapter = adapter

    @cached_property
    def todo_page(self) -> DataLoader[tuple[int, datetime | None], TodoPage]:
        """Keyed by (page, since): the same page asked for twice costs one call."""
        fakturoid = self._adapter

        async def load_one(key: tuple[int, datetime | None]) -> TodoPage:
            return await fakturoid.list_page(*key)

        return DataLoader(each_key(load_one))

    @cached_property
    def todo(self) -> DataLoader[int, FakturoidTodo | None]:
        """Fakturoid cannot read one todo: a batch of ids is answered from recently read
        list pages, or else scans the unfiltered pages, through the page loader so pages
        already read in the operation are reused."""
        pages = self.todo_page
        return DataLoader(
            partial(find_by_id, self._adapter.seen, lambda number: pages.load((number, None)))
        )


# How this vendor's GraphQL module reaches its adapter and loaders
# (context.adapters.of(KEY), context.loaders.of(KEY)) without importing PLUGIN.
KEY: VendorKey[FakturoidAdapter, FakturoidLoaders] = VendorKey(FAKTUROID)
