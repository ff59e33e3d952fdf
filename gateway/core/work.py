"""Actionable work across vendors: one sorted stream merged from many.

Each vendor adapter that holds actionable items offers a :class:`WorkSource`:
batches of :class:`WorkRecord`, already filtered and in the query's order, each
batch naming the upstream position of the next. What a vendor's API can filter
or sort is pushed down by its adapter; the rest it does itself with
:meth:`WorkQuery.matches` and :meth:`WorkQuery.sort_key`, so every source hands
the merge the same order.

:func:`merge` is a k-way merge over the sources that fetches first batches
concurrently and further batches only when a source's buffer runs dry, so a
page costs only the upstream pages it needs. Its :class:`MergeState` records,
per vendor, the batch position and how many of that batch's records were
consumed, so the next page resumes there instead of re-reading earlier pages.

A source that streams upstream pages names each page it has read by its number
and a token for the read kept in ``gateway.state.work_snapshots`` (``"3.<token>"``), so
the unread rest of that page comes back on the next page of the list without
asking the vendor again. The records themselves cannot ride in the cursor
(a vendor's records may be unbounded and have no read by id), so the cursor
stays a few dozen bytes; where the kept page is gone (expired, another process
without a shared store, a write) the page number and offset still resume it, at one
re-read.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.core.errors import BadUserInput, GatewayError, UpstreamBadResponse, UpstreamUnavailable
from gateway.core.types import Vendor

logger = logging.getLogger("gateway.work")


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
    page reaches that tail (see :func:`merge`).
    """

    vendor: Vendor

    @property
    def sorts_without_values(self) -> frozenset[WorkSort]: ...

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch: ...


@dataclass(frozen=True, slots=True)
class SourceState:
    """Where a vendor's stream resumes: a batch position and records already taken from it."""

    position: str | None
    skip: int = 0


# Upstream batches one source may cost one page of the merged list.
MAX_BATCHES_PER_SOURCE = 10

# A vendor absent from a MergeState has not started; None means it is exhausted.
MergeState = dict[Vendor, SourceState | None]


@dataclass
class MergeResult:
    records: list[WorkRecord]
    # Where the list resumes after each record; the last one is also where it
    # resumes after the page, with every page read since that record accounted for.
    states: list[MergeState]
    has_next: bool
    failures: dict[Vendor, GatewayError] = field(default_factory=dict)
    # Where the list resumes after this page, even when it has no records.
    end_state: MergeState = field(default_factory=dict)
    # Records the vendors sent that could not be parsed, met by this page's reads.
    bad_records: list[UpstreamBadResponse] = field(default_factory=list)


@dataclass
class _Stream:
    source: WorkSource
    resume: SourceState
    # All its records lack a value for the sort key, so they all sort last.
    deferred: bool = False
    loaded: bool = False
    buffer: list[WorkRecord] = field(default_factory=list)
    position: str | None = None
    next_position: str | None = None
    taken: int = 0
    failed: bool = False
    bad_records: list[UpstreamBadResponse] = field(default_factory=list)

    async def load(self, query: WorkQuery, position: str | None, skip: int) -> None:
        batch = await self.source.work_batch(query, position)
        self.bad_records.extend(batch.bad_records)
        self.loaded = True
        self.position = batch.position if batch.position is not None else position
        self.taken = skip
        self.buffer = batch.records[skip:]
        self.next_position = batch.next_position

    @property
    def bound(self) -> tuple[int, str]:
        """Below every key of a deferred source's records (see WorkQuery.sort_key)."""
        return (1, self.source.vendor.value)

    def reachable(self, head: tuple[Any, ...] | None) -> bool:
        """Whether this stream, not asked yet, may hold a record before ``head``."""
        if self.loaded or self.failed:
            return False
        return not self.deferred or head is None or self.bound < head

    def snapshot(self) -> SourceState | None:
        # A failed vendor keeps its last good position so the next page retries it;
        # one never asked on this page resumes where it was (perhaps not started).
        if self.failed or not self.loaded:
            return self.resume
        if self.buffer:
            self.resume = SourceState(self.position, self.taken)
        elif self.next_position is not None:
            self.resume = SourceState(self.next_position, 0)
        else:
            return None
        return self.resume

    @property
    def more(self) -> bool:
        # A failed vendor's items are still ahead: the cursor keeps its place, so
        # the list goes on until a page has read it to the end.
        return self.failed or bool(self.buffer) or self.next_position is not None


