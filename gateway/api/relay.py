"""Relay building blocks: the Node interface, connections and offset cursors."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import strawberry

from gateway.core.errors import BadUserInput
from gateway.core.records import BadRecord
from gateway.core.types import Page

T = TypeVar("T")
M = TypeVar("M")
P = TypeVar("P")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "offset:"
# `first` has no default in lists that also take `last`: Relay forbids neither being
# sent, and a default `first` would be sent along with every `last`.
FIRST = (
    f"Items from the start (after `after`); {DEFAULT_PAGE_SIZE} when neither `first` "
    "nor `last` is sent."
)


@strawberry.enum(description="Ascending or descending, in the deprecated `sort` inputs.")
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
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page. Lists paged by offset (those "
        "with `last`/`before`) know it exactly. Lists walked forward only (`workItems`, "
        "`todos`, `invoices` filtered by status in ID order) cannot page back: there it "
        "is true after any `after` cursor (an earlier page handed that cursor out) and "
        "false on a first page."
    )
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


def decode_offset_cursor(cursor: str, argument: str = "after") -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith(_CURSOR_PREFIX):
            offset = int(raw[len(_CURSOR_PREFIX) :])
            if offset >= 0:
                return offset
    except (ValueError, UnicodeDecodeError, binascii.Error):
        pass
    raise BadUserInput(f"The `{argument}` cursor is not one this list handed out.", field=argument)


def _size(value: int, argument: str, cap: int) -> int:
    if not 1 <= value <= cap:
        raise BadUserInput(f"`{argument}` must be between 1 and {cap}.", field=argument)
    return value


def window(first: int | None, after: str | None, *, cap: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """Validate ``first``/``after`` into ``(offset, limit)``."""
    limit = _size(DEFAULT_PAGE_SIZE if first is None else first, "first", cap)
    offset = decode_offset_cursor(after) + 1 if after else 0
    return offset, limit


@dataclass(frozen=True, slots=True)
class Window:
    """The slice of an offset-paged list that ``first``/``after``/``last``/``before`` ask for.

    ``last`` without ``before`` counts back from the list's end, which only the total
    tells: then ``from_end`` is set and :meth:`ending_at` places the window once the
    total is known (one more upstream call, as `totalCount` costs).
    """

    offset: int
    limit: int  # 0 when the range between `after` and `before` is empty
    from_end: bool = False

    def ending_at(self, total: int) -> Window:
        offset = max(self.offset, total - self.limit)
        return Window(offset, max(0, total - offset))


def offset_window(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    cap: int = MAX_PAGE_SIZE,
) -> Window:
    """Relay's slicing over offsets: `after`/`before` bound the range, then `first`
    takes from its start or `last` from its end. `first` and `last` together are
    refused: the spec allows them, but the page they make is rarely what was meant."""
    if first is not None and last is not None:
        raise BadUserInput("Send `first` or `last`, not both.", field="last")
    start = decode_offset_cursor(after) + 1 if after else 0
    end = decode_offset_cursor(before, "before") if before else None
    if end is not None and end < start:
        end = start
    if last is None:
        limit = _size(DEFAULT_PAGE_SIZE if first is None else first, "first", cap)
        return Window(start, limit if end is None else min(limit, end - start))
    limit = _size(last, "last", cap)
    if end is None:
        return Window(start, limit, from_end=True)
    offset = max(start, end - limit)
    return Window(offset, end - offset)


Fetch = Callable[[int, int], Awaitable[P]]


async def read_window(
    window: Window, fetch: Fetch[P], count: Callable[[], Awaitable[int]] | None, empty: P
) -> P:
    """The page ``window`` asks for, fetched as ``fetch(offset, limit)``.

    ``last`` without ``before`` first asks ``count`` for the total; a list whose vendor
    reports none (``count`` None) refuses it, before any upstream call. A range with
    nothing in it is ``empty``, answered without a call.
    """
    if window.from_end:
        if count is None:
            raise BadUserInput(
                "This list's vendor reports no total, so `last` needs a `before` cursor.",
                field="last",
            )
        window = window.ending_at(await count())
    if window.limit == 0:
        return empty
    return await fetch(window.offset, window.limit)


def empty_page(window: Window) -> Page[Any]:
    """The page of a range with nothing in it: past the end when counted back from it,
    else just before the `before` item (which comes after it)."""
    return Page(items=[], offset=window.offset, has_next=not window.from_end)


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
