"""Actionable work across vendors: what each vendor's work source hands the merge.

Each vendor adapter that holds actionable items offers a :class:`WorkSource`:
batches of :class:`WorkRecord`, already filtered and in the query's order, each
batch naming the upstream position of the next. What a vendor's API can filter
or sort is pushed down by its adapter; the rest it does itself with
:meth:`WorkQuery.matches` and :meth:`WorkQuery.sort_key`, so every source hands
the merge (``gateway.core.work``) the same order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gateway.core.errors import UpstreamBadResponse
from gateway.core.types import Vendor


class WorkSort(enum.Enum):
    DUE_AT = "due_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class WorkRecord:
    vendor: Vendor
    key: str
    title: str
    completed: bool
    due_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    url: str | None
    item: Any
    text: str = ""


@dataclass(frozen=True, slots=True)
class WorkQuery:
    sort: WorkSort = WorkSort.DUE_AT
    descending: bool = False
    completed: bool | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    search: str | None = None

    @property
    def needs_due_date(self) -> bool:
        """Only records with a due date can match: sources without them can stop early."""
        return self.due_before is not None or self.due_after is not None

    def matches(self, record: WorkRecord) -> bool:
        if self.completed is not None and record.completed != self.completed:
            return False
        due = record.due_at
        if self.due_before is not None and (due is None or due >= self.due_before):
            return False
        if self.due_after is not None and (due is None or due <= self.due_after):
            return False
        if self.search:
            needle = self.search.casefold()
            return needle in record.title.casefold() or needle in record.text.casefold()
        return True

    def sort_key(self, record: WorkRecord) -> tuple[Any, ...]:
        """Records with no value sort last in either direction; ties break on vendor,
        then newest first, then key.

        Newest first among records lacking the value is the order vendors list in
        natively, so a vendor that never has the value can still stream pages; ties
        among equal values break the same way, so a vendor that sorts by the value
        and then by creation time, newest first (Invoiced), hands over every record,
        with a value or without, in this order.
        """
        value: Any = getattr(record, self.sort.value)
        if isinstance(value, str):
            value = value.casefold()
        elif isinstance(value, datetime):
            value = value.timestamp()
        newest = -record.created_at.timestamp() if record.created_at else 0.0
        if value is None:
            return (1, record.vendor.value, newest, record.key)
        if self.descending:
            value = _Reversed(value)
        return (0, value, record.vendor.value, newest, record.key)


@dataclass(frozen=True, slots=True, order=False)
class _Reversed:
    value: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)


@dataclass(frozen=True, slots=True)
class WorkBatch:
    records: list[WorkRecord]
    next_position: str | None
    # Where this same batch is read again, when the source names it anew (a
    # snapshot it keeps, say); otherwise the position it was asked for.
    position: str | None = None
    # Records of this read the source could not parse: they have no sort key and
    # cannot be filtered, so they are left out of the merge and reported instead.
    bad_records: tuple[UpstreamBadResponse, ...] = ()


class WorkSource(Protocol):
    """Sources raise BadUserInput for a position they never handed out.

    ``sorts_without_values`` names the sorts for which none of the source's
    records ever has a value (Zoho tasks have no dates at all, say). Under such a
    sort all its records sort last, so the merge asks the source only once the
    page reaches that tail (see :func:`gateway.core.work.merge`).
    """

    vendor: Vendor

    @property
    def sorts_without_values(self) -> frozenset[WorkSort]: ...

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch: ...
