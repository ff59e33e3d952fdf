"""Invoiced tasks in the graph: the `Task` type, its queries and mutations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.cost import fixed, list_page
from gateway.api.node import node_resolver
from gateway.api.relay import Connection, SortOrder, connection_from_page, window
from gateway.api.work import VendorEnum, WorkItem, register_work_item, vendor_enum
from gateway.errors import BadUserInput, NotFound
from gateway.idempotency import KEY_DESCRIPTION, Attempt, fingerprint
from gateway.ids import GlobalId, encode_id, expect_id
from gateway.plugin import VendorGraphQL
from gateway.types import SortDirection

from . import INVOICED, PLUGIN
from .models import DEFAULT_SORT, Action, InvoicedTask, SortField, TaskChanges, TaskQuery

TYPE_NAME = "Task"


@strawberry.enum(description="What kind of collection step an Invoiced task is.")
class TaskAction(enum.Enum):
    PHONE = "PHONE"
    LETTER = "LETTER"
    EMAIL = "EMAIL"
    REVIEW = "REVIEW"
    APPROVE_BILL = "APPROVE_BILL"
    APPROVE_VENDOR_CREDIT = "APPROVE_VENDOR_CREDIT"


@strawberry.enum
class TaskSortField(enum.Enum):
    ID = "ID"
    NAME = "NAME"
    DUE_DATE = "DUE_DATE"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    COMPLETED_DATE = "COMPLETED_DATE"


@strawberry.federation.type(keys=["id"], description="An Invoiced collections task.")
class Task(WorkItem):
    id: strawberry.ID
    title: str
    vendor: VendorEnum
    completed: bool
    due_at: datetime | None
    completed_at: datetime | None
    url: str | None
    invoiced_id: int = strawberry.field(description="The task's id in Invoiced.")
    name: str
    action: TaskAction | None = strawberry.field(
        description="Null when Invoiced reports an action this gateway does not know yet."
    )
    customer_id: int | None
    user_id: int | None = strawberry.field(description="The Invoiced user assigned to it.")
    due_date: datetime | None
    complete: bool
    completed_date: datetime | None
    completed_by_user_id: int | None
    chase_step_id: int | None = strawberry.field(
        description="The chasing step that created the task, if any."
    )
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_model(cls, task: InvoicedTask) -> Task:
        return cls(
            id=strawberry.ID(encode_id(INVOICED, TYPE_NAME, task.id)),
            title=task.name,
            vendor=vendor_enum(INVOICED),
            completed=task.complete,
            due_at=task.due_date,
            completed_at=task.completed_date,
            url=task.url,
            invoiced_id=task.id,
            name=task.name,
            action=TaskAction[task.action.name] if task.action else None,
            customer_id=task.customer_id,
            user_id=task.user_id,
            due_date=task.due_date,
            complete=task.complete,
            completed_date=task.completed_date,
            completed_by_user_id=task.completed_by_user_id,
            chase_step_id=task.chase_step_id,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Task | None:
        return await load_task(info.context, expect_id(id, INVOICED, TYPE_NAME))


register_work_item(INVOICED, Task.from_model)


def _task_key(global_id: GlobalId) -> int:
    return global_id.number()


@node_resolver(TYPE_NAME, INVOICED)
async def load_task(context: Context, global_id: GlobalId) -> Task | None:
    task = await context.loaders.of(PLUGIN).task.load(_task_key(global_id))
    return Task.from_model(task) if task else None


async def _require_task(context: Context, raw_id: str) -> InvoicedTask:
    key = _task_key(expect_id(raw_id, INVOICED, TYPE_NAME))
    task = await context.loaders.of(PLUGIN).task.load(key)
    if task is None:
        raise NotFound(f"No Task with id {raw_id!r}.", vendor=INVOICED)
    return task


@strawberry.input(description="Exact-match filters, applied by Invoiced.")
class TaskFilter:
    action: TaskAction | None = None
    complete: bool | None = None
    customer_id: int | None = None
    user_id: int | None = None


@strawberry.input
class TaskSort:
    field: TaskSortField
    order: SortOrder = SortOrder.ASC


def _wire_action(action: TaskAction | None) -> Action | None:
    # The client sends the action's wire name; the GraphQL enum names it alone.
    return Action[action.name] if action else None


def _due(value: datetime | None) -> datetime | None:
    # Invoiced stores instants; a time without an offset would take the server's zone.
    if value is not None and value.tzinfo is None:
        raise BadUserInput("`dueDate` needs a time zone offset.", field="dueDate")
    return value


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise BadUserInput("`name` must not be blank.", field="name")
    if len(stripped) > 255:
        raise BadUserInput("`name` must be at most 255 characters.", field="name")
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
        task = await _require_task(info.context, id)
        return Task.from_model(task)

    @strawberry.field(description="Invoiced tasks, filtered and sorted by Invoiced itself.")
    async def tasks(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        filter: TaskFilter | None = None,
        sort: list[TaskSort] | None = None,
    ) -> Connection[Task] | None:
        offset, limit = window(first, after)
        criteria = filter or TaskFilter()
        order = tuple((SortField[s.field.name], SortDirection[s.order.name]) for s in sort or [])
        query = TaskQuery(
            action=_wire_action(criteria.action),
            complete=criteria.complete,
            customer_id=criteria.customer_id,
            user_id=criteria.user_id,
            sort=order or DEFAULT_SORT,
        )
        context = info.context
        page = await context.adapters.of(PLUGIN).list_tasks(query, offset=offset, limit=limit)
        loader = context.loaders.of(PLUGIN).task
        for item in page.items:
            loader.prime(item.id, item)
        return connection_from_page(page, Task.from_model)


async def _set_completion(context: Context, task_id: int, complete: bool) -> InvoicedTask:
    task = await context.adapters.of(PLUGIN).update_task(task_id, TaskChanges(complete=complete))
    context.loaders.of(PLUGIN).task.clear(task_id).prime(task_id, task)
    return task


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
            customer_id=input.customer_id,
            user_id=input.user_id,
        )
        context = info.context
        key = input.idempotency_key
        # Invoiced replays a key for longer than the gateway's window, so it gets a key
        # bound to the input too: reusing a client key for other input after the window
        # creates a task instead of silently answering with the old one.
        invoiced_key = fingerprint(key, changes) if key else None

        async def create(attempt: Attempt) -> InvoicedTask:
            # A retry after an ambiguous failure just posts again: Invoiced answers
            # the same Idempotency-Key with the task the first attempt created.
            task = await context.adapters.of(PLUGIN).create_task(
                changes, idempotency_key=invoiced_key
            )
            context.loaders.of(PLUGIN).task.prime(task.id, task)
            return task

        task = await context.idempotency.run("createTask", key, fingerprint(changes), create)
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(description="Change an Invoiced task.")
    async def update_task(
        self, info: Info[Context, None], input: UpdateTaskInput
    ) -> TaskPayload | None:
        key = _task_key(expect_id(input.id, INVOICED, TYPE_NAME))
        changes = TaskChanges(
            name=_name(input.name),
            action=_wire_action(input.action),
            due_date=_due(input.due_date),
            user_id=input.user_id,
            complete=input.complete,
        )
        task = await info.context.adapters.of(PLUGIN).update_task(key, changes)
        info.context.loaders.of(PLUGIN).task.clear(key).prime(key, task)
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
        task_id = _task_key(expect_id(id, INVOICED, TYPE_NAME))

        async def complete() -> bool:
            return (await _require_task(context, id)).complete

        async def toggle(attempt: Attempt) -> InvoicedTask:
            return await _set_completion(context, task_id, await attempt.toggled_state(complete))

        run = context.idempotency.run
        task = await run("toggleTaskCompletion", idempotency_key, fingerprint(task_id), toggle)
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(
        description="Mark an Invoiced task complete (true) or open (false); a task already "
        "in that state is returned without a write, so retrying is always safe."
    )
    async def set_task_completed(
        self, info: Info[Context, None], id: strawberry.ID, completed: bool
    ) -> TaskPayload | None:
        current = await _require_task(info.context, id)
        if current.complete is completed:
            return TaskPayload(task=Task.from_model(current))
        task = await _set_completion(info.context, current.id, completed)
        return TaskPayload(task=Task.from_model(task))

    @strawberry.mutation(description="Delete an Invoiced task.")
    async def delete_task(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteTaskPayload | None:
        key = _task_key(expect_id(id, INVOICED, TYPE_NAME))
        await info.context.adapters.of(PLUGIN).delete_task(key)
        info.context.loaders.of(PLUGIN).task.clear(key)
        return DeleteTaskPayload(deleted_id=id)


GRAPHQL = VendorGraphQL(
    query=InvoicedQuery,
    mutation=InvoicedMutation,
    costs={("Query", "tasks"): list_page, ("Query", "task"): fixed(1)},
)
