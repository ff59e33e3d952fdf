"""Zoho Invoice queries and mutations: projects, and tasks inside them.

Input is checked here, before any upstream call, so a request Zoho would refuse
costs nothing and answers BAD_USER_INPUT with the offending field.
"""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
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
from gateway.api.writes import Attempt
from gateway.core.errors import BadUserInput
from gateway.core.ids import numeric_key
from gateway.core.records import BadRecord, good
from gateway.core.types import Page
from gateway.state.idempotency import KEY_DESCRIPTION, fingerprint

from .. import models
from ..loaders import KEY
from ..models import (
    TASK_NAME_MAX,
    ProjectQuery,
    TaskChanges,
    ZohoProject,
    ZohoTask,
)
from ..vendor import ZOHO
from .types import (
    Project,
    ProjectStatus,
    ProjectTask,
    project_key,
    require_project,
    require_task,
    task_key,
)
from .writes import project_activity, task_written_earlier


@strawberry.enum
class ProjectSortField(enum.Enum):
    NAME = "NAME"
    CUSTOMER_NAME = "CUSTOMER_NAME"
    RATE = "RATE"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input(description="Filters applied by Zoho; leave out for all projects.")
class ProjectFilter:
    status: ProjectStatus | None = None
    customer_id: str | None = strawberry.field(
        default=None, description="A Zoho customer id: only that customer's projects."
    )


@strawberry.input(description="Deprecated: the shape of `orderBy`'s `ProjectOrder` replaces it.")
class ProjectSort:
    field: ProjectSortField
    order: SortOrder = SortOrder.ASC


@strawberry.input(description="A sort key; Zoho sorts by one column at a time.")
class ProjectOrder:
    field: ProjectSortField
    direction: Direction = Direction.ASC


@strawberry.input
class CreateProjectTaskInput:
    project_id: strawberry.ID = strawberry.field(description="The global id of the Project.")
    name: str = strawberry.field(description="1 to 100 characters.")
    description: str | None = None
    rate: Decimal | None = strawberry.field(default=None, description="Hourly rate.")
    budget_hours: float | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="Fields left out or null stay as they are.")
class UpdateProjectTaskInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    rate: Decimal | None = None
    budget_hours: float | None = None


@strawberry.type
class ProjectTaskPayload:
    project_task: ProjectTask


@strawberry.type
class DeleteProjectTaskPayload:
    deleted_id: strawberry.ID


@strawberry.type
class ProjectPayload:
    project: Project


def _task_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.strip()
    if not name:
        raise BadUserInput("`name` must not be blank.", field="name")
    if len(name) > TASK_NAME_MAX:
        raise BadUserInput(f"`name` must be at most {TASK_NAME_MAX} characters.", field="name")
    return name


# Far above any real rate or budget, and small enough to serialize exactly.
_MAX_AMOUNT = 10**12


def _rate(value: Decimal | None) -> Decimal | None:
    if value is not None and (not value.is_finite() or not 0 <= value < _MAX_AMOUNT):
        raise BadUserInput("`rate` must be a non-negative number below 10^12.", field="rate")
    return value


def _budget_hours(value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or not 0 <= value < _MAX_AMOUNT):
        raise BadUserInput(
            "`budgetHours` must be a non-negative number below 10^12.", field="budgetHours"
        )
    return value


def _customer_id(value: str | None) -> str | None:
    # Zoho ids are long numeric strings [doc], Java longs [guess]: 1 to 2^63-1.
    if value is None:
        return None
    try:
        numeric_key(value, "customer")
    except BadUserInput:
        raise BadUserInput(
            "`customerId` must be a Zoho customer id.", field="filter.customerId"
        ) from None
    return value


