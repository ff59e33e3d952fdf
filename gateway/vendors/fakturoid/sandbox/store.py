"""In-memory state of one Fakturoid sandbox: todos, issued tokens, switches and rate windows."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

# Fakturoid is a Czech service and renders times in the account's zone; the doc's examples
# carry +02:00 in September, i.e. Prague summer time.
PRAGUE = ZoneInfo("Europe/Prague")
PAGE_SIZE = 40
RELATED_TYPES = frozenset(
    {"Invoice", "Subject", "Expense", "Generator", "RecurringGenerator", "ExpenseGenerator"}
)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(PRAGUE).isoformat(timespec="milliseconds")


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, PRAGUE)


@dataclass(frozen=True)
class RelatedObject:
    type: str
    id: int

    def __post_init__(self) -> None:
        if self.type not in RELATED_TYPES:
            raise ValueError(f"not a documented related object type: {self.type}")


@dataclass
class Todo:
    id: int
    name: str
    created_at: datetime
    completed_at: datetime | None
    text: str
    related_objects: tuple[RelatedObject, ...]
    params: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": format_timestamp(self.created_at),
            "completed_at": (
                format_timestamp(self.completed_at) if self.completed_at is not None else None
            ),
            "text": self.text,
            "related_objects": [{"type": r.type, "id": r.id} for r in self.related_objects],
            "params": dict(self.params),
        }


class TokenStatus(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Store:
    """One account's data. Tests flip `blocked` (402) and `read_only` (503) directly."""

    def __init__(self, account_slug: str, todos: Iterable[Todo]) -> None:
        self.account_slug = account_slug
        self.todos: dict[int, Todo] = {todo.id: todo for todo in todos}
        # token -> expiry as epoch seconds; expired tokens stay so a 401 can say "expired".
        self.tokens: dict[str, float] = {}
        self.blocked = False
        self.read_only = False

    def issue_token(self, now: float, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = now + ttl
        return token

    def token_status(self, token: str, now: float) -> TokenStatus:
        expires_at = self.tokens.get(token)
        if expires_at is None:
            return TokenStatus.UNKNOWN
        return TokenStatus.VALID if now < expires_at else TokenStatus.EXPIRED

    def list_todos(self, page: int, since: datetime | None = None) -> list[Todo]:
        # Newest first: inferred from the doc's example list (ids and created_at descending).
        ordered = sorted(self.todos.values(), key=lambda t: (t.created_at, t.id), reverse=True)
        if since is not None:
            ordered = [t for t in ordered if t.created_at > since]
        start = (page - 1) * PAGE_SIZE
        return ordered[start : start + PAGE_SIZE]

    def toggle_completion(self, todo_id: int, now: float) -> Todo | None:
        todo = self.todos.get(todo_id)
        if todo is None:
            return None
        todo.completed_at = None if todo.completed_at is not None else from_epoch(now)
        return todo


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    window: int
    remaining: int
    reset_in: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Policy": f"default;q={self.limit};w={self.window}",
            "X-RateLimit": f"default;r={self.remaining};t={self.reset_in}",
        }


class RateLimiter:
    """Fixed windows per bucket key [guess: the doc gives the headers, not the algorithm]."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        # bucket key -> (window end as epoch seconds, requests counted in the window)
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, now: float) -> RateLimitState:
        ends_at, count = self._windows.get(key, (0.0, 0))
        if now >= ends_at:
            ends_at, count = now + self.window, 0
        count += 1
        self._windows[key] = (ends_at, count)
        return RateLimitState(
            limit=self.limit,
            window=self.window,
            remaining=max(self.limit - count, 0),
            reset_in=max(math.ceil(ends_at - now), 0),
            exceeded=count > self.limit,
        )
