"""Per-record parsing of vendors' lists: one record the gateway cannot read is a
:class:`BadRecord` in its place, so it never takes the rest of its list down.

Adapters return ``T | BadRecord`` items; the GraphQL layer turns each BadRecord
into an UPSTREAM_BAD_RESPONSE error at that item's path, with the item null.
Neither side sees the other's formats: the BadRecord carries only the gateway's
own error (its message is written by the gateway, never copied from the record).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.core.errors import UpstreamBadResponse

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record of a vendor's list that could not be parsed, and why."""

    error: UpstreamBadResponse


def parse_each(rows: Iterable[Any], parse: Callable[[Any], T]) -> list[T | BadRecord]:
    """``parse`` applied to every row; a row it refuses becomes a BadRecord in its place."""
    parsed: list[T | BadRecord] = []
    for row in rows:
        try:
            parsed.append(parse(row))
        except UpstreamBadResponse as error:
            parsed.append(BadRecord(error))
    return parsed


def good(items: Sequence[T | BadRecord]) -> list[T]:
    """The records that parsed, in order."""
    return [item for item in items if not isinstance(item, BadRecord)]


def bad(items: Sequence[object]) -> list[UpstreamBadResponse]:
    """The errors of the records that did not parse, in order."""
    return [item.error for item in items if isinstance(item, BadRecord)]
