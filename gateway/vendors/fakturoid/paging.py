"""Walking Fakturoid's numbered pages: windows of todos and lookups by id.

Fakturoid pages hold 40 todos, newest first, report no totals and end with a short
(or empty) page; there is no endpoint for one todo. Both walks here read pages
through a caller-supplied loader, so the GraphQL layer's per-operation page cache
decides what is fetched, and a page is never read twice in one operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from gateway.core.records import BadRecord, good

from .models import PAGE_SIZE, FakturoidTodo, TodoPage

PageLoader = Callable[[int], Awaitable[TodoPage]]

# How many upstream pages one lookup or one filtered window may read: 50 pages are the
# 2,000 newest todos, and a sixth of a minute's rate limit (400 requests a minute).
MAX_SCAN_PAGES = 50


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a todo sits upstream: page number (from 1) and index in that page."""

    page: int
    index: int

    def following(self) -> Position:
        if self.index + 1 >= PAGE_SIZE:
            return Position(self.page + 1, 0)
        return Position(self.page, self.index + 1)


@dataclass(frozen=True, slots=True)
class Located:
    todo: FakturoidTodo | BadRecord
    position: Position


@dataclass(frozen=True, slots=True)
class Window:
    """Matching todos in upstream order, and whether more may follow.

    ``resume_after`` is where the next window starts from: the last todo returned, or,
    when the page budget ran out first, the last todo examined.
    """

    items: list[Located]
    has_more: bool
    resume_after: Position | None


async def read_window(
    load_page: PageLoader,
    start: Position,
    size: int,
    keep: Callable[[FakturoidTodo], bool],
    *,
    max_pages: int = MAX_SCAN_PAGES,
) -> Window:
    """Up to ``size`` todos satisfying ``keep``, from ``start`` on.

    A page is read only to collect todos, never just to learn whether another one
    exists: once the window is full, ``has_more`` is true if the page in hand holds a
    further match or is a full page (whose successor may, rarely, turn out empty).
    """
    items: list[Located] = []
    position = start
    for _ in range(max_pages):
        page = await load_page(position.page)
        for index in range(position.index, len(page.items)):
            todo = page.items[index]
            # A todo that could not be read cannot be filtered: it is shown, as an error.
            if not isinstance(todo, BadRecord) and not keep(todo):
                continue
            if len(items) == size:
                return Window(items, True, items[-1].position)
            items.append(Located(todo, Position(page.number, index)))
        if page.is_last:
            return Window(items, False, items[-1].position if items else None)
        if len(items) == size:
            return Window(items, True, items[-1].position)
        position = Position(page.number + 1, 0)
    # Out of budget before the window filled: the client continues from the last page read.
    return Window(items, True, Position(position.page - 1, PAGE_SIZE - 1))


async def find_todos(
    load_page: PageLoader, ids: Sequence[int], *, max_pages: int = MAX_SCAN_PAGES
) -> list[FakturoidTodo | None]:
    """The todo for each id (None where absent) among the ``max_pages`` newest pages,
    read in order and only until every id is found or the list ends."""
    wanted = set(ids)
    found: dict[int, FakturoidTodo] = {}
    for number in range(1, max_pages + 1):
        if len(found) == len(wanted):
            break
        page = await load_page(number)
        found.update((todo.id, todo) for todo in good(page.items) if todo.id in wanted)
        if page.is_last:
            break
    return [found.get(todo_id) for todo_id in ids]
