"""Per-request state: the shared adapters, fresh dataloaders and the call log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from starlette.requests import Request

from gateway.adapters import Adapters
from gateway.errors import GatewayError
from gateway.idempotency import Idempotency
from gateway.upstream import CallLog
from gateway.vendors.fakturoid.models import FakturoidTodo, TodoPage
from gateway.vendors.fakturoid.paging import find_todos
from gateway.vendors.invoiced.models import InvoicedTask
from gateway.vendors.readydesk.models import ReadyDeskInvoice, ReadyDeskLineItem
from gateway.vendors.zoho.models import ZohoProject, ZohoTask

K = TypeVar("K")
V = TypeVar("V")


def each_key(
    load_one: Callable[[K], Awaitable[V]],
) -> Callable[[list[K]], Coroutine[Any, Any, list[V]]]:
    """A batch function for a vendor with no batch read: one concurrent call per key.

    A key whose call fails gets its own exception (aiodataloader rejects just that
    key's loads), so one failing object nulls only the fields that asked for it.
    """

    async def load(keys: list[K]) -> list[V]:
        outcomes = await asyncio.gather(*(load_one(key) for key in keys), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # cancellation and interpreter exits are not a key's failure
        # aiodataloader takes an Exception in place of a value, though its hints do not say so.
        return cast("list[V]", outcomes)

    return load


class Loaders:
    """Dataloaders for one operation.

    Each is built on first use, inside the running event loop (aiodataloader
    binds the loop at construction), and caches for the operation only.
    """

    def __init__(self, adapters: Adapters) -> None:
        self._adapters = adapters

    @cached_property
    def invoiced_task(self) -> DataLoader[int, InvoicedTask | None]:
        return DataLoader(each_key(self._adapters.invoiced.get_task))

    @cached_property
    def zoho_project(self) -> DataLoader[str, ZohoProject | None]:
        return DataLoader(each_key(self._adapters.zoho.get_project))

    @cached_property
    def zoho_project_tasks(self) -> DataLoader[str, list[ZohoTask] | None]:
        """All tasks of a project, keyed by project id: one call per project."""
        return DataLoader(each_key(self._adapters.zoho.list_project_tasks))

    @cached_property
    def zoho_task(self) -> DataLoader[tuple[str, str], ZohoTask | None]:
        """Keyed by (project id, task id): Zoho addresses tasks inside projects."""
        zoho = self._adapters.zoho

        async def load_one(key: tuple[str, str]) -> ZohoTask | None:
            return await zoho.get_task(*key)

        return DataLoader(each_key(load_one))

    @cached_property
    def readydesk_invoice(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        return DataLoader(self._adapters.readydesk.get_invoices)

    @cached_property
    def readydesk_invoice_with_line_items(self) -> DataLoader[int, ReadyDeskInvoice | None]:
        """Invoices read with include_line_items=Y: for line items of invoices that were
        loaded without them (by `node`/`_entities`), one call for all of them."""
        return DataLoader(partial(self._adapters.readydesk.get_invoices, with_line_items=True))

    @cached_property
    def readydesk_line_item(self) -> DataLoader[int, ReadyDeskLineItem | None]:
        """Keyed by uid, one call each: only a `LineItem` asked for by its own ID."""
        return DataLoader(each_key(self._adapters.readydesk.get_line_item))

    @cached_property
    def fakturoid_todo_page(self) -> DataLoader[tuple[int, datetime | None], TodoPage]:
        """Keyed by (page, since): the same page asked for twice costs one call."""
        fakturoid = self._adapters.fakturoid

        async def load_one(key: tuple[int, datetime | None]) -> TodoPage:
            return await fakturoid.list_page(*key)

        return DataLoader(each_key(load_one))

    @cached_property
    def fakturoid_todo(self) -> DataLoader[int, FakturoidTodo | None]:
        """Fakturoid cannot read one todo: a batch of ids scans the unfiltered pages,
        through the page loader so pages already read in the operation are reused."""
        pages = self.fakturoid_todo_page
        return DataLoader(partial(find_todos, lambda number: pages.load((number, None))))


@dataclass
class Context:
    request: Request | None
    adapters: Adapters
    loaders: Loaders
    calls: CallLog
    # Process-wide: a retried write may arrive in any later request.
    idempotency: Idempotency
    partial_errors: list[tuple[GatewayError, list[str | int]]] = field(default_factory=list)

    def report(self, error: GatewayError, path: list[str | int]) -> None:
        """Add an error to the response while the field still returns its data."""
        self.partial_errors.append((error, path))
