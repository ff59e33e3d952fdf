"""Which vendors a `workItems` page asks, and which it names as missing before asking."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.adapters import Adapters
from gateway.api.context import Context
from gateway.core.errors import BadUserInput, Forbidden, GatewayError, VendorNotConfigured
from gateway.core.principal import Access, scope_for
from gateway.core.types import Vendor
from gateway.core.work import WorkSource


@dataclass
class WorkVendors:
    # The vendors asked, in registry order.
    asked: list[Vendor]
    # Work vendors whose credentials this gateway lacks.
    unconfigured: list[Vendor]
    # Vendors left out of the page, with the error that says why.
    missing: dict[Vendor, GatewayError] = field(default_factory=dict)

    @classmethod
    def chosen(cls, context: Context, named: list[Vendor] | None) -> WorkVendors:
        """The vendors ``named`` (default: every configured one) the client may read."""
        adapters = context.adapters
        vendors = _wanted(adapters, named)
        # Vendors the client may not read are left out, and named as missing with FORBIDDEN.
        principal = context.access.principal
        forbidden = [v for v in vendors if not principal.may(v, Access.READ)]
        configured = adapters.configured
        return cls(
            asked=[v for v in vendors if v not in forbidden],
            unconfigured=[v for v in adapters.work_vendors if v not in configured],
            missing={v: Forbidden(v, scope_for(v, Access.READ)) for v in forbidden},
        )

    def sources(self, adapters: Adapters) -> list[WorkSource]:
        """The work sources of the vendors asked; one not configured is named as missing."""
        sources: list[WorkSource] = []
        for vendor in self.asked:
            try:
                sources.append(adapters.work_source(vendor))
            except VendorNotConfigured as exc:
                self.missing[vendor] = exc
        return sources


def _wanted(adapters: Adapters, named: list[Vendor] | None) -> list[Vendor]:
    work_vendors = adapters.work_vendors
    if named and any(vendor not in work_vendors for vendor in named):
        names = ", ".join(v.value.upper() for v in work_vendors)
        raise BadUserInput(f"`vendors` may name only {names}.", field="vendors")
    if named:
        return [v for v in work_vendors if v in named]
    # With none configured every vendor is asked, so each answers
    # VENDOR_NOT_CONFIGURED: an empty list must not pass for "no work".
    configured = adapters.configured
    return [v for v in work_vendors if v in configured] or list(work_vendors)
