"""Zoho Invoice in the graph: the `Project` and `ProjectTask` types, their global
IDs and how `node(id:)` and federation load them (always through a loader)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.node import node_resolver
from gateway.api.relay import Connection, Node, connection_from_page, window
from gateway.api.work import VendorEnum, WorkItem, register_work_item, vendor_enum
from gateway.core.errors import NotFound
from gateway.core.ids import GlobalId, encode_id, expect_id, numeric_key
from gateway.core.money import money
from gateway.core.records import BadRecord, good
from gateway.core.types import Page

from ..loaders import KEY
from ..models import ZohoProject, ZohoTask
from ..vendor import PROJECT_TASK_TYPE, PROJECT_TYPE, ZOHO


@strawberry.enum(description="Whether a Zoho project takes new time entries.")
class ProjectStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@strawberry.enum(description="How a Zoho project is billed.")
class ProjectBillingType(enum.Enum):
    FIXED_COST_FOR_PROJECT = "FIXED_COST_FOR_PROJECT"
    BASED_ON_PROJECT_HOURS = "BASED_ON_PROJECT_HOURS"
    BASED_ON_STAFF_HOURS = "BASED_ON_STAFF_HOURS"
    BASED_ON_TASK_HOURS = "BASED_ON_TASK_HOURS"


def _zoho_number(global_id: GlobalId, value: str) -> str:
    # Zoho IDs are long numeric strings; anything else must never reach a URL path.
    return numeric_key(value, global_id.type_name)


def project_key(raw_id: str) -> str:
    global_id = expect_id(raw_id, ZOHO, PROJECT_TYPE)
    return _zoho_number(global_id, global_id.key)


def task_key(raw_id: str) -> tuple[str, str]:
    global_id = expect_id(raw_id, ZOHO, PROJECT_TASK_TYPE)
    project_id, task_id = global_id.parts(2)
    return _zoho_number(global_id, project_id), _zoho_number(global_id, task_id)


async def _complete(project: Project, info: Info[Context, None], name: str) -> ZohoProject:
    # A list row lacks some fields; they come from the details, through the
    # by-id loader, and only when asked for.
    if name not in project.model.missing:
        return project.model
    return await info.context.loaders.of(KEY).project.load(project.model.id) or project.model


async def _currency_code(root: Project, info: Info[Context, None]) -> str | None:
    return (await _complete(root, info, "currency_code")).currency_code


def _money(info: Info[Context, None], amount: Decimal | None, code: str | None) -> Decimal | None:
    # The record's own currency when it names one, else the organization's (ZOHO_CURRENCY).
    currency = code or info.context.adapters.of(KEY).currency
    return None if amount is None else money(amount, currency)


def _project_rate(root: Project, info: Info[Context, None]) -> Decimal | None:
    # A list row without its currency code is not completed for it: no extra call.
    model = root.model
    code = None if "currency_code" in model.missing else model.currency_code
    return _money(info, model.rate, code)


def _task_rate(root: ProjectTask, info: Info[Context, None]) -> Decimal | None:
    return _money(info, root.rate_amount, None)


async def _unbilled_hours(root: Project, info: Info[Context, None]) -> float | None:
    return (await _complete(root, info, "unbilled_hours")).unbilled_hours


@strawberry.federation.type(keys=["id"], description="A Zoho Invoice project.")
class Project(Node):
    id: strawberry.ID
    zoho_id: str = strawberry.field(description="The project's id in Zoho Invoice.")
    name: str
    code: str | None
    customer_id: str | None = strawberry.field(description="The Zoho customer billed for it.")
    customer_name: str | None
    currency_code: str | None = strawberry.field(resolver=_currency_code)
    description: str | None
    status: ProjectStatus
    billing_type: ProjectBillingType | None = strawberry.field(
        description="Null if Zoho reports a billing type this gateway does not know."
    )
    rate: Decimal | None = strawberry.field(
        resolver=_project_rate,
        description="The project rate; its meaning depends on the billing type. With the "
        "minor units of the project's currency (of ZOHO_CURRENCY when the row lacks it).",
    )
    budget_type: str | None
    total_hours: float | None = strawberry.field(description="Hours logged, in hours.")
    billable_hours: float | None
    unbilled_hours: float | None = strawberry.field(resolver=_unbilled_hours)
    created_at: datetime | None
    updated_at: datetime | None
    url: str = strawberry.field(description="The project in Zoho Invoice's web app.")
    model: strawberry.Private[ZohoProject]

    @classmethod
    def from_model(cls, project: ZohoProject) -> Project:
        return cls(
            id=strawberry.ID(encode_id(ZOHO, PROJECT_TYPE, project.id)),
            zoho_id=project.id,
            name=project.name,
            code=project.code,
            customer_id=project.customer_id,
            customer_name=project.customer_name,
            description=project.description,
            status=ProjectStatus[project.status.name],
            billing_type=(
                ProjectBillingType[project.billing_type.name] if project.billing_type else None
            ),
            budget_type=project.budget_type,
            total_hours=project.total_hours,
            billable_hours=project.billable_hours,
            created_at=project.created_at,
            updated_at=project.updated_at,
            url=project.url,
            model=project,
        )

    @strawberry.field(description="The project's tasks, in the order Zoho lists them.")
    async def tasks(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Connection[ProjectTask] | None:
        offset, limit = window(first, after)
        tasks = await project_tasks(info.context, self.zoho_id)
        page = Page(
            items=tasks[offset : offset + limit],
            offset=offset,
            has_next=offset + limit < len(tasks),
            total=len(tasks),
        )
        return connection_from_page(page, ProjectTask.from_model)

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], id: strawberry.ID
    ) -> Project | None:
        return await load_project(info.context, expect_id(id, ZOHO, PROJECT_TYPE))


@strawberry.federation.type(
    keys=["id"],
    description="A task inside a Zoho Invoice project: billable work that time is logged "
    "against. Zoho has no due dates or completion for these, so those WorkItem fields are "
    "null and `completed` is false.",
)
class ProjectTask(WorkItem):
    id: strawberry.ID
    title: str
    vendor: VendorEnum
    completed: bool
    due_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    url: str | None
    zoho_id: str = strawberry.field(description="The task's id in Zoho Invoice.")
    zoho_project_id: str = strawberry.field(description="Its project's id in Zoho Invoice.")
    project_name: str | None
    name: str
    description: str | None
    customer_id: str | None
    customer_name: str | None
    currency_id: str | None
    rate_amount: strawberry.Private[Decimal | None]
    rate: Decimal | None = strawberry.field(
        resolver=_task_rate,
        description="Hourly rate for the task, with the minor units of the organization's "
        "currency (ZOHO_CURRENCY): a task names only a currency id.",
    )
    budget_hours: float | None
    billed_hours: float | None = strawberry.field(description="Hours already invoiced.")
    logged_hours: float | None = strawberry.field(description="All hours logged on it.")
    unbilled_hours: float | None
    status: str | None = strawberry.field(description="Zoho's task status, e.g. `active`.")
    is_billable: bool | None

    def search_text(self) -> str:
        return self.description or ""

    @classmethod
    def from_model(cls, task: ZohoTask) -> ProjectTask:
        return cls(
            id=strawberry.ID(encode_id(ZOHO, PROJECT_TASK_TYPE, task.project_id, task.id)),
            title=task.name,
            vendor=vendor_enum(ZOHO),
            completed=False,
            due_at=None,
            created_at=None,
            updated_at=None,
            completed_at=None,
            url=task.url,
            zoho_id=task.id,
            zoho_project_id=task.project_id,
            project_name=task.project_name,
            name=task.name,
            description=task.description,
            customer_id=task.customer_id,
            customer_name=task.customer_name,
            currency_id=task.currency_id,
            rate_amount=task.rate,
            budget_hours=task.budget_hours,
            billed_hours=task.billed_hours,
            logged_hours=task.logged_hours,
            unbilled_hours=task.unbilled_hours,
            status=task.status,
            is_billable=task.is_billable,
        )

    @strawberry.field(description="The project the task belongs to.")
    async def project(self, info: Info[Context, None]) -> Project | None:
        project = await info.context.loaders.of(KEY).project.load(self.zoho_project_id)
        return Project.from_model(project) if project else None

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], id: strawberry.ID
    ) -> ProjectTask | None:
        return await load_task(info.context, expect_id(id, ZOHO, PROJECT_TASK_TYPE))


async def project_tasks(context: Context, project_id: str) -> list[ZohoTask | BadRecord]:
    """A project's tasks through the per-request loader, priming the by-id loader."""
    tasks = await context.loaders.of(KEY).project_tasks.load(project_id)
    if tasks is None:
        raise NotFound(f"No Zoho project {project_id}.", vendor=ZOHO)
    by_id = context.loaders.of(KEY).task
    for task in good(tasks):
        by_id.prime((task.project_id, task.id), task)
    return tasks


@node_resolver(PROJECT_TYPE, ZOHO)
async def load_project(context: Context, global_id: GlobalId) -> Project | None:
    key = _zoho_number(global_id, global_id.key)
    project = await context.loaders.of(KEY).project.load(key)
    return Project.from_model(project) if project else None


@node_resolver(PROJECT_TASK_TYPE, ZOHO)
async def load_task(context: Context, global_id: GlobalId) -> ProjectTask | None:
    project_id, task_id = global_id.parts(2)
    key = (_zoho_number(global_id, project_id), _zoho_number(global_id, task_id))
    task = await context.loaders.of(KEY).task.load(key)
    return ProjectTask.from_model(task) if task else None


async def require_project(context: Context, raw_id: str) -> ZohoProject:
    project = await context.loaders.of(KEY).project.load(project_key(raw_id))
    if project is None:
        raise NotFound(f"No Project with id {raw_id!r}.", vendor=ZOHO)
    return project


async def require_task(context: Context, raw_id: str) -> ZohoTask:
    task = await context.loaders.of(KEY).task.load(task_key(raw_id))
    if task is None:
        raise NotFound(f"No ProjectTask with id {raw_id!r}.", vendor=ZOHO)
    return task


register_work_item(ZOHO, ProjectTask.from_model)
