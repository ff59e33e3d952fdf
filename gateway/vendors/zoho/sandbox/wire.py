"""Zoho's wire conventions: the code/message envelope, error codes, request bodies,
paging parameters and how stored objects are spelled in JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from gateway.core.sandbox import json_response

from .store import Project, Task, hhmm, zoho_time

# Codes the vendor documents or that show up in recorded responses.
CODE_NO_AUTHTOKEN = 14  # no Authorization header at all [seen]
CODE_NOT_AUTHORIZED = 57  # expired or unknown OAuth token [seen]
CODE_RATE_LIMITED = 45  # call limit reached, HTTP 429 [seen]
CODE_INTERNAL = 1000  # [doc]
CODE_NOT_FOUND = 1002  # "<Thing> does not exist." [doc]
# Codes nobody has pinned down for Invoice; plausible values from other Zoho
# Finance products, kept in one place so they are easy to correct. [guess]
CODE_INVALID_VALUE = 2
CODE_INVALID_JSON = 4
CODE_INVALID_URL = 5
CODE_METHOD_NOT_ALLOWED = 37
CODE_ORGANIZATION = 6041

MAX_PER_PAGE = 200
TASK_NAME_MAX = 100


class ZohoError(Exception):
    """An API failure, answered as Zoho does: a non-zero code in the usual envelope."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return json_response({"code": self.code, "message": self.message}, self.status)


def success(message: str = "success", status: int = 200, **resources: Any) -> Response:
    return json_response({"code": 0, "message": message, **resources}, status)


def invalid(name: str) -> ZohoError:
    return ZohoError(400, CODE_INVALID_VALUE, f"Invalid value passed for {name}")


def int_param(params: QueryParams, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name) from None
    if value < 1:
        raise invalid(name)
    return value


def paging(params: QueryParams) -> tuple[int, int]:
    page = int_param(params, "page", 1)
    # Zoho caps rather than rejects oversized pages. [guess]
    per_page = min(int_param(params, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
    return page, per_page


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, from a raw JSON body or a `JSONString` field.

    Zoho's older API style posts the JSON as a form field (or query parameter)
    named JSONString; current clients send raw JSON. Both reach the same handlers.
    """
    content_type = request.headers.get("content-type", "").lower()
    raw: str | bytes | None
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        async with request.form() as form:
            field = form.get("JSONString")
            raw = field if isinstance(field, str) else None
    else:
        raw = await request.body()
        if not raw.strip():
            raw = request.query_params.get("JSONString")
    if raw is None or not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ZohoError(400, CODE_INVALID_JSON, "Invalid value passed for JSONString") from None
    if not isinstance(data, dict):
        raise ZohoError(400, CODE_INVALID_JSON, "Invalid value passed for JSONString")
    return data


def project_row(project: Project) -> dict[str, Any]:
    """A project as the list endpoint shows it: no tasks or users, and neither
    currency_code nor un_billed_hours, which only the details carry. [guess:
    what a strict server built from the docs answers]"""
    customer = project.customer
    return {
        "project_id": project.project_id,
        "project_name": project.project_name,
        "project_code": project.project_code,
        "customer_id": customer.customer_id,
        "customer_name": customer.customer_name,
        "description": project.description,
        "status": project.status,
        "billing_type": project.billing_type,
        # Zoho sends some amounts as formatted strings and others as numbers. [seen]
        "rate": f"{project.rate:.2f}",
        "budget_type": project.budget_type,
        "total_hours": hhmm(project.logged_minutes),
        "billable_hours": hhmm(project.billable_minutes),
        "created_time": zoho_time(project.created),
        "last_modified_time": zoho_time(project.modified),
    }


def project_detail(project: Project) -> dict[str, Any]:
    detail = project_row(project)
    detail.update(
        currency_code=project.customer.currency_code,
        un_billed_hours=hhmm(project.unbilled_minutes),
        currency_id=project.customer.currency_id,
        billed_hours=hhmm(project.billed_minutes),
        budget_hours=str(project.budget_hours),
        budget_amount=project.budget_amount,
        tasks=[
            {
                "task_id": task.task_id,
                "task_name": task.task_name,
                "description": task.description,
                "rate": task.rate,
                "budget_hours": _budget(task),
                "total_hours": hhmm(task.logged_minutes),
                "billed_hours": hhmm(task.billed_minutes),
                "un_billed_hours": hhmm(task.unbilled_minutes),
                "status": "active",
            }
            for task in project.tasks.values()
        ],
        users=[
            {
                "user_id": user.user_id,
                "user_name": user.user_name,
                "email": user.email,
                "user_role": user.user_role,
                "status": "active",
                "rate": user.rate,
            }
            for user in project.users
        ],
    )
    return detail


def _budget(task: Task) -> int | float | str:
    # Typed integer in the docs, sent as "" when unset in the docs' own example;
    # echoing the number back unformatted is a [guess].
    return "" if task.budget_hours is None else task.budget_hours


def task_json(project: Project, task: Task) -> dict[str, Any]:
    """The union of the fields the docs show across add/list/get/update responses."""
    customer = project.customer
    return {
        "project_id": project.project_id,
        "project_name": project.project_name,
        "task_id": task.task_id,
        "task_name": task.task_name,
        "description": task.description,
        "currency_id": customer.currency_id,
        "customer_id": customer.customer_id,
        "customer_name": customer.customer_name,
        "rate": task.rate,
        "budget_hours": _budget(task),
        "billed_hours": hhmm(task.billed_minutes),
        "log_time": hhmm(task.logged_minutes),
        "un_billed_hours": hhmm(task.unbilled_minutes),
        "status": "active",
        "is_billable": task.is_billable,
    }


# The fields the docs' add and update responses show: no description, rate,
# budget_hours, status or is_billable. [doc]
WRITE_RESPONSE_FIELDS = (
    "project_id", "task_id", "currency_id", "customer_id", "task_name", "project_name",
    "customer_name", "billed_hours", "log_time", "un_billed_hours",
)  # fmt: skip


def task_written_json(project: Project, task: Task) -> dict[str, Any]:
    """A task as the add and update responses show it."""
    full = task_json(project, task)
    return {name: full[name] for name in WRITE_RESPONSE_FIELDS}
