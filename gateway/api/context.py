"""Per-request state: the shared adapters, fresh dataloaders and the call log."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from aiodataloader import DataLoader
from starlette.requests import Request

from gateway.adapters import Adapters
from gateway.upstream import CallLog
from gateway.vendors.invoiced import InvoicedTask


class Loaders:
    """Dataloaders for one operation.

    Each is built on first use, inside the running event loop (aiodataloader
    binds the loop at construction), and caches for the operation only.
    """

    def __init__(self, adapters: Adapters) -> None:
        self._adapters = adapters

    @cached_property
    def invoiced_task(self) -> DataLoader[int, InvoicedTask | None]:
        return DataLoader(self._adapters.invoiced.get_tasks)


@dataclass
class Context:
    request: Request | None
    adapters: Adapters
    loaders: Loaders
    calls: CallLog
