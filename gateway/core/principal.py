"""Who a request comes from, and what it may do: scopes per vendor and access.

A scope is ``<vendor>:read`` or ``<vendor>:write`` with the vendor's registry
name (``invoiced:read``, ``zoho:write``), or ``*:read`` / ``*:write`` for every
vendor. Reading and writing are separate grants: a client that may write a
vendor's items is not thereby allowed to list them.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from gateway.core.errors import Forbidden
from gateway.core.ratelimit import CallBudget
from gateway.core.types import Vendor

ANY_VENDOR = "*"


class Access(enum.Enum):
    READ = "read"
    WRITE = "write"


def scope_for(vendor: Vendor, access: Access) -> str:
    return f"{vendor.value}:{access.value}"


def parse_scopes(
    scopes: Iterable[str], vendors: Collection[str], *, strict: bool
) -> frozenset[str]:
    """The gateway scopes among ``scopes``. ``strict`` (configured keys) refuses any
    other with ValueError; tokens from an identity provider carry others (``openid``)
    that are simply not ours."""
    known: set[str] = set()
    for scope in scopes:
        vendor, _, access = scope.strip().partition(":")
        valid = (vendor in vendors or vendor == ANY_VENDOR) and access in {"read", "write"}
        if valid:
            known.add(f"{vendor}:{access}")
        elif strict:
            names = ", ".join(sorted(vendors))
            raise ValueError(
                f"{scope.strip()!r} is not a scope: use <vendor>:read or <vendor>:write "
                f"with a vendor of {names}, or *:read / *:write."
            )
    return frozenset(known)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated client. ``key`` names it for rate limits (kind and name)."""

    key: str
    scopes: frozenset[str]

    def may(self, vendor: Vendor, access: Access) -> bool:
        return (
            scope_for(vendor, access) in self.scopes
            or f"{ANY_VENDOR}:{access.value}" in self.scopes
        )

    def require(self, vendor: Vendor, access: Access) -> None:
        if not self.may(vendor, access):
            raise Forbidden(vendor, scope_for(vendor, access))


EVERY_SCOPE = frozenset({f"{ANY_VENDOR}:read", f"{ANY_VENDOR}:write"})


def unauthenticated_client(address: str) -> Principal:
    """A client of a gateway with authentication off: every scope, limited by address."""
    return Principal(f"address:{address}", EVERY_SCOPE)


@dataclass(frozen=True, slots=True)
class ClientAccess:
    """What the GraphQL layer needs to know of the client: its scopes, its
    upstream-call budget (None: unlimited) and whether it may introspect. There is
    no default client: every request names the one it comes from."""

    principal: Principal
    calls: CallBudget | None = None
    introspection: bool = True
