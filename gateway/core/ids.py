"""Global object IDs: one opaque string names a vendor, a type and the vendor's id.

The decoded form is ``<vendor>:<Type>:<key>``, for example ``acme:Ticket:788``
or ``acme:Comment:903/904`` (composite keys are joined with ``/``),
base64url-encoded without padding so clients treat it as opaque. The type name
is the GraphQL type the id resolves to.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.core.errors import BadUserInput
from gateway.core.types import Vendor

MAX_KEY_DIGITS = 30
# Vendors number records from 1 in signed integer columns: a key of 0 or past the
# column's range names nothing, and some vendors answer it with an error, not a 404.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class GlobalId:
    vendor: Vendor
    type_name: str
    key: str

    def encode(self) -> str:
        return _encoded(self.vendor, self.type_name, self.key)

    def number(self, maximum: int = INT64_MAX) -> int:
        """The key as a vendor's integer id (1 to ``maximum``), or BAD_USER_INPUT."""
        return int(numeric_key(self.key, self.type_name, maximum))

    def parts(self, count: int) -> list[str]:
        """The composite key split into ``count`` parts, or BAD_USER_INPUT."""
        pieces = self.key.split("/")
        if len(pieces) != count or not all(pieces):
            raise BadUserInput(f"Malformed {self.type_name} id.", field="id")
        return pieces


def numeric_key(value: str, type_name: str, maximum: int = INT64_MAX) -> str:
    """``value`` if it is a plain ASCII run of digits naming 1 to ``maximum``."""
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_KEY_DIGITS):
        raise BadUserInput(f"Malformed {type_name} id.", field="id")
    if not 1 <= int(value) <= maximum:
        raise BadUserInput(f"No {type_name} can have this id.", field="id")
    return value


def encode_id(vendor: Vendor, type_name: str, *key: object) -> str:
    # GlobalId(...).encode() without the object: every item of every list is named so.
    joined = str(key[0]) if len(key) == 1 else "/".join(str(part) for part in key)
    return _encoded(vendor, type_name, joined)


def _encoded(vendor: Vendor, type_name: str, key: str) -> str:
    raw = f"{vendor.value}:{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_id(value: str) -> GlobalId:
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        vendor_name, type_name, key = raw.split(":", 2)
        vendor = Vendor.named(vendor_name)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise BadUserInput(f"{value!r} is not a valid id.", field="id") from exc
    if not type_name or not key:
        raise BadUserInput(f"{value!r} is not a valid id.", field="id")
    return GlobalId(vendor, type_name, key)


def expect_id(value: str, vendor: Vendor, type_name: str) -> GlobalId:
    """Decode ``value`` and insist that it names a ``type_name`` of ``vendor``."""
    global_id = decode_id(value)
    if global_id.vendor != vendor or global_id.type_name != type_name:
        raise BadUserInput(
            f"Expected the id of a {type_name}, got one of a {global_id.type_name}.",
            field="id",
        )
    return global_id
