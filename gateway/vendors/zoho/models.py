"""Zoho Invoice projects and project tasks as the gateway sees them, and how
they are read off the wire.

Wire facts (vendor docs and VENDORS.md): IDs are long numeric strings (except
``currency_id``, which arrives as a bare number); hours arrive as ``"HH:MM"``
strings although the docs type them double; some amounts arrive as formatted
strings (``"0.00"``) and others as numbers; times look like
``2026-03-10T10:25:31+0530``.

Amounts become ``Decimal`` (money must not pick up binary rounding), hours
become ``float`` numbers of hours (they are durations, not money).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TASK_NAME_MAX = 100


class ProjectStatus(enum.Enum):
    """A project's status, by its wire name."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class BillingType(enum.Enum):
    """How a project is billed, by the wire names of ``billing_type``."""

    FIXED_COST_FOR_PROJECT = "fixed_cost_for_project"
    BASED_ON_PROJECT_HOURS = "based_on_project_hours"
    BASED_ON_STAFF_HOURS = "based_on_staff_hours"
    BASED_ON_TASK_HOURS = "based_on_task_hours"


class SortColumn(enum.Enum):
    """The project columns a list may be sorted on, by their wire names (``sort_column``)."""

    NAME = "project_name"
    CUSTOMER_NAME = "customer_name"
    RATE = "rate"
    CREATED_AT = "created_time"
    UPDATED_AT = "last_modified_time"


@dataclass(frozen=True, slots=True)
class ZohoProject:
    id: str
    name: str
    code: str | None
    customer_id: str | None
    customer_name: str | None
    currency_code: str | None
    description: str | None
    status: ProjectStatus
    # None when Zoho sends a billing type this gateway does not know yet.
    billing_type: BillingType | None
    rate: Decimal | None
    budget_type: str | None
    total_hours: float | None
    billable_hours: float | None
    unbilled_hours: float | None
    created_at: datetime | None
    updated_at: datetime | None
    url: str
    # Fields whose keys the response left out (a list row shows fewer than the
    # details endpoint): unknown, not empty, so never to be cached as null.
    missing: frozenset[str] = field(default=frozenset())


@dataclass(frozen=True, slots=True)
class ZohoTask:
    id: str
    project_id: str
    project_name: str | None
    name: str
    description: str | None
    customer_id: str | None
    customer_name: str | None
    currency_id: str | None
    rate: Decimal | None
    budget_hours: float | None
    billed_hours: float | None
    logged_hours: float | None
    unbilled_hours: float | None
    status: str | None
    is_billable: bool | None
    url: str


@dataclass(frozen=True, slots=True)
class ProjectQuery:
    status: ProjectStatus | None = None
    customer_id: str | None = None
    sort_column: SortColumn = SortColumn.NAME
    descending: bool = False


@dataclass(frozen=True, slots=True)
class TaskChanges:
    """Fields to write; ``None`` means leave unchanged (or omit on create)."""

    name: str | None = None
    description: str | None = None
    rate: Decimal | None = None
    budget_hours: float | None = None


_HHMM = re.compile(r"(-?)(\d+):([0-5]\d)")


def parse_hours(value: Any) -> float | None:
    """``"13:06"`` -> 13.1; plain numbers pass through; ``""`` or absent -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("hours cannot be a boolean")
    if isinstance(value, int | float):
        hours = float(value)
    elif isinstance(value, str):
        match = _HHMM.fullmatch(value.strip())
        if match:
            sign, whole, minutes = match.groups()
            hours = int(whole) + int(minutes) / 60
            hours = -hours if sign else hours
        else:
            # A decimal string such as "12.5", for fields that are typed double. [guess]
            hours = float(value)
    else:
        raise ValueError("hours must be a string or a number")
    if not math.isfinite(hours):
        raise ValueError("hours must be finite")
    # Four places keep whole minutes recoverable (round(h * 60)) without printing
    # 45.083333333333336 for 45:05.
    return round(hours, 4)


def parse_amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("an amount must be a string or a number")
    # Formatted strings may carry thousands separators. [guess]
    text = value.replace(",", "").strip() if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not amount.is_finite():
        raise ValueError("an amount must be finite")
    return amount


def parse_time(value: Any) -> datetime | None:
    """Zoho's ``%Y-%m-%dT%H:%M:%S%z``; anything else unreadable becomes None
    rather than failing a whole list over one odd timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError("an id must be a non-empty string or number")
    return str(value)


