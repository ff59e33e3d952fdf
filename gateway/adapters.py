"""The process-wide set of vendor adapters, one pooled client each.

A vendor without credentials has no adapter; asking for it raises
``VendorNotConfigured`` so the query answers with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from gateway.breaker import CircuitBreaker
from gateway.config import Settings
from gateway.errors import VendorNotConfigured
from gateway.types import Vendor
from gateway.upstream import UpstreamPolicy
from gateway.vendors.fakturoid.client import FakturoidAdapter
from gateway.vendors.invoiced.client import InvoicedAdapter
from gateway.vendors.readydesk.client import ReadyDeskAdapter
from gateway.vendors.zoho.client import ZohoAdapter
from gateway.work import WorkSource

Transports = Mapping[Vendor, httpx.AsyncBaseTransport]
A = TypeVar("A")

_ADAPTER_TYPES: dict[Vendor, Any] = {
    Vendor.INVOICED: InvoicedAdapter,
    Vendor.ZOHO: ZohoAdapter,
    Vendor.READYDESK: ReadyDeskAdapter,
    Vendor.FAKTUROID: FakturoidAdapter,
}


class Adapters:
    def __init__(self, settings: Settings, transports: Transports | None = None) -> None:
        transports = transports or {}
        policy = UpstreamPolicy.from_settings(settings.gateway)
        self._adapters: dict[Vendor, Any] = {}
        for vendor, adapter_type in _ADAPTER_TYPES.items():
            # Each vendor's settings section is named after the vendor.
            section = getattr(settings, vendor.value)
            if section.configured:
                self._adapters[vendor] = adapter_type.from_settings(
                    section, policy=policy, transport=transports.get(vendor)
                )

    @property
    def configured(self) -> list[Vendor]:
        return list(self._adapters)

    def _require(self, vendor: Vendor, adapter_type: type[A]) -> A:
        adapter = self._adapters.get(vendor)
        if adapter is None:
            raise VendorNotConfigured(vendor)
        assert isinstance(adapter, adapter_type)
        return adapter

    @property
    def invoiced(self) -> InvoicedAdapter:
        return self._require(Vendor.INVOICED, InvoicedAdapter)

    @property
    def zoho(self) -> ZohoAdapter:
        return self._require(Vendor.ZOHO, ZohoAdapter)

    @property
    def readydesk(self) -> ReadyDeskAdapter:
        return self._require(Vendor.READYDESK, ReadyDeskAdapter)

    @property
    def fakturoid(self) -> FakturoidAdapter:
        return self._require(Vendor.FAKTUROID, FakturoidAdapter)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether every configured vendor may be called, with each breaker's state.

        Read from the breakers only: a readiness check must not itself call vendors.
        """
        vendors: dict[str, Any] = {}
        for vendor, adapter in self._adapters.items():
            breaker: CircuitBreaker | None = adapter.upstream.breaker
            if breaker is not None:
                vendors[vendor.value] = breaker.snapshot()
        open_breakers = [name for name, report in vendors.items() if report["breaker"] == "open"]
        ready = not open_breakers
        report = {
            "status": "ready" if ready else "not_ready",
            "vendors": vendors,
            "openBreakers": open_breakers,
        }
        return ready, report

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()

    def work_source(self, vendor: Vendor) -> WorkSource:
        """The adapter that lists ``vendor``'s actionable work, or VendorNotConfigured."""
        source: WorkSource = self._require(vendor, _ADAPTER_TYPES[vendor])
        return source
