"""Zoho's per-request dataloaders: projects, a project's tasks, and tasks, one call per key."""

from __future__ import annotations

from functools import cached_property

from aiodataloader import DataLoader

from gateway.api.context import each_key
from gateway.core.records import BadRecord
from gateway.plugin import VendorKey

from .client import ZohoAdapter
from .models import ZohoProject, ZohoTask
from .vendor import ZOHO


class ZohoLoaders:
    def __init__(self, adapter: ZohoAdapter) -> None:
        self._adapter = adapter

    @cached_property
    def project(self) -> DataLoader[str, ZohoProject | None]:
        return DataLoader(each_key(self._adapter.get_project))

    @cached_property
    def project_tasks(self) -> DataLoader[str, list[ZohoTask | BadRecord] | None]:
        """All tasks of a project, keyed by project id: one call per project."""
        return DataLoader(each_key(self._adapter.list_project_tasks))

    @cached_property
    def task(self) -> DataLoader[tuple[str, str], ZohoTask | None]:
        """Keyed by (project id, task id): Zoho addresses tasks inside projects."""
        zoho = self._adapter

        async def load_one(key: tuple[str, str]) -> ZohoTask | None:
            return await zoho.read_task(*key)

        return DataLoader(each_key(load_one))


# How this vendor's GraphQL module reaches its adapter and loaders
# (context.adapters.of(KEY), context.loaders.of(KEY)) without importing PLUGIN.
KEY: VendorKey[ZohoAdapter, ZohoLoaders] = VendorKey(ZOHO)
