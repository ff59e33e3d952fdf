"""What work sources keep between pages of the work list, and the positions they hand out.

A source that streams upstream pages names each page it has read by its number
and a token for the read kept in :class:`WorkSnapshots` (``"3.<token>"``), so
the unread rest of that page comes back on the next page of the list without
asking the vendor again. A source that must read everything to sort it keeps
the whole set under a ``"snapshot:<token>"`` position.

Kept reads live in this process (:class:`WorkSnapshots`, bounded) or, when the
gateway shares state through Redis, in the shared store
(``gateway.state.storage.work_snapshots``), so a walk whose pages land on different
processes still reads every vendor page once. :func:`work_snapshots` picks one.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from gateway.core.errors import BadUserInput
from gateway.core.records import BadRecord, bad, good
from gateway.core.work import WorkBatch, WorkQuery, WorkRecord


def _forged() -> BadUserInput:
    return BadUserInput("The `after` cursor is not one this list handed out.", field="after")


_TOKEN = r"[A-Za-z0-9_-]{16}"
# Every position a source hands out: a page number, a page number with the token
# of that page as read, or the token of a whole sorted set.
_POSITION = re.compile(rf"(?P<page>[1-9][0-9]{{0,5}})(?:\.(?P<kept>{_TOKEN}))?|snapshot:{_TOKEN}")


def check_position(position: str | None) -> None:
    """BAD_USER_INPUT unless ``position`` has the form of one a source hands out."""
    if position is not None and _POSITION.fullmatch(position) is None:
        raise _forged()


def _page_and_token(position: str | None, limit: int) -> tuple[int, str | None]:
    """A streamed source's page (1 when starting) and kept-page token, or BAD_USER_INPUT."""
    if position is None:
        return 1, None
    match = _POSITION.fullmatch(position)
    if match is None or match["page"] is None or not 1 <= int(match["page"]) <= limit:
        raise _forged()
    return int(match["page"]), match["kept"]


class KeptWork(Protocol):
    """Where a work source keeps its reads between pages of the list."""

    async def get(self, position: str | None, query: WorkQuery) -> list[WorkRecord] | None: ...

    async def put(self, query: WorkQuery, records: list[WorkRecord]) -> str: ...

    async def get_page(self, token: str, query: WorkQuery, page: int) -> WorkBatch | None: ...

    async def put_page(
        self, query: WorkQuery, page: int, records: list[WorkRecord], next_position: str | None
    ) -> WorkBatch: ...

    async def clear(self) -> None: ...


def new_token() -> str:
    """A token of the form _POSITION accepts (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class _Kept:
    at: float
    query: WorkQuery
    batch: WorkBatch
    page: int | None = None


class WorkSnapshots:
    """What a source has read for the work list, kept a few minutes for later pages.

    Two kinds, bounded separately. A whole sorted set, from a source that must
    read everything to sort it: later pages cost no upstream calls and see a
    consistent set. And each streamed upstream page as read, so the page of
    the list that stops inside it resumes there without reading it again.
    Entries live under random tokens handed out as batch positions and answer
    only the query (and page) they were read for. An expired or unknown token
    (another process, say) just means reading again; a write through the
    gateway clears them all.
    """

    TTL = 300.0
    LIMIT = 32
    # Pages are at most 100 records and every walk has at most one unfinished
    # page per vendor, so many more of them fit than of whole sets.
    PAGE_LIMIT = 256

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sets: OrderedDict[str, _Kept] = OrderedDict()
        self._pages: OrderedDict[str, _Kept] = OrderedDict()

    def _fresh(self, kept: _Kept | None, query: WorkQuery) -> bool:
        return kept is not None and kept.query == query and self._clock() - kept.at <= self.TTL

    async def get(self, position: str | None, query: WorkQuery) -> list[WorkRecord] | None:
        kept = self._sets.get(position or "")
        return kept.batch.records if kept is not None and self._fresh(kept, query) else None

    async def clear(self) -> None:
        """Forget everything, after a write through the gateway changed the source."""
        self._sets.clear()
        self._pages.clear()

    async def put(self, query: WorkQuery, records: list[WorkRecord]) -> str:
        token = f"snapshot:{new_token()}"
        self._store(
            self._sets, self.LIMIT, token, _Kept(self._clock(), query, WorkBatch(records, None))
        )
        return token

    async def get_page(self, token: str, query: WorkQuery, page: int) -> WorkBatch | None:
        kept = self._pages.get(token)
        if kept is None or kept.page != page or not self._fresh(kept, query):
            return None
        self._pages.move_to_end(token)
        return kept.batch

    async def put_page(
        self, query: WorkQuery, page: int, records: list[WorkRecord], next_position: str | None
    ) -> WorkBatch:
        """Keep page ``page`` as read; the batch returned names it by its token."""
        token = new_token()
        batch = WorkBatch(records, next_position, f"{page}.{token}")
        self._store(self._pages, self.PAGE_LIMIT, token, _Kept(self._clock(), query, batch, page))
        return batch

    @staticmethod
    def _store(entries: OrderedDict[str, _Kept], limit: int, token: str, kept: _Kept) -> None:
        entries[token] = kept
        while len(entries) > limit:
            entries.popitem(last=False)


PageReader = Callable[[int], Awaitable[tuple[list[WorkRecord | BadRecord], bool]]]


async def streamed_batch(
    snapshots: KeptWork,
    query: WorkQuery,
    position: str | None,
    read_page: PageReader,
    *,
    limit: int = 100_000,
) -> WorkBatch:
    """One upstream page of a source that pages in the query's order, read once per walk.

    ``read_page(n)`` reads page ``n`` and says whether another follows. The
    batch's position names the page as read, so the merge, resuming inside it,
    gets it back from ``snapshots`` instead of from the vendor.
    """
    page, token = _page_and_token(position, limit)
    if token is not None:
        kept = await snapshots.get_page(token, query, page)
        if kept is not None:
            return kept
    records, more = await read_page(page)
    # Only what parsed is kept; the rest is reported by the read that met it.
    batch = await snapshots.put_page(query, page, good(records), str(page + 1) if more else None)
    return replace(batch, bad_records=tuple(bad(records)))
