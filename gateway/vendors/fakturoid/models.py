"""Fakturoid todos as domain models, and the parsing of their wire form.

Wire facts (vendor doc `fakturoid-todos.txt`): a todo is ``{id, name, created_at,
completed_at, text, related_objects: [{type, id}], params: {...}}``; every field is
read-only; times are ISO 8601 with an offset and milliseconds; ``params`` values are
strings; ``related_objects[].type`` is one of six documented kinds.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gateway.core.errors import UpstreamBadResponse
from gateway.core.records import BadRecord, parse_each

from .vendor import FAKTUROID

PAGE_SIZE = 40

logger = logging.getLogger("gateway.vendors.fakturoid")


class RelatedKind(enum.Enum):
    """The documented kinds of object a todo can point at, by their wire names."""

    INVOICE = "Invoice"
    SUBJECT = "Subject"
    EXPENSE = "Expense"
    GENERATOR = "Generator"
    RECURRING_GENERATOR = "RecurringGenerator"
    EXPENSE_GENERATOR = "ExpenseGenerator"


# Where each kind opens in Fakturoid's web app, below the account: [guess] from the
# app's visible URL layout (`/{slug}/invoices/{id}`); the API doc does not give it.
_WEB_PATHS = {
    RelatedKind.INVOICE: "invoices",
    RelatedKind.SUBJECT: "subjects",
    RelatedKind.EXPENSE: "expenses",
    RelatedKind.GENERATOR: "generators",
    RelatedKind.RECURRING_GENERATOR: "recurring_generators",
    RelatedKind.EXPENSE_GENERATOR: "expense_generators",
}


@dataclass(frozen=True, slots=True)
class RelatedObject:
    kind: RelatedKind
    id: int
    url: str


@dataclass(frozen=True, slots=True)
class FakturoidTodo:
    id: int
    name: str
    text: str
    created_at: datetime
    completed_at: datetime | None
    related_objects: tuple[RelatedObject, ...]
    params: Mapping[str, Any]

    @property
    def completed(self) -> bool:
        return self.completed_at is not None

    @property
    def title(self) -> str:
        # `name` is a code such as `email_bounced`; the text is what a person reads.
        return self.text.strip() or self.name

    @property
    def url(self) -> str | None:
        # Todos have no page of their own in the web app; the first object they
        # concern is where someone acts on them.
        return self.related_objects[0].url if self.related_objects else None


@dataclass(frozen=True, slots=True)
class TodoPage:
    """One upstream page; a short page (fewer than 40 todos) is the last one."""

    number: int
    # A todo that could not be read keeps its place, so positions stay Fakturoid's.
    items: tuple[FakturoidTodo | BadRecord, ...]

    @property
    def is_last(self) -> bool:
        return len(self.items) < PAGE_SIZE


class TodoParser:
    """Turns wire todos into models; knows the account's web-app address for links."""

    def __init__(self, web_url: str, account_slug: str) -> None:
        self._account_url = f"{web_url.rstrip('/')}/{quote(account_slug, safe='')}"

    def page(self, number: int, body: Any) -> TodoPage:
        if not isinstance(body, list):
            raise UpstreamBadResponse(FAKTUROID, "a todo list was not a list")
        if len(body) > PAGE_SIZE:
            # Paging relies on 40 per page; a longer page means the contract changed.
            raise UpstreamBadResponse(FAKTUROID, "a todo page held more than 40 todos")
        return TodoPage(number=number, items=tuple(parse_each(body, self.todo)))

    def todo(self, data: Any) -> FakturoidTodo:
        try:
            completed_at = data["completed_at"]
            params = data.get("params") or {}
            if not isinstance(params, dict):
                raise TypeError("params is not an object")
            return FakturoidTodo(
                id=_integer(data["id"]),
                name=str(data["name"]),
                text=str(data.get("text") or ""),
                created_at=_time(data["created_at"]),
                completed_at=None if completed_at is None else _time(completed_at),
                related_objects=self._related(data.get("related_objects") or []),
                params=dict(params),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(FAKTUROID, "a todo had an unexpected shape") from exc

    def _related(self, items: Any) -> tuple[RelatedObject, ...]:
        if not isinstance(items, list):
            raise TypeError("related_objects is not a list")
        related: list[RelatedObject] = []
        for item in items:
            try:
                kind = RelatedKind(item["type"])
            except ValueError:
                # A kind Fakturoid added after the doc: skipping that reference keeps the
                # todo usable instead of failing the whole list over it.
                # The type is not logged: nothing read from an upstream body reaches a log.
                logger.warning("skipping a todo reference of an undocumented type")
                continue
            object_id = _integer(item["id"])
            url = f"{self._account_url}/{_WEB_PATHS[kind]}/{object_id}"
            related.append(RelatedObject(kind=kind, id=object_id, url=url))
        return tuple(related)


def _integer(value: Any) -> int:
    # bool is an int in Python, but never a valid id.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("not an integer id")
    return int(value)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("not a timestamp")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a timestamp without an offset")
    return parsed