def _optional_id(value: Any) -> str | None:
    return None if value is None or value == "" else _id(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _blank_to_none(value: Any) -> str | None:
    text = _text(value)
    return text if text else None


# Optional project fields and the wire keys they are read from. [guess:
# budget_type and un_billed_hours, named after the task fields; the project
# docs name the others]
_PROJECT_KEYS = {
    "code": "project_code",
    "customer_id": "customer_id",
    "customer_name": "customer_name",
    "currency_code": "currency_code",
    "description": "description",
    "billing_type": "billing_type",
    "rate": "rate",
    "budget_type": "budget_type",
    "total_hours": "total_hours",
    "billable_hours": "billable_hours",
    "unbilled_hours": "un_billed_hours",
    "created_at": "created_time",
    "updated_at": "last_modified_time",
}


def _billing_type(value: Any) -> BillingType | None:
    try:
        return BillingType(value)
    except ValueError:
        return None


def parse_project(data: Any, url: str) -> ZohoProject:
    """A project from the list (a row) or the details endpoint: only the fields both
    can carry are read, and those a row leaves out are named in ``missing``."""
    if not isinstance(data, dict):
        raise ValueError("a project must be an object")
    missing = frozenset(name for name, key in _PROJECT_KEYS.items() if key not in data)
    status = ProjectStatus(data["status"])  # ValueError: a status the docs do not list
    billing = data.get("billing_type")
    return ZohoProject(
        id=_id(data["project_id"]),
        name=str(data["project_name"]),
        code=_blank_to_none(data.get("project_code")),
        customer_id=_optional_id(data.get("customer_id")),
        customer_name=_text(data.get("customer_name")),
        currency_code=_blank_to_none(data.get("currency_code")),
        description=_text(data.get("description")),
        status=status,
        billing_type=_billing_type(billing),
        rate=parse_amount(data.get("rate")),
        budget_type=_blank_to_none(data.get("budget_type")),
        total_hours=parse_hours(data.get("total_hours")),
        billable_hours=parse_hours(data.get("billable_hours")),
        unbilled_hours=parse_hours(data.get("un_billed_hours")),
        created_at=parse_time(data.get("created_time")),
        updated_at=parse_time(data.get("last_modified_time")),
        url=url,
        missing=missing,
    )


def parse_task(data: Any, url: str) -> ZohoTask:
    """A task from add/list/get/update; each response shows a different subset of
    fields in the docs, so everything but the IDs and the name is optional."""
    if not isinstance(data, dict):
        raise ValueError("a task must be an object")
    billable = data.get("is_billable")
    if billable is not None and not isinstance(billable, bool):
        raise ValueError("is_billable must be a boolean")
    return ZohoTask(
        id=_id(data["task_id"]),
        project_id=_id(data["project_id"]),
        project_name=_text(data.get("project_name")),
        name=str(data["task_name"]),
        description=_text(data.get("description")),
        customer_id=_optional_id(data.get("customer_id")),
        customer_name=_text(data.get("customer_name")),
        currency_id=_optional_id(data.get("currency_id")),
        rate=parse_amount(data.get("rate")),
        budget_hours=parse_hours(data.get("budget_hours")),
        billed_hours=parse_hours(data.get("billed_hours")),
        # The list and add responses call the logged total `log_time` [doc]; the
        # task rows inside a project's details call it `total_hours` [guess].
        logged_hours=parse_hours(data.get("log_time", data.get("total_hours"))),
        unbilled_hours=parse_hours(data.get("un_billed_hours")),
        status=_blank_to_none(data.get("status")),
        is_billable=billable,
        url=url,
    )


def _number(value: Decimal | float) -> int | float:
    # The docs type rate and budget_hours as integers; whole values go out as JSON
    # integers and fractional ones as decimals, which Zoho accepts. [guess]
    if value == int(value):
        return int(value)
    return float(value)


def task_body(changes: TaskChanges) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if changes.name is not None:
        body["task_name"] = changes.name
    if changes.description is not None:
        body["description"] = changes.description
    if changes.rate is not None:
        body["rate"] = _number(changes.rate)
    if changes.budget_hours is not None:
        body["budget_hours"] = _number(changes.budget_hours)
    return body


# What an add or update response leaves out [doc: its example shows neither],
# so the payload would show null for values just written.
_UNECHOED_KEYS = {"description": "description", "rate": "rate", "budget_hours": "budget_hours"}


def unechoed(data: Any) -> frozenset[str]:
    """The task fields a write response did not show."""
    present = data if isinstance(data, dict) else {}
    return frozenset(name for name, key in _UNECHOED_KEYS.items() if key not in present)


def written_fields(changes: TaskChanges) -> dict[str, Any]:
    return {
        "description": changes.description,
        "rate": changes.rate,
        "budget_hours": changes.budget_hours,
    }


def known_fields(task: ZohoTask) -> dict[str, Any]:
    return {name: getattr(task, name) for name in _UNECHOED_KEYS}


def fill_unechoed(task: ZohoTask, data: Any, *sources: Mapping[str, Any]) -> ZohoTask:
    """``task`` with the fields its response left out taken from the first
    source that knows them (what was written, then what was read)."""
    filled: dict[str, Any] = {}
    for name in unechoed(data):
        value = next((s[name] for s in sources if s.get(name) is not None), None)
        if value is not None:
            filled[name] = value
    return replace(task, **filled) if filled else task
