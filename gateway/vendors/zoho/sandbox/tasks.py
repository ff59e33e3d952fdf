"""Project task endpoints: add, list, get, update, delete."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .projects import find_project
from .store import Project, Store, Task
from .wire import (
    CODE_INVALID_VALUE,
    CODE_NOT_FOUND,
    TASK_NAME_MAX,
    ZohoError,
    invalid,
    json_body,
    paging,
    success,
    task_json,
    task_written_json,
)


def _find_task(project: Project, task_id: str) -> Task:
    task = project.tasks.get(task_id)
    if task is None:
        raise ZohoError(404, CODE_NOT_FOUND, "Task does not exist.")
    return task


def _task_name(body: dict[str, Any]) -> str:
    value = body.get("task_name")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ZohoError(400, CODE_INVALID_VALUE, "Please enter a task name (task_name).")
    if not isinstance(value, str):
        raise invalid("task_name")
    name = value.strip()
    if len(name) > TASK_NAME_MAX:
        raise ZohoError(
            400,
            CODE_INVALID_VALUE,
            f"Task name (task_name) cannot be more than {TASK_NAME_MAX} characters.",
        )
    return name


def _number(body: dict[str, Any], name: str) -> int | float | None:
    """A non-negative number; numeric strings and "" (meaning unset) are accepted
    because the docs' own example sends `"budget_hours": ""`."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                raise invalid(name) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(name)
    if value < 0 or not math.isfinite(value):
        raise invalid(name)
    return value


def _description(body: dict[str, Any]) -> str | None:
    value = body.get("description")
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("description")
    return value


async def add_task(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    body = await json_body(request)
    name = _task_name(body)
    task = Task(
        task_id=store.new_id(),
        task_name=name,
        description=_description(body) or "",
        rate=_number(body, "rate") or 0,
        budget_hours=_number(body, "budget_hours"),
    )
    project.tasks[task.task_id] = task
    store.touch(project)
    return success("The task has been added.", 201, task=task_written_json(project, task))


async def list_tasks(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    page, per_page = paging(request.query_params)
    tasks = list(project.tasks.values())
    start = (page - 1) * per_page
    # The docs show the list under "tasks" (the single-task responses use "task").
    return success(
        tasks=[task_json(project, t) for t in tasks[start : start + per_page]],
        page_context={
            "page": page,
            "per_page": per_page,
            "has_more_page": start + per_page < len(tasks),
            "report_name": "Tasks",
            # Tasks come back in the order they were added. [guess]
            "sort_column": "created_time",
            "sort_order": "A",
        },
    )


async def get_task(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    task = _find_task(project, request.path_params["task_id"])
    return success(task=task_json(project, task))


async def update_task(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    task = _find_task(project, request.path_params["task_id"])
    body = await json_body(request)
    # The docs mark task_name required on update too, so a partial body without it
    # is refused rather than merged; the other fields keep their value when absent.
    name = _task_name(body)
    description = _description(body)
    rate = _number(body, "rate")
    budget = _number(body, "budget_hours")
    task.task_name = name
    if description is not None:
        task.description = description
    if "rate" in body:
        task.rate = rate or 0
    if "budget_hours" in body:
        task.budget_hours = budget
    store.touch(project)
    return success("The task information has been updated.", task=task_written_json(project, task))


async def delete_task(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    task = _find_task(project, request.path_params["task_id"])
    del project.tasks[task.task_id]
    store.touch(project)
    return success("The task has been deleted successfully.")
