"""The process-wide set of vendor adapters, one pooled client each.

A vendor without credentials has no adapter; asking for it raises
``VendorNotConfigured`` so the query answers with a clear error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar, cast, overload

import httpx

from gateway.core.errors import VendorNotConfigured
from gateway.core.ratelimit import RateLimiter
from gateway.core.settings import GatewaySettings
from gateway.core.types import Vendor
from gateway.core.windows import share
from gateway.core.work import WorkSource
from gateway.observability.refusals import CredentialWarnings
from gateway.plugin import (
    AnyPlugin,
    ChangeAware,
    PluginSettings,
    VendorAdapter,
    VendorKey,
    VendorPlugin,
    VendorSettings,
)
from gateway.state.changes import ChangeEvent
from gateway.state.storage import SharedStore, open_store
from gateway.state.storage.quota_windows import shared_window_limiter
from gateway.state.storage.rate_budget import shared_rate_limiter
from gateway.state.storage.shared_flights import SharedFlights
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import Freshness
from gateway.upstream.cache.pace import RefreshPace, refresh_quotas
from gateway.upstream.cache.setup import open_read_cache
from gateway.upstream.client import OutboundBudget, UpstreamPolicy
from gateway.upstream.collapse import ReadCollapse

Transports = Mapping[Vendor, httpx.AsyncBaseTransport]
A = TypeVar("A", bound=VendorAdapter)


class Adapters:
    def __init__(
        self,
        settings: PluginSettings,
        transports: Transports | None = None,
        limiter: RateLimiter | None = None,
        store: SharedStore | None = None,
    ) -> None:
        transports = transports or {}
        redis_url = settings.gateway.redis_url
        # What this gateway shares with its other processes; closed with the adapters.
        self.store = store or open_store(
            redis_url.get_secret_value() if redis_url else None,
            timeout=settings.gateway.redis_timeout,
        )
        # Client budgets (token buckets) for ClientProtection; vendor quotas are windows.
        self.limiter = limiter or shared_rate_limiter(self.store)
        self.quota_windows = shared_window_limiter(self.store)
        policy = replace(
            UpstreamPolicy.from_settings(settings.gateway),
            store=self.store,
            share_breakers=redis_url is not None,
        )
        self.plugins: tuple[AnyPlugin, ...] = settings.plugins
        self._adapters: dict[Vendor, VendorAdapter] = {}
        # What `VENDOR_NOT_CONFIGURED` tells to set, and a refusal's warning to check.
        self._to_set = {p.vendor: settings.section(p).setup for p in self.plugins}
        self.credential_warnings = CredentialWarnings(
            {p.vendor: settings.section(p).credential_variables for p in self.plugins},
            quiet=settings.gateway.breaker_cooldown,
        )
        self.read_cache = open_read_cache(settings.gateway)
        # Identical reads in several processes share one call only through Redis.
        self.shared_flights = SharedFlights(self.store) if redis_url is not None else None
        for plugin in self.plugins:
            section = settings.section(plugin)
            if section.configured:
                transport = transports.get(plugin.vendor)
                adapter = plugin.create_adapter(section, policy, transport)
                if section.outbound_quotas:
                    adapter.upstream.outbound = OutboundBudget(
                        section.outbound_quotas,
                        self.quota_windows,
                        settings.gateway.quota_reserve,
                    )
                if self.read_cache is not None and section.cache_ttl > 0:
                    adapter.upstream.cache = self.read_cache.for_vendor(
                        plugin.vendor,
                        Freshness(
                            section.cache_ttl,
                            section.cache_stale_while_revalidate,
                            section.cache_stale_if_error,
                        ),
                        self._refresh_pace(plugin.vendor, section, settings.gateway),
                    )
                if settings.gateway.collapse_reads:
                    adapter.upstream.collapse = ReadCollapse(
                        plugin.vendor,
                        self.shared_flights,
                        # A call lasts at most the upstream timeout; the margin covers
                        # the owner's own hand-over of the answer.
                        wait=adapter.upstream.timeout + 1.0,
                    )
                self._adapters[plugin.vendor] = adapter

    def _refresh_pace(
        self, vendor: Vendor, section: VendorSettings, gateway: GatewaySettings
    ) -> RefreshPace | None:
        """The vendor's bucket of refreshes only age calls for, if a quota of it is long."""
        shares = share(section.outbound_quotas, gateway.quota_reserve)
        quotas = refresh_quotas(shares, gateway.quota_burst)
        return RefreshPace(self.limiter, f"refresh:{vendor.value}", quotas) if quotas else None

    @property
    def configured(self) -> list[Vendor]:
        return list(self._adapters)

    @property
    def vendors(self) -> list[Vendor]:
        """Every vendor this gateway serves, configured or not."""
        return [plugin.vendor for plugin in self.plugins]

    @overload
    def of(self, plugin: VendorPlugin[Any, A, Any]) -> A: ...
    @overload
    def of(self, plugin: VendorKey[A, Any]) -> A: ...
    def of(self, plugin: VendorPlugin[Any, A, Any] | VendorKey[A, Any]) -> A:
        """``plugin``'s adapter, or VendorNotConfigured."""
        adapter = self._adapters.get(plugin.vendor)
        if adapter is None:
            setup = self._to_set[plugin.vendor]
            raise VendorNotConfigured(plugin.vendor, setup.to_set, setup.describe_to_set())
        # Built by this plugin's own factory in __init__.
        return cast(A, adapter)

    def breaker(self, vendor: Vendor) -> CircuitBreaker | None:
        """``vendor``'s circuit breaker, if it is configured and has one."""
        adapter = self._adapters.get(vendor)
        return adapter.upstream.breaker if adapter is not None else None

    def readiness_probe(self, vendor: Vendor) -> Callable[[], Awaitable[object]] | None:
        """A call of ``vendor``'s declared readiness probe, if it is configured and has one."""
        adapter = self._adapters.get(vendor)
        for plugin in self.plugins:
            if plugin.vendor == vendor and adapter is not None and plugin.readiness_probe:
                probe = plugin.readiness_probe
                return lambda: probe(adapter)
        return None

    def breakers(self) -> list[CircuitBreaker]:
        """The configured vendors' circuit breakers (read by /metrics at scrape time)."""
        breakers = (adapter.upstream.breaker for adapter in self._adapters.values())
        return [breaker for breaker in breakers if breaker is not None]

    def item_changed(self, event: ChangeEvent, relayed: bool) -> None:
        """A change event (from the bus): to the adapter of its vendor, if it keeps
        something of its own the change makes stale."""
        adapter = self._adapters.get(event.vendor)
        if isinstance(adapter, ChangeAware):
            adapter.item_changed(event, relayed)

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()
        if self.read_cache is not None:
            await self.read_cache.aclose()
        await self.store.aclose()

    @property
    def work_vendors(self) -> list[Vendor]:
        """The vendors whose items are actionable work, in registry order."""
        return [plugin.vendor for plugin in self.plugins if plugin.work_source]

    def work_source(self, vendor: Vendor) -> WorkSource:
        """The source of ``vendor``'s actionable work, or VendorNotConfigured."""
        for plugin in self.plugins:
            if plugin.vendor == vendor and plugin.work_source is not None:
                return plugin.work_source(self.of(plugin))
        raise ValueError(f"{vendor.label} has no actionable work.")
