"""Small vendor-neutral types shared by adapters and the GraphQL layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class Vendor(enum.Enum):
    INVOICED = "invoiced"
    ZOHO = "zoho"
    READYDESK = "readydesk"
    FAKTUROID = "fakturoid"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Vendor.INVOICED: "Invoiced",
    Vendor.ZOHO: "Zoho Invoice",
    Vendor.READYDESK: "ReadyDesk",
    Vendor.FAKTUROID: "Fakturoid",
}


class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A slice of an upstream list: the items at ``offset`` and what lies beyond."""

    items: list[T]
    offset: int
    has_next: bool
    total: int | None = None
    extra: dict[str, object] = field(default_factory=dict)
