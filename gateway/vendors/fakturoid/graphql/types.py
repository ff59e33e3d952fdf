"""The `Todo` type and how one is loaded by its global id."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.node import node_resolver
from gateway.api.work import VendorEnum, WorkItem, register_work_item, vendor_enum
from gateway.core.ids import GlobalId, encode_id, expect_id

from ..loaders import KEY
from ..models import PAGE_SIZE, FakturoidTodo, RelatedObject
from ..paging import MAX_SCAN_PAGES
from ..vendor import FAKTUROID, TODO_TYPE

TYPE_NAME = TODO_TYPE
SCAN_LIMIT = MAX_SCAN_PAGES * PAGE_SIZE

HOW_A_TODO_IS_FOUND = (
    "Fakturoid has no endpoint for a single todo, so the gateway reads Fakturoid's todo "
    f"list page by page, newest first, until it finds the id: at most the {SCAN_LIMIT:,} "
    "newest todos. Pages go through the operation's page cache, so pages a `todos` list "
    "in the same operation has read cost nothing more, and several ids share one scan."
)


@strawberry.enum(description="The kinds of Fakturoid object a todo can concern.")
class TodoRelatedType(enum.Enum):
    INVOICE = "INVOICE"
    SUBJECT = "SUBJECT"
    EXPENSE = "EXPENSE"
    GENERATOR = "GENERATOR"
    RECURRING_GENERATOR = "RECURRING_GENERATOR"
    EXPENSE_GENERATOR = "EXPENSE_GENERATOR"


RELATED_TYPE_NAME = "TodoRelatedObject"


@strawberry.type(description="A Fakturoid object a todo concerns.")
class TodoRelatedObject:
    type: TodoRelatedType
    id: strawberry.ID = strawberry.field(
        description="Global id of the object (its vendor, kind and Fakturoid id), unique "
        "across every type, so client caches never merge an invoice and a subject that "
        "share a number. Not loadable with `node`: the gateway reads no such objects."
    )
    fakturoid_id: int = strawberry.field(
        description="The object's id in Fakturoid (unique only within its kind)."
    )
    url: str = strawberry.field(
        description="Where the object opens in Fakturoid's web app (the URL layout is a guess)."
    )

    @classmethod
    def from_model(cls, related: RelatedObject) -> TodoRelatedObject:
        kind = TodoRelatedType[related.kind.name]
        return cls(
            type=kind,
            # The kind is part of the key: Fakturoid numbers each kind on its own.
            id=strawberry.ID(encode_id(FAKTUROID, RELATED_TYPE_NAME, kind.name, related.id)),
            fakturoid_id=related.id,
            url=related.url,
        )


@strawberry.federation.type(
    keys=["id"],
    description="A Fakturoid todo: something Fakturoid noticed (an unpaired payment, a "
    "bounced e-mail, a VAT threshold) that someone must act on and tick off. Looked up "
    "by id (`todo`, `node`, federation), a todo is found by reading Fakturoid's pages, "
    "as `Query.todo` explains.",
)
class Todo(WorkItem):
    id: strawberry.ID
    title: str = strawberry.field(description="The todo's text (its `name` when it has none).")
    vendor: VendorEnum
    completed: bool = strawberry.field(description="Whether the todo has been ticked off.")
    due_at: datetime | None = strawberry.field(description="Always null: todos have no due date.")
    created_at: datetime | None
    updated_at: datetime | None = strawberry.field(
        description="Always null: Fakturoid does not report changes to todos."
    )
    completed_at: datetime | None
    url: str | None = strawberry.field(
        description="The first related object in Fakturoid's web app; null without one."
    )
    fakturoid_id: int = strawberry.field(description="The todo's id in Fakturoid.")
    name: str = strawberry.field(
        description="The kind of todo, a fixed code such as `email_bounced`."
    )
    text: str = strawberry.field(description="What happened, in the account's language.")
    related_objects: list[TodoRelatedObject] = strawberry.field(
        description="The Fakturoid objects the todo concerns; references of a kind the "
        "gateway does not know are left out."
    )
    params: JSON = strawberry.field(
        description="Details that depend on the kind of todo, as Fakturoid gives them: an "
        "object whose values are strings, e.g. `amount`, `currency`, `variable_symbol`."
    )

    def search_text(self) -> str:
        return self.text

    @classmethod
    def from_model(cls, todo: FakturoidTodo) -> Todo:
        return cls(
            id=strawberry.ID(encode_id(FAKTUROID, TYPE_NAME, todo.id)),
            title=todo.title,
            vendor=vendor_enum(FAKTUROID),
            completed=todo.completed,
            due_at=None,
            created_at=todo.created_at,
            updated_at=None,
            completed_at=todo.completed_at,
            url=todo.url,
            fakturoid_id=todo.id,
            name=todo.name,
            text=todo.text,
            related_objects=[TodoRelatedObject.from_model(r) for r in todo.related_objects],
            params=JSON(dict(todo.params)),
        )

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Todo | None:
        return await load_todo(info.context, expect_id(id, FAKTUROID, TYPE_NAME))


register_work_item(FAKTUROID, Todo.from_model)


def todo_key(global_id: GlobalId) -> int:
    return global_id.number()


@node_resolver(TYPE_NAME, FAKTUROID)
async def load_todo(context: Context, global_id: GlobalId) -> Todo | None:
    todo = await context.loaders.of(KEY).todo.load(todo_key(global_id))
    return Todo.from_model(todo) if todo else None
