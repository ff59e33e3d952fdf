"""Where the merged work list resumes: per vendor, after each record of a page.

A cursor holds a :data:`MergeState`: per vendor, the position of an upstream batch
and how many of its records were already taken (a :class:`SourceState`), or None
once the vendor's stream is exhausted. Every record of a page has its own, but
most requests read only the page's last one (``pageInfo.endCursor``), so the merge
does not build a state per record: it keeps a :class:`ResumeLog` of what moved
each stream (a batch read, a record taken, a failure), and :class:`ResumePoints`
replays it when a record's state is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import overload

from gateway.core.types import Vendor


@dataclass(frozen=True, slots=True)
class SourceState:
    """Where a vendor's stream resumes: a batch position and records already taken from it."""

    position: str | None
    skip: int = 0


# A vendor absent from a MergeState has not started; None means it is exhausted.
MergeState = dict[Vendor, SourceState | None]


@dataclass(frozen=True, slots=True)
class _Read:
    """A batch a stream read, after ``at`` records of the page were taken."""

    at: int
    stream: int
    position: str | None
    skip: int
    # Records of the batch after those skipped.
    size: int
    next_position: str | None


@dataclass(frozen=True, slots=True)
class _Failure:
    """A stream whose vendor failed, after ``at`` records of the page were taken."""

    at: int
    stream: int


@dataclass(slots=True)
class _Place:
    """One stream's place while the log is replayed."""

    # Where it resumes while it is not being read: not asked yet, or failed.
    resume: SourceState | None
    reading: bool = False
    position: str | None = None
    taken: int = 0
    left: int = 0
    next_position: str | None = None
    # Where it stood after the last record before the events of ``settled_at``.
    settled: SourceState | None = None
    settled_at: int = -1

    def state(self) -> SourceState | None:
        if not self.reading:
            return self.resume
        if self.left:
            return SourceState(self.position, self.taken)
        if self.next_position is not None:
            return SourceState(self.next_position, 0)
        return None

    def settle(self, at: int) -> None:
        if self.settled_at != at:
            self.settled, self.settled_at = self.state(), at

    def read(self, event: _Read) -> None:
        self.settle(event.at)
        self.reading, self.position, self.taken = True, event.position, event.skip
        self.left, self.next_position = event.size, event.next_position

    def fail(self, event: _Failure) -> None:
        # A failed vendor resumes where it stood after the page's last record before
        # the failure, so the next page retries from its last good position.
        self.settle(event.at)
        self.reading, self.resume = False, self.settled

    def take(self) -> None:
        self.taken += 1
        self.left -= 1


class ResumeLog:
    """What moved each stream during a page, in order; streams are named by index."""

    def __init__(self, finished: Sequence[Vendor], streams: Sequence[tuple[Vendor, SourceState]]):
        self._finished = finished
        self._streams = streams
        self._events: list[_Read | _Failure] = []
        # The stream of each record taken, in the page's order.
        self._taken: list[int] = []

    def read(
        self, stream: int, position: str | None, skip: int, size: int, next_position: str | None
    ) -> None:
        self._events.append(_Read(len(self._taken), stream, position, skip, size, next_position))

    def failed(self, stream: int) -> None:
        self._events.append(_Failure(len(self._taken), stream))

    def took(self, stream: int) -> None:
        self._taken.append(stream)

    def points(self) -> ResumePoints:
        return ResumePoints(self)

    def replay(self) -> Iterator[list[_Place]]:
        """The streams' places after each record taken, then after the page's end.

        The same list is yielded each time, changed in place.
        """
        places = [_Place(start) for _, start in self._streams]
        events = iter(self._events)
        event = next(events, None)
        for at, stream in enumerate(chain(self._taken, (None,))):
            # Events logged after ``at`` records: before the next record is taken.
            while event is not None and event.at <= at:
                if isinstance(event, _Read):
                    places[event.stream].read(event)
                else:
                    places[event.stream].fail(event)
                event = next(events, None)
            if stream is not None:
                places[stream].take()
            yield places

    def state_of(self, places: list[_Place]) -> MergeState:
        state: MergeState = dict.fromkeys(self._finished)
        for (vendor, _), place in zip(self._streams, places, strict=True):
            state[vendor] = place.state()
        return state

    @property
    def records(self) -> int:
        return len(self._taken)


class ResumePoints(Sequence[MergeState]):
    """Where the list resumes after each record of a page, built when read.

    The last one is also where it resumes after the page (:attr:`end`): pages read
    after the last record (filtered empty, say) are behind the cursor too, or the
    next page would read them again.
    """

    def __init__(self, log: ResumeLog) -> None:
        self._log = log
        *_, places = log.replay()
        self.end = log.state_of(places)

    def __len__(self) -> int:
        return self._log.records

    @overload
    def __getitem__(self, index: int) -> MergeState: ...

    @overload
    def __getitem__(self, index: slice) -> list[MergeState]: ...

    def __getitem__(self, index: int | slice) -> MergeState | list[MergeState]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = range(len(self))[index]  # raises IndexError as a list does
        if position == len(self) - 1:
            return self.end
        for at, places in enumerate(self._log.replay()):
            if at == position:
                return self._log.state_of(places)
        raise AssertionError("the replay yields a state per record")

    def __iter__(self) -> Iterator[MergeState]:
        last = len(self) - 1
        for _, places in zip(range(last), self._log.replay(), strict=False):
            yield self._log.state_of(places)
        if last >= 0:
            yield self.end