def _failure(vendor: Vendor, exc: Exception) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    logger.error("%s work source failed unexpectedly", vendor.value, exc_info=exc)
    return UpstreamUnavailable(vendor, "failed unexpectedly")


async def merge(
    sources: Sequence[WorkSource], query: WorkQuery, state: MergeState, limit: int
) -> MergeResult:
    """The next ``limit`` records of the merged list after ``state``.

    Sources are asked concurrently, except those deferred: a source whose records
    all lack the sort key's value sorts after every record that has one, so it is
    first asked when the page reaches its place (the other sources ran out or
    failed, or their next record already sorts after its bound) with room left,
    or to tell whether a full page has a next one. Until then it costs nothing
    and its cursor state stays where it was (not started, on a first page).
    """
    failures: dict[Vendor, GatewayError] = {}
    streams: list[_Stream] = []
    finished: MergeState = {}
    for source in sources:
        resume = state.get(source.vendor, SourceState(None))
        if resume is None:
            finished[source.vendor] = None
        else:
            deferred = query.sort in source.sorts_without_values
            streams.append(_Stream(source, resume, deferred))

    def fail(stream: _Stream, exc: Exception) -> None:
        failures[stream.source.vendor] = _failure(stream.source.vendor, exc)
        stream.failed, stream.buffer, stream.next_position = True, [], None

    async def load_first(starting: list[_Stream]) -> None:
        outcomes = await asyncio.gather(
            *(s.load(query, s.resume.position, s.resume.skip) for s in starting),
            return_exceptions=True,
        )
        for stream, outcome in zip(starting, outcomes, strict=True):
            if isinstance(outcome, BadUserInput):
                raise outcome  # a position the client forged or mangled, not a vendor failure
            if isinstance(outcome, Exception):
                fail(stream, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome

    await load_first([s for s in streams if s.reachable((0,))])

    def snapshot() -> MergeState:
        state: MergeState = dict(finished)
        for stream in streams:
            state[stream.source.vendor] = stream.snapshot()
        return state

    def result(has_next: bool) -> MergeResult:
        end = snapshot()
        if states:
            # Pages read after the last record (filtered empty) are behind the
            # cursor too, or the next page would read them again.
            states[-1] = end
        bad = [error for stream in streams for error in stream.bad_records]
        return MergeResult(records, states, has_next, failures, end, bad)

    records: list[WorkRecord] = []
    states: list[MergeState] = []
    loads = dict.fromkeys((s.source.vendor for s in streams), 1)
    while len(records) < limit:
        # Only a source whose buffer ran dry costs another upstream page.
        for stream in streams:
            while stream.loaded and not stream.buffer and stream.next_position is not None:
                vendor = stream.source.vendor
                if loads[vendor] >= MAX_BATCHES_PER_SOURCE:
                    # A filter that a vendor's pages keep failing must not walk its whole
                    # list in one request: stop here; the cursor resumes where this ended.
                    return result(True)
                loads[vendor] += 1
                try:
                    await stream.load(query, stream.next_position, 0)
                except Exception as exc:  # a vendor failing mid-way drops out, others go on
                    fail(stream, exc)
        candidates = [s for s in streams if s.buffer]
        best = min(candidates, key=lambda s: query.sort_key(s.buffer[0])) if candidates else None
        head = query.sort_key(best.buffer[0]) if best is not None else None
        reached = [s for s in streams if s.reachable(head)]
        if reached:
            # The page reached a deferred source's place. They are asked one at a time,
            # in their order: the first may fill the page, and the next is not asked.
            await load_first([min(reached, key=lambda s: s.bound)])
            continue
        if best is None:
            break
        records.append(best.buffer.pop(0))
        best.taken += 1
        states.append(snapshot())
    while unasked := [s for s in streams if s.reachable(None)]:
        if any(s.more for s in streams if s not in unasked):
            break
        # The page is full and only deferred sources are left: whether the list goes
        # on is theirs to say. What they read is kept, so the next page reads it once.
        await load_first([min(unasked, key=lambda s: s.bound)])
    return result(any(s.more or s.reachable(None) for s in streams))
