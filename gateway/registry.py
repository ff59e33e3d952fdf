"""The vendors this gateway serves: one line per vendor package.

Adding a vendor is a folder under ``gateway/vendors/`` that exports ``PLUGIN``
(see CONTRIBUTING.md) and one line in ``VENDOR_PACKAGES`` (``gateway/vendors/__init__.py``).
The order is the order of the GraphQL ``Vendor`` enum, of ``workItems`` sources and of
the sandboxes.
"""

from __future__ import annotations

from importlib import import_module

from gateway.core.types import Vendor
from gateway.plugin import AnyPlugin, VendorPlugin
from gateway.vendors import VENDOR_PACKAGES


def load_plugin(package: str) -> AnyPlugin:
    """The ``PLUGIN`` a vendor package exports."""
    plugin = getattr(import_module(package), "PLUGIN", None)
    if not isinstance(plugin, VendorPlugin):
        raise TypeError(f"{package} does not export a VendorPlugin as PLUGIN")
    return plugin


PLUGINS: tuple[AnyPlugin, ...] = tuple(load_plugin(package) for package in VENDOR_PACKAGES)
VENDORS: tuple[Vendor, ...] = tuple(plugin.vendor for plugin in PLUGINS)

__all__ = ["PLUGINS", "VENDORS", "VENDOR_PACKAGES", "load_plugin"]
