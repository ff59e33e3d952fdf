"""The Invoiced `Task` type, its enums, and loading a task by global id."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.node import node_resolver
from gateway.api.work import VendorEnum, WorkItem, register_work_item, vendor_enum
from gateway.core.errors import NotFound
from gateway.core.ids import GlobalId, encode_id, expect_id

from ..loaders import KEY
from ..models import InvoicedTask
from ..vendor import INVOICED, TASK_TYPE

TYPE_NAME = TASK_TYPE


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


def task_key(global_id: GlobalId) -> int:
    return global_id.number()


@node_resolver(TYPE_NAME, INVOICED)
async def load_task(context: Context, global_id: GlobalId) -> Task | None:
    task = await context.loaders.of(KEY).task.load(task_key(global_id))
    return Task.from_model(task) if task else None


async def require_task(context: Context, raw_id: str) -> InvoicedTask:
    key = task_key(expect_id(raw_id, INVOICED, TYPE_NAME))
    task = await context.loaders.of(KEY).task.load(key)
    if task is None:
        raise NotFound(f"No Task with id {raw_id!r}.", vendor=INVOICED)
    return task
