"""One package per vendor, each exporting ``PLUGIN`` (see gateway/plugin.py and
CONTRIBUTING.md).

``VENDOR_PACKAGES`` lists the ones this gateway serves, in order: gateway/registry.py
loads their plugins, and ``VENDORS`` holds their ``Vendor`` constants, read from each
package's ``vendor`` module, for what sits below the plugins (the GraphQL ``Vendor``
enum, which every vendor's GraphQL types use).
"""

from __future__ import annotations

from importlib import import_module

from gateway.core.types import Vendor

VENDOR_PACKAGES = (
    "gateway.vendors.invoiced",
    "gateway.vendors.zoho",
    "gateway.vendors.readydesk",
    "gateway.vendors.fakturoid",
)


def vendor_constant(package: str) -> Vendor:
    """The one ``Vendor`` a vendor package's ``vendor`` module defines."""
    module = import_module(f"{package}.vendor")
    found = {value for value in vars(module).values() if isinstance(value, Vendor)}
    if len(found) != 1:
        raise TypeError(f"{package}.vendor must define one Vendor, not {len(found)}")
    return found.pop()


VENDORS: tuple[Vendor, ...] = tuple(vendor_constant(package) for package in VENDOR_PACKAGES)
