"""Project endpoints: list with filters, sorting and paging; details; status changes."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from .store import Project, Store
from .wire import (
    CODE_NOT_FOUND,
    ZohoError,
    invalid,
    paging,
    project_detail,
    project_row,
    success,
)

_FILTERS: dict[str, Callable[[Project], bool]] = {
    "Status.All": lambda p: True,
    "Status.Active": lambda p: p.status == "active",
    "Status.Inactive": lambda p: p.status == "inactive",
}

_SORT_KEYS: dict[str, Callable[[Project], str | float]] = {
    "project_name": lambda p: p.project_name.casefold(),
    "customer_name": lambda p: p.customer.customer_name.casefold(),
    "rate": lambda p: p.rate,
    "created_time": lambda p: p.created,
    "last_modified_time": lambda p: p.modified,
}

# The defaults Zoho applies when the client names none. [guess]
DEFAULT_SORT_COLUMN = "project_name"
DEFAULT_SORT_ORDER = "A"


def find_project(store: Store, project_id: str) -> Project:
    project = store.projects.get(project_id)
    if project is None:
        raise ZohoError(404, CODE_NOT_FOUND, "Project does not exist.")
    return project


async def list_projects(request: Request, store: Store) -> Response:
    params = request.query_params
    filter_by = params.get("filter_by") or "Status.All"
    if filter_by not in _FILTERS:
        raise invalid("filter_by")
    sort_column = params.get("sort_column") or DEFAULT_SORT_COLUMN
    if sort_column not in _SORT_KEYS:
        raise invalid("sort_column")
    sort_order = params.get("sort_order") or DEFAULT_SORT_ORDER
    if sort_order not in ("A", "D"):
        raise invalid("sort_order")
    page, per_page = paging(params)
    customer_id = params.get("customer_id")

    keep = _FILTERS[filter_by]
    matches = [
        p
        for p in store.projects.values()
        if keep(p) and (not customer_id or p.customer.customer_id == customer_id)
    ]
    key = _SORT_KEYS[sort_column]
    # The ID breaks ties so equal keys (e.g. rate "0.00") still page deterministically.
    matches.sort(key=lambda p: (key(p), p.project_id), reverse=sort_order == "D")
    start = (page - 1) * per_page
    return success(
        projects=[project_row(p) for p in matches[start : start + per_page]],
        page_context={
            "page": page,
            "per_page": per_page,
            "has_more_page": start + per_page < len(matches),
            "report_name": "Projects",
            "applied_filter": filter_by,
            "sort_column": sort_column,
            "sort_order": sort_order,
        },
    )


async def get_project(request: Request, store: Store) -> Response:
    project = find_project(store, request.path_params["project_id"])
    return success(project=project_detail(project))


async def mark_active(request: Request, store: Store) -> Response:
    return await _set_status(request, store, "active")


async def mark_inactive(request: Request, store: Store) -> Response:
    return await _set_status(request, store, "inactive")


async def _set_status(request: Request, store: Store, status: str) -> Response:
    project = find_project(store, request.path_params["project_id"])
    if project.status != status:
        project.status = status
        store.touch(project)
    # Paths and wording follow Zoho's other "mark as" endpoints. [guess]
    return success(f"The project has been marked as {status}.")
