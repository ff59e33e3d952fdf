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
from gateway.vendors.invoiced import InvoicedAdapter

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

    @property
    def configured(self) -> list[Vendor]:
        present = {Vendor.INVOICED: self._invoiced}
        return [vendor for vendor, adapter in present.items() if adapter is not None]

    @property
    def invoiced(self) -> InvoicedAdapter:
        if self._invoiced is None:
            raise VendorNotConfigured(Vendor.INVOICED)
        return self._invoiced

    async def aclose(self) -> None:
        for adapter in (self._invoiced,):
            if adapter is not None:
                await adapter.aclose()
