"""Actionable work across vendors: one sorted stream merged from many.

The records, queries, batches and the source protocol are in
``gateway.core.work_source``, where each cursor resumes in ``gateway.core.work_resume``;
both are re-exported here, where the rest of the gateway names them.

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
import heapq
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from gateway.core.errors import BadUserInput, GatewayError, UpstreamBadResponse, UpstreamUnavailable
from gateway.core.types import Vendor
from gateway.core.work_resume import MergeState, ResumeLog, SourceState
from gateway.core.work_source import WorkBatch, WorkQuery, WorkRecord, WorkSort, WorkSource

__all__ = [
    "MAX_BATCHES_PER_SOURCE",
    "MergeResult",
    "MergeState",
    "SourceState",
    "WorkBatch",
    "WorkQuery",
    "WorkRecord",
    "WorkSort",
    "WorkSource",
    "merge",
]

logger = logging.getLogger("gateway.work")

# Upstream batches one source may cost one page of the merged list.
MAX_BATCHES_PER_SOURCE = 10


@dataclass
class MergeResult:
    records: list[WorkRecord]
    # Where the list resumes after each record; the last one is also where it
    # resumes after the page, with every page read since that record accounted for.
    states: Sequence[MergeState]
    has_next: bool
    failures: dict[Vendor, GatewayError] = field(default_factory=dict)
    # Where the list resumes after this page, even when it has no records.
    end_state: MergeState = field(default_factory=dict)
    # Records the vendors sent that could not be parsed, met by this page's reads.
    bad_records: list[UpstreamBadResponse] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Stream:
    """One source's records during a page; ordered by its next record, for the heap."""

    source: WorkSource
    index: int
    start: SourceState
    # All its records lack a value for the sort key, so they all sort last.
    deferred: bool
    asked: bool = False
    failed: bool = False
    buffer: deque[WorkRecord] = field(default_factory=deque)
    next_position: str | None = None
    # The sort key of the buffer's first record while it has one. Keys end in the
    # vendor and the record's key, so two streams' heads never tie.
    head: tuple[Any, ...] = ()
    reads: int = 1
    bad_records: list[UpstreamBadResponse] = field(default_factory=list)

    def __lt__(self, other: _Stream) -> bool:
        return self.head < other.head

    @property
    def vendor(self) -> Vendor:
        return self.source.vendor

    @property
    def bound(self) -> tuple[int, str]:
        """Below every key of a deferred source's records (see WorkQuery.sort_key)."""
        return (1, self.vendor.value)

    @property
    def dry(self) -> bool:
        """Read, with nothing left to take, and more upstream."""
        return self.asked and not self.buffer and self.next_position is not None

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


class _Merge:
    """One page of the merged list: the streams, the heap of those holding records,
    the deferred streams not asked yet, and what the page took."""

    def __init__(
        self, sources: Sequence[WorkSource], query: WorkQuery, state: MergeState, limit: int
    ) -> None:
        self.query, self.limit = query, limit
        finished = [s.vendor for s in sources if s.vendor in state and state[s.vendor] is None]
        started = [
            (source, resume)
            for source in sources
            if (resume := state.get(source.vendor, SourceState(None))) is not None
        ]
        self.streams = [
            _Stream(source, index, resume, query.sort in source.sorts_without_values)
            for index, (source, resume) in enumerate(started)
        ]
        self.log = ResumeLog(finished, [(source.vendor, resume) for source, resume in started])
        self.heap: list[_Stream] = []
        self.waiting = deque(sorted((s for s in self.streams if s.deferred), key=lambda s: s.bound))
        self.dry: list[_Stream] = []
        self.records: list[WorkRecord] = []
        self.failures: dict[Vendor, GatewayError] = {}

    async def page(self) -> MergeResult:
        await self.ask([s for s in self.streams if not s.deferred])
        while len(self.records) < self.limit:
            if not await self.refill():
                # A filter that a vendor's pages keep failing must not walk its whole
                # list in one request: stop here; the cursor resumes where this ended.
                return self.result(has_next=True)
            if self.reached_a_deferred_stream():
                # Deferred streams are asked one at a time, in their order: the first
                # may fill the page, and the next is not asked.
                await self.ask([self.waiting.popleft()])
                continue
            if not self.heap:
                break
            self.take()
        while self.waiting and not any(s.more for s in self.streams):
            # The page is full and only deferred sources are left: whether the list goes
            # on is theirs to say. What they read is kept, so the next page reads it once.
            await self.ask([self.waiting.popleft()])
        return self.result(has_next=bool(self.waiting) or any(s.more for s in self.streams))

    def reached_a_deferred_stream(self) -> bool:
        """Whether the first deferred stream not asked yet sorts before the next record."""
        if not self.waiting:
            return False
        return not self.heap or self.waiting[0].bound < self.heap[0].head

    async def ask(self, streams: list[_Stream]) -> None:
        """The first batch of each of ``streams``, concurrently, where it resumes."""
        outcomes = await asyncio.gather(
            *(self.read(s, s.start.position, s.start.skip) for s in streams),
            return_exceptions=True,
        )
        for stream, outcome in zip(streams, outcomes, strict=True):
            if isinstance(outcome, BadUserInput):
                raise outcome  # a position the client forged or mangled, not a vendor failure
            if isinstance(outcome, Exception):
                self.fail(stream, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        self.dry.extend(streams)

    async def refill(self) -> bool:
        """Next batches for the streams that ran dry; False once one reached its limit.

        Only a source whose buffer ran dry costs another upstream page.
        """
        for stream in self.dry:
            while stream.dry:
                if stream.reads >= MAX_BATCHES_PER_SOURCE:
                    return False
                stream.reads += 1
                try:
                    await self.read(stream, stream.next_position, 0)
                except Exception as exc:  # a vendor failing mid-way drops out, others go on
                    self.fail(stream, exc)
        self.dry.clear()
        return True

    async def read(self, stream: _Stream, position: str | None, skip: int) -> None:
        batch: WorkBatch = await stream.source.work_batch(self.query, position)
        stream.bad_records.extend(batch.bad_records)
        stream.asked = True
        stream.buffer = deque(islice(batch.records, skip, None))
        stream.next_position = batch.next_position
        read_at = batch.position if batch.position is not None else position
        self.log.read(stream.index, read_at, skip, len(stream.buffer), batch.next_position)
        if stream.buffer:
            stream.head = self.query.sort_key(stream.buffer[0])
            heapq.heappush(self.heap, stream)

    def fail(self, stream: _Stream, exc: Exception) -> None:
        self.failures[stream.vendor] = _failure(stream.vendor, exc)
        stream.failed, stream.next_position = True, None
        stream.buffer.clear()
        self.log.failed(stream.index)

    def take(self) -> None:
        """The heap's first record onto the page."""
        stream = self.heap[0]
        self.records.append(stream.buffer.popleft())
        self.log.took(stream.index)
        if stream.buffer:
            stream.head = self.query.sort_key(stream.buffer[0])
            heapq.heapreplace(self.heap, stream)
        else:
            heapq.heappop(self.heap)
            self.dry.append(stream)

    def result(self, *, has_next: bool) -> MergeResult:
        points = self.log.points()
        bad = [error for stream in self.streams for error in stream.bad_records]
        return MergeResult(self.records, points, has_next, self.failures, points.end, bad)


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
    return await _Merge(sources, query, state, limit).page()
