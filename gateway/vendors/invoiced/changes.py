"""Invoiced's delta read, for the change poller (gateway.state.polling).

The cheapest read that shows changes: the first page of tasks sorted by
``updated_at desc`` (one call of up to 100 tasks). Invoiced moves ``updated_at`` on
every edit, the API's and its dashboard's, so a task changed since the last round
is on that page with a newer ``updated_at``; one created since then also has a
``created_at`` past the newest change the last round saw.

Deletions: a task that was on the last round's page and is gone, although its
``updated_at`` still ranks it within the page, was deleted. So deletions are seen
among the 100 most recently changed tasks only; an older task deleted outside the
gateway is not reported (Invoiced has no deleted-records list, and an id sweep would
read every task). Over 100 tasks changed between two rounds: the oldest of those
changes are missed.
"""

from __future__ import annotations

from datetime import datetime

from gateway.core.ids import encode_id
from gateway.core.types import SortDirection
from gateway.state.polling import Cursor, Round, Stamped, newest_first_diff, page_cursor

from .client import InvoicedAdapter
from .models import InvoicedTask, SortField, TaskQuery
from .vendor import INVOICED, TASK_TYPE

PAGE_SIZE = 100
_NEWEST_CHANGED = TaskQuery(sort=((SortField.UPDATED_AT, SortDirection.DESC),))


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _gid(task_id: int) -> str:
    return encode_id(INVOICED, TASK_TYPE, task_id)


class InvoicedChanges:
    def __init__(self, adapter: InvoicedAdapter) -> None:
        self.adapter = adapter

    async def read(self, cursor: Cursor | None) -> Round:
        page = await self.adapter.list_tasks(_NEWEST_CHANGED, offset=0, limit=PAGE_SIZE)
        stamped = [
            Stamped(
                encode_id(INVOICED, TASK_TYPE, t.id), _stamp(t.updated_at), _stamp(t.created_at)
            )
            for t in page.items
            if isinstance(t, InvoicedTask)
        ]
        full = len(page.items) >= PAGE_SIZE
        changes = newest_first_diff(cursor, stamped, full=full) if cursor is not None else []
        return Round(changes, page_cursor(stamped, full=full), calls=1)
