"""In-memory state of one Zoho Invoice sandbox: one organization and its projects.

Everything lives on a `Store` instance owned by one app, so two sandboxes never
share data. Hours are kept as whole minutes and amounts as numbers; the wire
module decides how each one is spelled on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from gateway.core.sandbox import Clock

# The docs' examples all come from an organization in India; Zoho stamps times in
# the organization's zone, so the sandbox uses a fixed IST offset.
ORG_TZ = timezone(timedelta(hours=5, minutes=30))

# Zoho Books' published per-organization limit; Invoice publishes none. [guess]
DEFAULT_RATE_LIMIT = 100
RATE_WINDOW_SECONDS = 60
# Calls a day per organization: Zoho's free plan's limit [doc]; paid plans have more.
DEFAULT_DAILY_LIMIT = 1000
DAY_SECONDS = 86_400


def zoho_time(epoch: float) -> str:
    """Zoho's timestamp spelling, e.g. "2026-03-10T10:25:31+0530" (no colon in the offset)."""
    return datetime.fromtimestamp(int(epoch), ORG_TZ).strftime("%Y-%m-%dT%H:%M:%S%z")


def hhmm(minutes: int) -> str:
    """Hours as Zoho sends them: "HH:MM" strings, although the docs type them double."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(slots=True)
class Customer:
    customer_id: str
    customer_name: str
    currency_code: str
    # The docs' example shows currency_id as a bare number while every other ID is
    # a string; the sandbox keeps that quirk.
    currency_id: int


@dataclass(slots=True)
class User:
    user_id: str
    user_name: str
    email: str
    user_role: str
    rate: float


@dataclass(slots=True)
class Task:
    task_id: str
    task_name: str
    description: str
    rate: int | float
    # None means "no budget"; the docs' own request example sends "" for it.
    budget_hours: int | float | None
    logged_minutes: int = 0
    billed_minutes: int = 0
    is_billable: bool = True

    @property
    def unbilled_minutes(self) -> int:
        return max(self.logged_minutes - self.billed_minutes, 0) if self.is_billable else 0


@dataclass(slots=True)
class Project:
    project_id: str
    project_name: str
    project_code: str
    customer: Customer
    description: str
    status: str
    billing_type: str
    rate: float
    budget_type: str
    budget_hours: int
    budget_amount: float
    created: float
    modified: float
    tasks: dict[str, Task] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)

    @property
    def logged_minutes(self) -> int:
        return sum(t.logged_minutes for t in self.tasks.values())

    @property
    def billable_minutes(self) -> int:
        return sum(t.logged_minutes for t in self.tasks.values() if t.is_billable)

    @property
    def billed_minutes(self) -> int:
        return sum(t.billed_minutes for t in self.tasks.values())

    @property
    def unbilled_minutes(self) -> int:
        return sum(t.unbilled_minutes for t in self.tasks.values())


@dataclass(slots=True)
class RateWindow:
    started: int
    used: int


@dataclass
class Store:
    clock: Clock
    token_ttl: int
    organization_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    # None: the quota is off (ZOHO_SANDBOX_QUOTA=off), calls are neither counted nor refused.
    rate_limit: int | None = DEFAULT_RATE_LIMIT
    # None: no daily limit (ZOHO_SANDBOX_DAILY_QUOTA=off, or both quotas off).
    daily_limit: int | None = DEFAULT_DAILY_LIMIT
    customers: dict[str, Customer] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    # access token -> epoch seconds at which it stops working
    tokens: dict[str, float] = field(default_factory=dict)
    rate_windows: dict[str, RateWindow] = field(default_factory=dict)
    daily_windows: dict[str, RateWindow] = field(default_factory=dict)
    next_id: int = 903000000075001
    # Told of every project written, or whose tasks were (the webhook sender), when set.
    on_change: Callable[[Project], None] | None = None

    def touch(self, project: Project) -> None:
        """The project (or one of its tasks) was just written: as Zoho does, it is modified."""
        project.modified = self.clock.now()
        if self.on_change is not None:
            self.on_change(project)

    def new_id(self) -> str:
        value = self.next_id
        # Real Zoho IDs are sparse; a stride keeps new IDs from looking sequential.
        self.next_id += 17
        return str(value)

    def window(self, org_id: str) -> RateWindow:
        """The current fixed one-minute window for an organization, rolled over if stale."""
        return self._current(self.rate_windows, org_id, RATE_WINDOW_SECONDS)

    def day(self, org_id: str) -> RateWindow:
        """The organization's current day (UTC midnight to midnight [guess])."""
        return self._current(self.daily_windows, org_id, DAY_SECONDS)

    def _current(self, windows: dict[str, RateWindow], org_id: str, length: int) -> RateWindow:
        now = int(self.clock.now())
        start = now - now % length
        current = windows.get(org_id)
        if current is None or current.started != start:
            current = RateWindow(started=start, used=0)
            windows[org_id] = current
        return current
