"""Configuration from environment variables: the gateway's own section
(``GATEWAY_*``, ``gateway/core/settings.py``) and one section per vendor, declared in
the vendor's folder (``gateway/vendors/<vendor>/settings.py``) under its own prefix.

A vendor whose credentials are missing is simply disabled; the GraphQL layer
then answers ``VENDOR_NOT_CONFIGURED`` for it instead of failing at start-up. One
whose credentials are only partly set stops `serve` (gateway.http.startup).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.core.settings import GatewaySettings
from gateway.plugin import AnyPlugin, PluginSettings, VendorSettings

__all__ = ["GatewaySettings", "Settings"]


class Settings(PluginSettings):
    """Every section: the gateway's and one per vendor of ``plugins`` (default: the
    registry's), each read from the environment unless given.

    Reading every section up front makes a bad setting fail at start-up (a
    ConfigurationError naming each bad variable), not at the first request.
    """

    def __init__(
        self,
        *,
        gateway: GatewaySettings | None = None,
        sections: Iterable[VendorSettings] = (),
        plugins: Sequence[AnyPlugin] | None = None,
    ) -> None:
        if plugins is None:
            from gateway.registry import PLUGINS  # the registry imports vendor packages

            plugins = PLUGINS
        super().__init__(gateway=gateway, sections=sections, plugins=plugins)
