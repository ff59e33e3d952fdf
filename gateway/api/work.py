"""`WorkItem`: the shape every vendor's actionable item shares.

Invoiced tasks, Zoho project tasks and Fakturoid todos implement it with the
same normalized fields, so one list can hold and sort them all, while each
vendor type keeps its full set of fields.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from gateway.api.relay import Node
from gateway.types import Vendor


@strawberry.enum(name="Vendor", description="The upstream service an object comes from.")
class VendorEnum(enum.Enum):
    INVOICED = Vendor.INVOICED.value
    ZOHO = Vendor.ZOHO.value
    READYDESK = Vendor.READYDESK.value
    FAKTUROID = Vendor.FAKTUROID.value


@strawberry.interface(description="Something someone must act on, from any vendor.")
class WorkItem(Node):
    title: str
    vendor: VendorEnum
    completed: bool
    due_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    url: str | None = strawberry.field(
        description="Where the item (or the object it concerns) opens in the vendor's web app."
    )
