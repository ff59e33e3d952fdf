"""The process-wide set of vendor adapters, one pooled client each.

A vendor without credentials has no adapter; asking for it raises
``VendorNotConfigured`` so the query answers with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from gateway.config import Settings
from gateway.errors import VendorNotConfigured
from gateway.types import Vendor
from gateway.vendors.fakturoid import FakturoidAdapter
from gateway.vendors.invoiced import InvoicedAdapter
from gateway.vendors.readydesk import ReadyDeskAdapter
from gateway.vendors.zoho import ZohoAdapter
from gateway.work import WorkSource

Transports = Mapping[Vendor, httpx.AsyncBaseTransport]


class Adapters:
    def __init__(self, settings: Settings, transports: Transports | None = None) -> None:
        transports = transports or {}
        timeout = settings.gateway.upstream_timeout
        self._invoiced = (
            InvoicedAdapter.from_settings(
                settings.invoiced, timeout=timeout, transport=transports.get(Vendor.INVOICED)
            )
            if settings.invoiced.configured
            else None
        )
        self._zoho = (
            ZohoAdapter.from_settings(
                settings.zoho, timeout=timeout, transport=transports.get(Vendor.ZOHO)
            )
            if settings.zoho.configured
            else None
        )
        self._readydesk = (
            ReadyDeskAdapter.from_settings(
                settings.readydesk, timeout=timeout, transport=transports.get(Vendor.READYDESK)
            )
            if settings.readydesk.configured
            else None
        )
        self._fakturoid = (
            FakturoidAdapter.from_settings(
                settings.fakturoid, timeout=timeout, transport=transports.get(Vendor.FAKTUROID)
            )
            if settings.fakturoid.configured
            else None
        )

    @property
    def configured(self) -> list[Vendor]:
        present = {
            Vendor.INVOICED: self._invoiced,
            Vendor.ZOHO: self._zoho,
            Vendor.READYDESK: self._readydesk,
            Vendor.FAKTUROID: self._fakturoid,
        }
        return [vendor for vendor, adapter in present.items() if adapter is not None]

    @property
    def invoiced(self) -> InvoicedAdapter:
        if self._invoiced is None:
            raise VendorNotConfigured(Vendor.INVOICED)
        return self._invoiced

    @property
    def zoho(self) -> ZohoAdapter:
        if self._zoho is None:
            raise VendorNotConfigured(Vendor.ZOHO)
        return self._zoho

    @property
    def readydesk(self) -> ReadyDeskAdapter:
        if self._readydesk is None:
            raise VendorNotConfigured(Vendor.READYDESK)
        return self._readydesk

    @property
    def fakturoid(self) -> FakturoidAdapter:
        if self._fakturoid is None:
            raise VendorNotConfigured(Vendor.FAKTUROID)
        return self._fakturoid

    async def aclose(self) -> None:
        for adapter in (self._invoiced, self._zoho, self._readydesk, self._fakturoid):
            if adapter is not None:
                await adapter.aclose()

    def work_source(self, vendor: Vendor) -> WorkSource:
        """The adapter that lists ``vendor``'s actionable work, or VendorNotConfigured."""
        source: WorkSource = getattr(self, vendor.value)
        return source
