"""Fakturoid todos in the graph: the `todos` and `todo` queries and the completion mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.inputs import instant_within
from gateway.api.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Connection, PageInfo, nodes_of
from gateway.api.writes import TwoStates
from gateway.core.errors import BadUserInput, NotFound
from gateway.core.ids import expect_id
from gateway.core.records import good
from gateway.state.idempotency import KEY_DESCRIPTION

from ..loaders import KEY
from ..models import FakturoidTodo
from ..paging import Position, find_todos, read_window
from ..vendor import FAKTUROID
from .cursor import decode_cursor, encode_cursor
from .types import HOW_A_TODO_IS_FOUND, SCAN_LIMIT, TYPE_NAME, Todo, todo_key

TODOS_DESCRIPTION = (
    "Fakturoid todos, newest first, read from Fakturoid's pages of 40. A cursor is the "
    "todo's position in those pages, so the next request resumes there without re-reading "
    "earlier pages. `completed` is applied by the gateway (Fakturoid cannot filter on it): "
    f"one request reads at most {SCAN_LIMIT:,} todos looking for matches and, if it runs "
    "out first, ends with hasNextPage true and pageInfo.endCursor at the last todo read. "
    "Fakturoid reports no totals, so totalCount is null, and hasNextPage is true after a "
    "full page even when the next one turns out empty. Todos created between requests "
    "shift Fakturoid's pages, so a todo may be seen twice."
)


def _page_size(first: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}.", field="first")
    return size


def _since(since: datetime | None) -> datetime | None:
    # A moment without an offset would be read in the account's zone by Fakturoid and
    # in whatever zone the client meant by the client: refused rather than guessed.
    if since is not None and since.utcoffset() is None:
        raise BadUserInput(
            "`since` needs a UTC offset, e.g. 2025-08-25T10:55:14+02:00.", field="since"
        )
    # Fakturoid reads ISO 8601 [doc]; a moment outside years 1-9999 in UTC is not one.
    return instant_within(since, "since")


@strawberry.type
class TodoPayload:
    todo: Todo


@strawberry.type
class FakturoidQuery:
    @strawberry.field(description=TODOS_DESCRIPTION)
    async def todos(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Only todos created after this moment (with a UTC "
                "offset), as Fakturoid's own `since`."
            ),
        ] = None,
        completed: Annotated[
            bool | None,
            strawberry.argument(description="Only completed (true) or only open (false) todos."),
        ] = None,
    ) -> Connection[Todo] | None:
        size = _page_size(first)
        since = _since(since)
        start = decode_cursor(after, since).following() if after else Position(1, 0)
        loaders = info.context.loaders
        pages = loaders.of(KEY).todo_page

        def keep(todo: FakturoidTodo) -> bool:
            return completed is None or todo.completed is completed

        window = await read_window(lambda number: pages.load((number, since)), start, size, keep)
        todo_loader = loaders.of(KEY).todo
        for todo in good([located.todo for located in window.items]):
            todo_loader.prime(todo.id, todo)
        positions = [located.position for located in window.items]

        def cursor_at(index: int) -> str:
            return encode_cursor(positions[index], since)

        end = window.resume_after
        return Connection(
            nodes=nodes_of([located.todo for located in window.items], Todo.from_model),
            page_info=PageInfo(
                has_next_page=window.has_more,
                has_previous_page=after is not None,
                start_cursor=cursor_at(0) if positions else None,
                end_cursor=encode_cursor(end, since) if end else None,
            ),
            total_count=None,
            cursor_at=cursor_at,
        )

    @strawberry.field(
        description="One Fakturoid todo by id; null with NOT_FOUND if absent. "
        + HOW_A_TODO_IS_FOUND
    )
    async def todo(self, info: Info[Context, None], id: strawberry.ID) -> Todo | None:
        key = todo_key(expect_id(id, FAKTUROID, TYPE_NAME))
        todo = await info.context.loaders.of(KEY).todo.load(key)
        if todo is None:
            raise NotFound(
                f"No Todo with id {id!r} among the {SCAN_LIMIT:,} newest todos.",
                vendor=FAKTUROID,
            )
        return Todo.from_model(todo)


def _completion(context: Context, raw_id: str) -> TwoStates[FakturoidTodo]:
    """A todo's completion. Fakturoid can only toggle it, so a set or a keyed toggle
    reads the todo first and toggles only if it is in the other state."""
    todo_id = todo_key(expect_id(raw_id, FAKTUROID, TYPE_NAME))

    async def read() -> FakturoidTodo:
        # Its pages are read afresh, not through the operation's loaders, since this
        # read decides a write.
        adapter = context.adapters.of(KEY)
        (todo,) = await find_todos(lambda number: adapter.list_page(number), [todo_id])
        if todo is None:
            raise NotFound(
                f"No Todo with id {raw_id!r} among the {SCAN_LIMIT:,} newest todos.",
                vendor=FAKTUROID,
            )
        return todo

    async def flip() -> FakturoidTodo:
        try:
            todo = await context.adapters.of(KEY).toggle_completion(todo_id)
        except NotFound as exc:
            raise NotFound(f"No Todo with id {raw_id!r}.", vendor=FAKTUROID) from exc
        loaders = context.loaders
        loaders.of(KEY).todo.clear(todo_id).prime(todo_id, todo)
        # Cached pages still hold the todo's old state.
        loaders.of(KEY).todo_page.clear_all()
        return todo

    return TwoStates(FAKTUROID, todo_id, read, state_of=lambda todo: todo.completed, flip=flip)


@strawberry.type
class FakturoidMutation:
    @strawberry.mutation(
        description="Complete an open Fakturoid todo or reopen a completed one, and return "
        "it; the only change Fakturoid allows on todos. An unknown id gives NOT_FOUND. "
        "With an idempotency key the todo is read first (as `todo` reads it), so the "
        "state aimed for is known and a retry never flips it back."
    )
    async def toggle_todo_completion(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=KEY_DESCRIPTION)
        ] = None,
    ) -> TodoPayload | None:
        context = info.context
        todo = await context.idempotency.toggle(
            "toggleTodoCompletion",
            idempotency_key,
            _completion(context, id),
            client=context.access.principal.key,
        )
        return TodoPayload(todo=Todo.from_model(todo))

    @strawberry.mutation(
        description="Complete (true) or reopen (false) a Fakturoid todo. Fakturoid can only "
        "toggle, so the todo is read first (as `todo` reads it) and toggled only when it "
        "is in the other state: retrying is always safe."
    )
    async def set_todo_completed(
        self, info: Info[Context, None], id: strawberry.ID, completed: bool
    ) -> TodoPayload | None:
        context = info.context
        todo = await context.idempotency.set_state(_completion(context, id), completed)
        return TodoPayload(todo=Todo.from_model(todo))
