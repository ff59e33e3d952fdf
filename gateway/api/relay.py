"""Relay building blocks: the Node interface, connections and offset cursors."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from gateway.errors import BadUserInput
from gateway.types import Page

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
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Items matching the filters, when the vendor reports it; else null."
    )


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
    page: Page[M], convert: Callable[[M], T], connection: type[Connection[T]] = Connection
) -> Connection[T]:
    nodes: Sequence[T] = [convert(item) for item in page.items]
    edges = [Edge(cursor=offset_cursor(page.offset + i), node=n) for i, n in enumerate(nodes)]
    return connection(
        edges=edges,
        nodes=list(nodes),
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )
