"""The GraphQL context: the shared adapters, fresh dataloaders and the request's state.

``each_key`` is the batch function of vendors without a batch read; each vendor's
loaders live in its folder (``loaders.py``) and are reached with
``context.loaders.of(PLUGIN)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, overload

from starlette.requests import Request

from gateway.adapters import Adapters
from gateway.api.writes import Idempotency
from gateway.core.errors import GatewayError
from gateway.core.principal import ClientAccess
from gateway.core.types import Vendor
from gateway.observability.scope import RequestState
from gateway.plugin import VendorKey, VendorPlugin
from gateway.state.changes import ChangeBus

K = TypeVar("K")
V = TypeVar("V")
L = TypeVar("L")


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
    """Dataloaders for one operation, one object of them per vendor.

    A vendor's loaders object is made on first use from its plugin; its loaders
    are each made on first use too, inside the running event loop (aiodataloader
    binds the loop at construction), and cache for the operation only.
    """

    def __init__(self, adapters: Adapters) -> None:
        self._adapters = adapters
        self._by_vendor: dict[Vendor, object] = {}

    @overload
    def of(self, plugin: VendorPlugin[Any, Any, L]) -> L: ...
    @overload
    def of(self, plugin: VendorKey[Any, L]) -> L: ...
    def of(self, plugin: VendorPlugin[Any, Any, L] | VendorKey[Any, L]) -> L:
        """``plugin``'s loaders for this operation (VendorNotConfigured without an adapter)."""
        loaders = self._by_vendor.get(plugin.vendor)
        if loaders is None:
            adapter: object = self._adapters.of(plugin)
            if isinstance(plugin, VendorKey):  # made by the vendor's plugin, as registered
                plugin = next(p for p in self._adapters.plugins if p.vendor == plugin.vendor)
            loaders = plugin.create_loaders(adapter)
            self._by_vendor[plugin.vendor] = loaders
        # Made by this plugin's own factory just above.
        return cast(L, loaders)


@dataclass
class Context:
    request: Request | None
    adapters: Adapters
    loaders: Loaders
    # The request's one state object: its call log, client, telemetry, ...
    state: RequestState
    # Process-wide: a retried write may arrive in any later request.
    idempotency: Idempotency
    # The client's scopes and budget (every scope when authentication is off).
    access: ClientAccess
    partial_errors: list[tuple[GatewayError, list[str | int]]] = field(default_factory=list)
    # The app's change bus (gateway.api.changes): mutations publish, subscriptions read.
    changes: ChangeBus | None = None
    # What a WebSocket's connection_init carried (its credentials).
    connection_params: dict[str, Any] | None = None

    def report(self, error: GatewayError, path: list[str | int]) -> None:
        """Add an error to the response while the field still returns its data."""
        self.partial_errors.append((error, path))
