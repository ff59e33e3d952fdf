"""Invoiced tasks as parsed records, and the queries and changes sent for them.

Wire facts: times are unix timestamps; ``action`` is one of six documented names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from gateway.core.errors import UpstreamBadResponse
from gateway.core.types import SortDirection
from gateway.upstream.cache.held import HeldItem
from gateway.upstream.cache.items import item_named

from .vendor import INVOICED, TASK_TYPE


class Action(enum.Enum):
    """The documented task actions, by their wire names."""

    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    REVIEW = "review"
    APPROVE_BILL = "approve_bill"
    APPROVE_VENDOR_CREDIT = "approve_vendor_credit"


class SortField(enum.Enum):
    """The task fields a list may be sorted on, by their wire names (``sort=``)."""

    ID = "id"
    NAME = "name"
    DUE_DATE = "due_date"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    COMPLETED_DATE = "completed_date"


DEFAULT_SORT = ((SortField.ID, SortDirection.ASC),)

# Times travel as whole unix seconds. The docs give no range; the gateway writes only
# instants from the epoch [guess: Invoiced's timestamps are not signed] to the end of
# year 9999 UTC (the last it can read back), so a task it writes can always be read.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
# Task, customer and user ids are integers [doc]; the gateway assumes 64-bit columns.
MAX_ID = 2**63 - 1
NAME_MAX = 255


@dataclass(frozen=True, slots=True)
class InvoicedTask:
    id: int
    name: str
    action: Action | None  # None: an action the docs do not list yet
    customer_id: int | None
    user_id: int | None
    due_date: datetime | None
    complete: bool
    completed_date: datetime | None
    completed_by_user_id: int | None
    chase_step_id: int | None
    created_at: datetime | None
    updated_at: datetime | None
    url: str | None


@dataclass(frozen=True, slots=True)
class TaskQuery:
    action: Action | None = None
    complete: bool | None = None
    customer_id: int | None = None
    user_id: int | None = None
    sort: tuple[tuple[SortField, SortDirection], ...] = DEFAULT_SORT


@dataclass(frozen=True, slots=True)
class TaskChanges:
    """Fields to write; ``None`` means leave unchanged (or omit on create)."""

    name: str | None = None
    action: Action | None = None
    customer_id: int | None = None
    user_id: int | None = None
    due_date: datetime | None = None
    complete: bool | None = None


def _time(value: Any) -> datetime | None:
    return None if value is None else _instant(int(value))


# Kept by their unix seconds: every list reads the same tasks' stamps again.
@lru_cache(maxsize=4096)
def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _customer_url(customer_id: Any) -> str | None:
    # Tasks have no page of their own in Invoiced's web app; they show on the
    # customer's collections page. [guess] at the app's URL layout.
    return None if customer_id is None else f"https://app.invoiced.com/customers/{customer_id}"


# Wire names to actions, looked up without the enum's call machinery (once per task).
_ACTIONS = {action.value: action for action in Action}


def _action(value: str) -> Action | None:
    return _ACTIONS.get(value)


def parse_task(data: Any) -> InvoicedTask:
    try:
        complete = bool(data.get("complete"))
        # A reopened task may keep the stamp of its earlier completion [guess:
        # the docs only say completing sets it]; an open task has no completion.
        return InvoicedTask(
            id=int(data["id"]),
            name=str(data["name"]),
            action=_action(str(data["action"])),
            customer_id=_int(data.get("customer_id")),
            user_id=_int(data.get("user_id")),
            due_date=_time(data.get("due_date")),
            complete=complete,
            completed_date=_time(data.get("completed_date")) if complete else None,
            completed_by_user_id=_int(data.get("completed_by_user_id")) if complete else None,
            chase_step_id=_int(data.get("chase_step_id")),
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
            url=_customer_url(data.get("customer_id")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UpstreamBadResponse(INVOICED, "a task had an unexpected shape") from exc


def held_tasks(body: bytes) -> list[HeldItem]:
    """The tasks a ``GET /tasks`` page shows, each as ``GET /tasks/{id}`` answers it:
    Invoiced lists the same task objects its by-id read returns. [doc]"""
    rows = orjson.loads(body)
    if not isinstance(rows, list):
        return []
    return [
        HeldItem(item_named(TASK_TYPE, row["id"]), f"tasks/{row['id']}", orjson.dumps(row))
        for row in rows
        if isinstance(row, dict) and type(row.get("id")) is int
    ]
