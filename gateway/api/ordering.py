"""The one sort input shape of every sortable list: ``orderBy: [XOrder!]``.

Each ``XOrder`` is ``{field, direction}``; a list so that a vendor that sorts by
several keys gets its tie-breakers, while a vendor that sorts by one refuses more
before any upstream call. The shapes lists took before (`sort`) are still read,
deprecated, for one release; a request may send one or the other, not both.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

import strawberry

from gateway.core.errors import BadUserInput

ORDER_BY = "Sort keys, most significant first; leave out for the list's default order."
SORT_DEPRECATION = "Use `orderBy`: one `{field, direction}` shape for every list."


@strawberry.enum(name="SortDirection", description="Ascending or descending, in `orderBy`.")
class Direction(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


class OrderKey(Protocol):
    @property
    def field(self) -> enum.Enum: ...

    @property
    def direction(self) -> Direction: ...


# A sort key as the resolvers use it: the GraphQL field's name, and whether descending.
SortKey = tuple[str, bool]


def sort_keys(
    order_by: Sequence[OrderKey] | None,
    deprecated: Sequence[SortKey] | None,
    *,
    one_key: bool,
    vendor: str,  # who sorts, for the message
) -> list[SortKey]:
    """The keys asked for by ``orderBy`` or the deprecated ``sort`` (already read as keys)."""
    if order_by is not None and deprecated is not None:
        raise BadUserInput("Send `orderBy` or the deprecated `sort`, not both.", field="orderBy")
    if order_by is None:
        return list(deprecated or [])
    if one_key and len(order_by) > 1:
        raise BadUserInput(
            f"{vendor} sorts by one field at a time: `orderBy` takes at most one key.",
            field="orderBy",
        )
    return [(key.field.name, key.direction is Direction.DESC) for key in order_by]