@strawberry.type
class ZohoQuery:
    @strawberry.field(description="One Zoho project; null with a NOT_FOUND error if absent.")
    async def project(self, info: Info[Context, None], id: strawberry.ID) -> Project | None:
        return Project.from_model(await require_project(info.context, id))

    @strawberry.field(description="Zoho projects, filtered and sorted by Zoho itself.")
    async def projects(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: str | None = None,
        filter: ProjectFilter | None = None,
        sort: Annotated[
            ProjectSort | None, strawberry.argument(deprecation_reason=SORT_DEPRECATION)
        ] = None,
        order_by: Annotated[
            list[ProjectOrder] | None,
            strawberry.argument(description=ORDER_BY + " At most one: Zoho sorts by one column."),
        ] = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="The last items before `before`, which it needs: Zoho reports "
                "no total to count back from the end."
            ),
        ] = None,
        before: str | None = None,
    ) -> Connection[Project] | None:
        paging = offset_window(first, after, last, before)
        legacy = [(sort.field.name, sort.order is SortOrder.DESC)] if sort else None
        keys = sort_keys(order_by, legacy, one_key=True, vendor=ZOHO.label)
        criteria = filter or ProjectFilter()
        query = ProjectQuery(
            status=models.ProjectStatus[criteria.status.name] if criteria.status else None,
            customer_id=_customer_id(criteria.customer_id),
        )
        if keys:
            (name, descending), *_ = keys
            query = ProjectQuery(
                status=query.status,
                customer_id=query.customer_id,
                sort_column=models.SortColumn[name],
                descending=descending,
            )
        context = info.context
        adapter = context.adapters.of(KEY)

        async def fetch(offset: int, limit: int) -> Page[ZohoProject | BadRecord]:
            return await adapter.list_projects(query, offset=offset, limit=limit)

        page = await read_window(paging, fetch, None, empty_page(paging))
        loader = context.loaders.of(KEY).project
        for item in good(page.items):
            # A row missing fields would be cached as if they were null.
            if not item.missing:
                loader.prime(item.id, item)
        return connection_from_page(page, Project.from_model)

    @strawberry.field(description="One task of a Zoho project; null with NOT_FOUND if absent.")
    async def project_task(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ProjectTask | None:
        return ProjectTask.from_model(await require_task(info.context, id))


def _task_changes(input: CreateProjectTaskInput | UpdateProjectTaskInput) -> TaskChanges:
    """Validated before any call to Zoho; on update, None leaves a field as it is."""
    return TaskChanges(
        name=_task_name(input.name),
        description=input.description,
        rate=_rate(input.rate),
        budget_hours=_budget_hours(input.budget_hours),
    )


@strawberry.type
class ZohoMutation:
    @strawberry.mutation(description="Add a task to a Zoho project.")
    async def create_project_task(
        self, info: Info[Context, None], input: CreateProjectTaskInput
    ) -> ProjectTaskPayload | None:
        project_id = project_key(input.project_id)
        changes = _task_changes(input)
        context = info.context

        async def create(attempt: Attempt) -> ZohoTask:
            if attempt.keyed:
                written = await task_written_earlier(context, input.project_id, changes, attempt)
                if written is not None:
                    return written
            task = await context.adapters.of(KEY).create_task(project_id, changes)
            _changed_tasks_of(context, project_id)
            context.loaders.of(KEY).task.prime((task.project_id, task.id), task)
            return task

        task = await context.idempotency.run(
            "createProjectTask",
            input.idempotency_key,
            fingerprint(project_id, changes),
            create,
            vendor=ZOHO,
            client=context.access.principal.key,
        )
        return ProjectTaskPayload(project_task=ProjectTask.from_model(task))

    @strawberry.mutation(description="Change a Zoho project task.")
    async def update_project_task(
        self, info: Info[Context, None], input: UpdateProjectTaskInput
    ) -> ProjectTaskPayload | None:
        key = task_key(input.id)
        changes = _task_changes(input)
        context = info.context
        task = await context.adapters.of(KEY).update_task(*key, changes)
        _changed_tasks_of(context, key[0])
        context.loaders.of(KEY).task.clear(key).prime(key, task)
        return ProjectTaskPayload(project_task=ProjectTask.from_model(task))

    @strawberry.mutation(description="Delete a task from a Zoho project.")
    async def delete_project_task(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteProjectTaskPayload | None:
        key = task_key(id)
        context = info.context
        await context.adapters.of(KEY).delete_task(*key)
        _changed_tasks_of(context, key[0])
        context.loaders.of(KEY).task.clear(key)
        return DeleteProjectTaskPayload(deleted_id=id)

    @strawberry.mutation(description="Mark a Zoho project active or inactive.")
    async def set_project_active(
        self, info: Info[Context, None], id: strawberry.ID, active: bool
    ) -> ProjectPayload | None:
        context = info.context
        project = await context.idempotency.set_state(project_activity(context, id), active)
        return _project_payload(context, project)

    @strawberry.mutation(description="Flip a Zoho project between active and inactive.")
    async def toggle_project_active(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=KEY_DESCRIPTION)
        ] = None,
    ) -> ProjectPayload | None:
        context = info.context
        project = await context.idempotency.toggle(
            "toggleProjectActive",
            idempotency_key,
            project_activity(context, id),
            client=context.access.principal.key,
        )
        return _project_payload(context, project)


def _changed_tasks_of(context: Context, project_id: str) -> None:
    # Zoho stamps the project as modified when its tasks change, so both the task
    # list and the project itself are re-read if asked for again.
    context.loaders.of(KEY).project_tasks.clear(project_id)
    context.loaders.of(KEY).project.clear(project_id)


def _project_payload(context: Context, project: ZohoProject) -> ProjectPayload:
    context.loaders.of(KEY).project.clear(project.id).prime(project.id, project)
    return ProjectPayload(project=Project.from_model(project))
