"""Small vendor-neutral types shared by adapters and the GraphQL layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Vendor:
    """An upstream service: ``value`` names it in ids, errors and reports, ``label`` in
    messages. Each vendor package defines its own constant; the first one of a name
    is the one :meth:`named` finds, so decoding an id needs no list of vendors."""

    value: str
    label: str

    def __post_init__(self) -> None:
        known = _KNOWN_VENDORS.setdefault(self.value, self)
        if known != self:
            raise ValueError(f"Vendor {self.value!r} is already defined as {known.label!r}.")

    @staticmethod
    def named(value: str) -> Vendor:
        """The vendor called ``value``, or ValueError for a name no vendor has."""
        try:
            return _KNOWN_VENDORS[value]
        except KeyError:
            raise ValueError(f"No vendor is called {value!r}.") from None

    def __str__(self) -> str:
        return self.value


_KNOWN_VENDORS: dict[str, Vendor] = {}


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
