"""Invoiced's queries and mutations: `task`, `tasks`, create, update, toggle, set and delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.inputs import id_within, instant_within
from gateway.api.ordering import ORDER_BY, SORT_DEPRECATION, Direction, sort_keys
from gateway.api.relay import (
    FIRST,
    Connection,
    SortOrder,
    connection_from_page,
    empty_page,
    offset_window,
    read_window,
)
from gateway.api.writes import Attempt, TwoStates
from gateway.core.errors import BadUserInput, NotFound, UpstreamBadResponse
from gateway.core.ids import expect_id
from gateway.core.records import BadRecord, good
from gateway.core.types import Page, SortDirection
from gateway.state.idempotency import KEY_DESCRIPTION, fingerprint

from ..loaders import KEY
from ..models import (
    DEFAULT_SORT,
    EARLIEST_TIME,
    LATEST_TIME,
    MAX_ID,
    NAME_MAX,
    Action,
    InvoicedTask,
    SortField,
    TaskChanges,
    TaskQuery,
)
from ..vendor import INVOICED
from .types import TYPE_NAME, Task, TaskAction, TaskSortField, require_task, task_key


@strawberry.input(description="Exact-match filters, applied by Invoiced.")
class TaskFilter:
    action: TaskAction | None = None
    complete: bool | None = None
    customer_id: int | None = None
    user_id: int | None = None


@strawberry.input(description="Deprecated: the shape of `orderBy`'s `TaskOrder` replaces it.")
class TaskSort:
    field: TaskSortField
    order: SortOrder = SortOrder.ASC


@strawberry.input(description="One sort key; Invoiced sorts by several, in the order given.")
class TaskOrder:
    field: TaskSortField
    direction: Direction = Direction.ASC


def _wire_action(action: TaskAction | None) -> Action | None:
    # The client sends the action's wire name; the GraphQL enum names it alone.
    return Action[action.name] if action else None


def _due(value: datetime | None) -> datetime | None:
    # Invoiced stores instants; a time without an offset would take the server's zone,
    # and one outside the unix seconds it holds would be written and never read back.
    return instant_within(value, "dueDate", EARLIEST_TIME, LATEST_TIME)


def _id(value: int | None, field: str) -> int | None:
    return id_within(value, field, MAX_ID)


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise BadUserInput("`name` must not be blank.", field="name")
    if len(stripped) > NAME_MAX:
        raise BadUserInput(f"`name` must be at most {NAME_MAX} characters.", field="name")
    return stripped


@strawberry.input
class CreateTaskInput:
    name: str
    action: TaskAction
    due_date: datetime
    customer_id: int | None = None
    user_id: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=KEY_DESCRIPTION + " Invoiced also gets an Idempotency-Key derived from "
        "it and the input.",
    )


@strawberry.input(description="Fields left out or null stay as they are.")
class UpdateTaskInput:
    id: strawberry.ID
    name: str | None = None
    action: TaskAction | None = None
    due_date: datetime | None = None
    user_id: int | None = None
    complete: bool | None = None


@strawberry.type
class TaskPayload:
    task: Task


@strawberry.type
class DeleteTaskPayload:
    deleted_id: strawberry.ID


@strawberry.type
class InvoicedQuery:
    @strawberry.field(description="One Invoiced task; null with a NOT_FOUND error if absent.")
    async def task(self, info: Info[Context, None], id: strawberry.ID) -> Task | None:
        task = await require_task(info.context, id)
        return Task.from_model(task)

    @strawberry.field(description="Invoiced tasks, filtered and sorted by Invoiced itself.")
    async def tasks(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: str | None = None,
        filter: TaskFilter | None = None,
        sort: Annotated[
            list[TaskSort] | None, strawberry.argument(deprecation_reason=SORT_DEPRECATION)
        ] = None,
        order_by: Annotated[
            list[TaskOrder] | None, strawberry.argument(description=ORDER_BY)
        ] = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task] | None:
        paging = offset_window(first, after, last, before)
        criteria = filter or TaskFilter()
        legacy = [(s.field.name, s.order is SortOrder.DESC) for s in sort] if sort else None
        keys = sort_keys(order_by, legacy, one_key=False, vendor=INVOICED.label)
        order = tuple(
            (SortField[name], SortDirection.DESC if descending else SortDirection.ASC)
            for name, descending in keys
        )
        query = TaskQuery(
            action=_wire_action(criteria.action),
            complete=criteria.complete,
            customer_id=_id(criteria.customer_id, "filter.customerId"),
            user_id=_id(criteria.user_id, "filter.userId"),
            sort=order or DEFAULT_SORT,
        )
        context = info.context
        adapter = context.adapters.of(KEY)

        async def fetch(offset: int, limit: int) -> Page[InvoicedTask | BadRecord]:
            return await adapter.list_tasks(query, offset=offset, limit=limit)

        async def count() -> int:
            # Invoiced reports the total with every list page: one row's page reads it.
            total = (await fetch(0, 1)).total
            if total is None:
                raise UpstreamBadResponse(INVOICED, "a task list came without its total")
            return total

        page = await read_window(paging, fetch, count, empty_page(paging))
        loader = context.loaders.of(KEY).task
        for item in good(page.items):
            loader.prime(item.id, item)
        return connection_from_page(page, Task.from_model)


def _completion(context: Context, raw_id: str) -> TwoStates[InvoicedTask]:
    """A task's completion, as Invoiced reads and sets it."""
    task_id = task_key(expect_id(raw_id, INVOICED, TYPE_NAME))

    async def read() -> InvoicedTask:
        # From Invoiced itself, not the operation's loader: it decides a write.
        task = await context.adapters.of(KEY).get_task(task_id)
        if task is None:
            raise NotFound(f"No Task with id {raw_id!r}.", vendor=INVOICED)
        return task

    async def set_complete(complete: bool) -> InvoicedTask:
        changes = TaskChanges(complete=complete)
        task = await context.adapters.of(KEY).update_task(task_id, changes)
        context.loaders.of(KEY).task.clear(task_id).prime(task_id, task)
        return task

    return TwoStates(INVOICED, task_id, read, state_of=lambda task: task.complete, set=set_complete)


