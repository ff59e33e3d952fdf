"""Relay building blocks: the Node interface, connections and offset cursors."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

import strawberry

from gateway.core.errors import BadUserInput
from gateway.core.records import BadRecord
from gateway.core.types import Page

T = TypeVar("T")
M = TypeVar("M")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "offset:"


@strawberry.enum(description="Ascending or descending, for every vendor's list sorts.")
class SortOrder(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.interface(description="An object with a global ID, resolvable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Global ID: base64url of `vendor:Type:vendorId`; opaque to clients."
    )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T | None = strawberry.field(
        description="Null, with an UPSTREAM_BAD_RESPONSE error at its path, when the "
        "vendor's record could not be read; the edge keeps its place and cursor."
    )


CursorAt = Callable[[int], str]


def nodes_of(items: Sequence[M | BadRecord], convert: Callable[[M], T]) -> list[T | None]:
    """Items as GraphQL nodes; a BadRecord becomes its error in its place.

    graphql-core raises an exception it finds as a list item's value at that item's
    path, so the error lands at e.g. ``["tasks", "nodes", 3]`` with that item null
    and the rest of the list intact. Items are nullable for this alone: a non-null
    item would carry the null up to the whole list, which is what must not happen.
    """
    return cast(
        list[T | None],
        [item.error if isinstance(item, BadRecord) else convert(item) for item in items],
    )


def edges_of(nodes: Sequence[T | None], cursor_at: CursorAt) -> list[Edge[T]]:
    """Edges built only when a client selects them: most ask for `nodes` alone, and a
    cursor per item is a base64 encoding (and an object) per item."""
    return [Edge(cursor=cursor_at(index), node=node) for index, node in enumerate(nodes)]


def _connection_edges(root: Connection[T]) -> list[Edge[T]]:
    return edges_of(root.nodes, root.cursor_at)


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(resolver=_connection_edges)
    nodes: list[T | None] = strawberry.field(
        description="Null items, each with an UPSTREAM_BAD_RESPONSE error at its path, are "
        "records the vendor sent in a shape the gateway cannot read."
    )
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Items matching the filters, when the vendor reports it; else null."
    )
    # The cursor of the item at an index of `nodes`.
    cursor_at: strawberry.Private[CursorAt]


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_offset_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith(_CURSOR_PREFIX):
            offset = int(raw[len(_CURSOR_PREFIX) :])
            if offset >= 0:
                return offset
    except (ValueError, UnicodeDecodeError, binascii.Error):
        pass
    raise BadUserInput("The `after` cursor is not one this list handed out.", field="after")


def window(first: int | None, after: str | None, *, cap: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """Validate ``first``/``after`` into ``(offset, limit)``."""
    limit = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= limit <= cap:
        raise BadUserInput(f"`first` must be between 1 and {cap}.", field="first")
    offset = decode_offset_cursor(after) + 1 if after else 0
    return offset, limit


def connection_from_page(
    page: Page[M | BadRecord],
    convert: Callable[[M], T],
    connection: type[Connection[T]] = Connection,
) -> Connection[T]:
    nodes = nodes_of(page.items, convert)
    offset = page.offset

    def cursor_at(index: int) -> str:
        return offset_cursor(offset + index)

    return connection(
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=offset > 0,
            start_cursor=cursor_at(0) if nodes else None,
            end_cursor=cursor_at(len(nodes) - 1) if nodes else None,
        ),
        total_count=page.total,
        cursor_at=cursor_at,
    )
