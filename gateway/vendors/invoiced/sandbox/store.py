"""The Invoiced sandbox's data: customers and tasks, seeded the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from gateway.core.sandbox import Clock, json_response

SANDBOX_USER_ID = 1976


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param

    def response(self) -> Response:
        kind = {429: "rate_limit_error", 500: "api_error"}.get(self.status, "invalid_request")
        body: dict[str, Any] = {"type": kind, "message": self.message}
        if self.param:
            body["param"] = self.param
        headers = {"WWW-Authenticate": 'Basic realm="Invoiced"'} if self.status == 401 else None
        return json_response(body, self.status, headers)


@dataclass
class Store:
    clock: Clock
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1000
    # credential -> requests it has in flight
    in_flight: dict[str, int] = field(default_factory=dict)
    replays: dict[tuple[str, str], tuple[float, Response]] = field(default_factory=dict)
    # Told of every task written, as an Invoiced event type (the webhook sender), when set.
    on_change: Callable[[str, dict[str, Any]], None] | None = None

    def changed(self, event_type: str, task: dict[str, Any]) -> None:
        if self.on_change is not None:
            self.on_change(event_type, task)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def blank_task(self) -> dict[str, Any]:
        """A task with every field Invoiced returns, before a create fills it in."""
        now = int(self.clock.now())
        return {
            "id": 0, "name": "", "action": "", "customer_id": None, "user_id": None,
            "due_date": None, "complete": False, "completed_date": None,
            "completed_by_user_id": None, "chase_step_id": None,
            "created_at": now, "updated_at": now,
        }  # fmt: skip


_CUSTOMERS = ["Acme Corporation", "Globex Ltd.", "Initech, Inc.", "Šťastný & Syn, s.r.o."]
_CHORES = [
    ("Call customer about overdue invoice", "phone"),
    ("Send final notice letter", "letter"),
    ("Email statement of account", "email"),
    ("Review payment plan", "review"),
    ("Confirm remittance details", "phone"),
    ("Approve vendor bill", "approve_bill"),
]


def seed(store: Store) -> None:
    base = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed so demo data is the same everywhere
    for index, name in enumerate(_CUSTOMERS):
        customer_id = 481591 + index
        store.customers[customer_id] = {"id": customer_id, "name": name, "object": "customer"}
    for n in range(36):
        name, action = _CHORES[n % len(_CHORES)]
        task_id = 700 + n
        complete = n % 4 == 3
        created = base + n * 86_400
        store.tasks[task_id] = {
            "id": task_id,
            "name": f"{name} #{n + 1}",
            "action": action,
            "customer_id": 481591 + n % len(_CUSTOMERS),
            "user_id": SANDBOX_USER_ID if n % 3 else 1977,
            "due_date": created + (n % 5 + 1) * 86_400 * 3,
            "complete": complete,
            "completed_date": created + 86_400 if complete else None,
            "completed_by_user_id": SANDBOX_USER_ID if complete else None,
            "chase_step_id": 30 + n % 3 if n % 2 else None,
            "created_at": created,
            "updated_at": created + (86_400 if complete else 0),
        }
    store.next_id = 700 + 36
