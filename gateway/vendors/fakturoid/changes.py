"""Fakturoid's delta read, for the change poller (gateway.state.polling).

A todo has no ``updated_at``: its fields are ``created_at`` and ``completed_at``, and
``since`` filters on creation. ``since`` would find new todos in one call, but a
todo ticked off or unticked in Fakturoid's app is seen only by reading it, and
there is no single-todo endpoint. So the poller sweeps the pages (40 todos a call,
newest first, a short page ends the list) and compares each todo's ``completed_at``
with the last sweep: creations, completions and reopenings, and deletions (a todo
gone from a whole sweep). A sweep stops at ``MAX_PAGES``; past that, the oldest todos
are not compared and no deletion is reported. Each page is a call that the poller's
pacing counts against GATEWAY_POLL_SHARE of the 400 calls a minute.
"""

from __future__ import annotations

from gateway.core.ids import encode_id
from gateway.state.polling import CREATED, Cursor, Round, versions_diff

from .client import FakturoidAdapter
from .models import FakturoidTodo
from .vendor import FAKTUROID, TODO_TYPE

MAX_PAGES = 50


class FakturoidChanges:
    def __init__(self, adapter: FakturoidAdapter) -> None:
        self.adapter = adapter

    async def read(self, cursor: Cursor | None) -> Round:
        todos, pages, complete = await self._sweep()
        seen = {encode_id(FAKTUROID, TODO_TYPE, t.id): _completion(t) for t in todos}
        newest = max((t.created_at.timestamp() for t in todos), default=0.0)
        before: dict[str, str] = (cursor or {}).get("seen", {})
        changes = versions_diff(before, seen, complete=complete)
        if not complete:
            # Past MAX_PAGES a todo new to this sweep may be an old one not read before:
            # only one created after the newest todo of the last sweep is new.
            since = float((cursor or {}).get("newest", newest))
            changes += [
                (gid, CREATED)
                for gid, todo in zip(seen, todos, strict=True)
                if gid not in before and todo.created_at.timestamp() > since
            ]
            seen = {**before, **seen}
        return Round(changes, {"seen": seen, "newest": newest}, calls=pages)

    async def _sweep(self) -> tuple[list[FakturoidTodo], int, bool]:
        """The todos of pages 1 to MAX_PAGES, the pages read, and whether that was all."""
        todos: list[FakturoidTodo] = []
        for number in range(1, MAX_PAGES + 1):
            page = await self.adapter.list_page(number)
            todos += [todo for todo in page.items if isinstance(todo, FakturoidTodo)]
            if page.is_last:
                return todos, number, True
        return todos, MAX_PAGES, False


def _completion(todo: FakturoidTodo) -> str:
    return todo.completed_at.isoformat() if todo.completed_at else ""