@strawberry.type
class InvoicedMutation:
    @strawberry.mutation(description="Create an Invoiced task.")
    async def create_task(
        self, info: Info[Context, None], input: CreateTaskInput
    ) -> TaskPayload | None:
        changes = TaskChanges(
            name=_name(input.name),
            action=_wire_action(input.action),
            due_date=_due(input.due_date),
            customer_id=_id(input.customer_id, "customerId"),
            user_id=_id(input.user_id, "userId"),
        )
        context = info.context
        key = input.idempotency_key
        client = context.access.principal.key
        # Invoiced replays a key for longer than the gateway's window, so it gets a key
        # bound to the client and the input too: another client's same key, or a key
        # reused for other input after the window, creates a task instead of being
        # answered with the old one.
        invoiced_key = fingerprint(client, key, changes) if key else None

        async def create(attempt: Attempt) -> InvoicedTask:
            # Invoiced's own Idempotency-Key resolves a retry in doubt (even after the
            # first attempt's process died): posting again with the same key is
            # answered with the task the first attempt created, never a second one.
            await attempt.intend(invoiced_key)
            task = await context.adapters.of(KEY).create_task(changes, idempotency_key=invoiced_key)
            context.loaders.of(KEY).task.prime(task.id, task)
            return task

        task = await context.idempotency.run(
            "createTask", key, fingerprint(changes), create, vendor=INVOICED, client=client
        )
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(description="Change an Invoiced task.")
    async def update_task(
        self, info: Info[Context, None], input: UpdateTaskInput
    ) -> TaskPayload | None:
        key = task_key(expect_id(input.id, INVOICED, TYPE_NAME))
        changes = TaskChanges(
            name=_name(input.name),
            action=_wire_action(input.action),
            due_date=_due(input.due_date),
            user_id=_id(input.user_id, "userId"),
            complete=input.complete,
        )
        task = await info.context.adapters.of(KEY).update_task(key, changes)
        info.context.loaders.of(KEY).task.clear(key).prime(key, task)
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(description="Flip an Invoiced task between complete and open.")
    async def toggle_task_completion(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=KEY_DESCRIPTION)
        ] = None,
    ) -> TaskPayload | None:
        context = info.context
        task = await context.idempotency.toggle(
            "toggleTaskCompletion",
            idempotency_key,
            _completion(context, id),
            client=context.access.principal.key,
        )
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(
        description="Mark an Invoiced task complete (true) or open (false); a task already "
        "in that state is returned without a write, so retrying is always safe."
    )
    async def set_task_completed(
        self, info: Info[Context, None], id: strawberry.ID, completed: bool
    ) -> TaskPayload | None:
        context = info.context
        task = await context.idempotency.set_state(_completion(context, id), completed)
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(description="Delete an Invoiced task.")
    async def delete_task(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteTaskPayload | None:
        key = task_key(expect_id(id, INVOICED, TYPE_NAME))
        await info.context.adapters.of(KEY).delete_task(key)
        info.context.loaders.of(KEY).task.clear(key)
        return DeleteTaskPayload(deleted_id=id)
