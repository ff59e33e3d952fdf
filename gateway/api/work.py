"""`WorkItem`: the shape every vendor's actionable item shares, and `workItems`.

Each work vendor's item type (``VendorPlugin.work_source``) implements it with
the same normalized fields, so one list can hold and sort them all, while each
vendor type keeps its full set of fields. The GraphQL `Vendor` enum is made
from the served vendors (gateway.vendors.VENDORS, the registry's order).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.ordering import ORDER_BY, SORT_DEPRECATION, Direction, sort_keys
from gateway.api.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Node, PageInfo
from gateway.api.work_cursor import WorkCursors, decode_cursor, encode_cursor, fingerprint
from gateway.api.work_vendors import WorkVendors
from gateway.core.errors import BadUserInput, GatewayError
from gateway.core.types import Vendor
from gateway.core.work import MergeResult, WorkQuery, WorkSort, merge
from gateway.vendors import VENDORS

if TYPE_CHECKING:

    class VendorEnum(enum.Enum):
        """The GraphQL `Vendor` enum; its members are the registry's vendors."""

else:
    VendorEnum = strawberry.enum(
        enum.Enum("Vendor", {name: name for name in (v.value.upper() for v in VENDORS)}),
        description="The upstream service an object comes from.",
    )


# Looked up once per item of every list.
_VENDOR_ENUMS: dict[Vendor, VendorEnum] = {v: VendorEnum[v.value.upper()] for v in VENDORS}


def vendor_enum(vendor: Vendor) -> VendorEnum:
    """``vendor`` as a value of the GraphQL `Vendor` enum."""
    found = _VENDOR_ENUMS.get(vendor)
    return found if found is not None else VendorEnum[vendor.value.upper()]


@strawberry.interface(description="Something someone must act on, from any vendor.")
class WorkItem(Node):
    title: str
    vendor: VendorEnum
    completed: bool
    due_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    url: str | None = strawberry.field(
        description="Where the item (or the object it concerns) opens in the vendor's web app."
    )

    def search_text(self) -> str:
        """What `search` looks in besides the title: the text the vendor's work source
        puts in its records (``WorkRecord.text``), so an item read by id matches the
        filter as it would in `workItems`."""
        return ""


WorkItemFactory = Callable[[Any], WorkItem]
_work_item_types: dict[Vendor, WorkItemFactory] = {}


def register_work_item(vendor: Vendor, factory: WorkItemFactory) -> None:
    """Say which GraphQL type a vendor's work records become."""
    _work_item_types[vendor] = factory


@strawberry.enum
class WorkItemSortField(enum.Enum):
    DUE_AT = "DUE_AT"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    TITLE = "TITLE"


@strawberry.input(description="Deprecated: the shape of `orderBy`'s `WorkItemOrder` replaces it.")
class WorkItemSort:
    field: WorkItemSortField = WorkItemSortField.DUE_AT
    descending: bool = False


@strawberry.input(description="A sort key; the merged list sorts by one field at a time.")
class WorkItemOrder:
    field: WorkItemSortField
    direction: Direction = Direction.ASC


@strawberry.input(description="Filters; those a vendor cannot apply, the gateway applies.")
class WorkItemFilter:
    vendors: list[VendorEnum] | None = strawberry.field(
        default=None, description="Only these vendors; default: every configured one."
    )
    completed: bool | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text that the title (or text) contains."
    )


@strawberry.type
class WorkItemEdge:
    cursor: str
    node: WorkItem


def _work_item_edges(root: WorkItemConnection) -> list[WorkItemEdge]:
    """Edges built only when a client selects them: most ask for `nodes` alone, and
    each cursor is the list's state after its record, rebuilt and encoded."""
    return [
        WorkItemEdge(cursor=cursor, node=node)
        for node, cursor in zip(root.nodes, root.cursors, strict=True)
    ]


@strawberry.type
class WorkItemConnection:
    edges: list[WorkItemEdge] = strawberry.field(resolver=_work_item_edges)
    nodes: list[WorkItem]
    page_info: PageInfo
    missing_vendors: list[VendorEnum] = strawberry.field(
        description="Vendors whose items are absent because they failed; see `errors`."
    )
    unconfigured_vendors: list[VendorEnum] = strawberry.field(
        description="Work vendors whose credentials this gateway lacks: their items are "
        "never in the list. When one is asked for in `filter.vendors`, or when no work "
        "vendor is configured, it is also in `missingVendors` with a VENDOR_NOT_CONFIGURED "
        "error; otherwise it is left out without an error."
    )
    cursors: strawberry.Private[WorkCursors]


def _page_size(first: int | None) -> int:
    limit = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}.", field="first")
    return limit


def _work_query(
    order_by: list[WorkItemOrder] | None, sort: WorkItemSort | None, filter: WorkItemFilter | None
) -> WorkQuery:
    """The filters and sort, checked."""
    legacy = [(sort.field.name, sort.descending)] if sort else None
    keys = sort_keys(order_by, legacy, one_key=True, vendor="`workItems`")
    (field, descending), *_ = keys or [(WorkItemSortField.DUE_AT.name, False)]
    criteria = filter or WorkItemFilter()
    if criteria.search is not None and len(criteria.search) > 200:
        raise BadUserInput("`search` must be at most 200 characters.", field="search")
    for name, bound in (("dueBefore", criteria.due_before), ("dueAfter", criteria.due_after)):
        if bound is not None and bound.tzinfo is None:
            raise BadUserInput("Due-date bounds need a time zone offset.", field=name)
    if (
        criteria.due_before is not None
        and criteria.due_after is not None
        and criteria.due_after >= criteria.due_before
    ):
        raise BadUserInput("`dueAfter` must be before `dueBefore`.", field="dueAfter")
    return WorkQuery(
        sort=WorkSort[field],
        descending=descending,
        completed=criteria.completed,
        due_before=criteria.due_before,
        due_after=criteria.due_after,
        search=criteria.search.strip() or None if criteria.search else None,
    )


def filter_query(filter: WorkItemFilter | None) -> WorkQuery:
    """``filter`` checked as `workItems` checks it (the same errors), in the default order."""
    return _work_query(None, None, filter)


@strawberry.type
class WorkItemsQuery:
    @strawberry.field(
        description="Actionable work from every configured vendor, merged into one sorted "
        "list. Vendors are asked concurrently; a vendor that fails is left out, named in "
        "`missingVendors` and reported in `errors`, and the rest is still returned."
    )
    async def work_items(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        filter: WorkItemFilter | None = None,
        sort: Annotated[
            WorkItemSort | None, strawberry.argument(deprecation_reason=SORT_DEPRECATION)
        ] = None,
        order_by: Annotated[
            list[WorkItemOrder] | None,
            strawberry.argument(description=ORDER_BY + " At most one key."),
        ] = None,
    ) -> WorkItemConnection | None:
        limit = _page_size(first)
        query = _work_query(order_by, sort, filter)
        asked = filter.vendors if filter and filter.vendors else None
        named = [Vendor.named(member.name.lower()) for member in asked] if asked else None
        vendors = WorkVendors.chosen(info.context, named)
        key = fingerprint(query, vendors.asked)
        state = decode_cursor(after, key, vendors.asked) if after else {}
        result = await merge(vendors.sources(info.context.adapters), query, state, limit)
        vendors.missing.update(result.failures)
        _report(info, [*vendors.missing.values(), *result.bad_records])
        return _connection(result, WorkCursors(key, result.states), vendors, after)


def _report(info: Info[Context, None], errors: list[GatewayError]) -> None:
    """Missing vendors, and records that could not be read: a record with no sort key
    has no place in a merged order and no filter applies to it, so it is reported
    here, and its vendor still counts."""
    for error in errors:
        info.context.report(error, info.path.as_list())


def _connection(
    result: MergeResult, cursors: WorkCursors, vendors: WorkVendors, after: str | None
) -> WorkItemConnection:
    nodes = [_work_item_types[record.vendor](record.item) for record in result.records]
    if nodes:
        end_cursor: str | None = cursors.at(-1)
    elif result.has_next:
        # A page that ended early on empty upstream pages still moves on.
        end_cursor = encode_cursor(cursors.fingerprint, result.end_state)
    else:
        end_cursor = after or None
    return WorkItemConnection(
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=result.has_next,
            has_previous_page=bool(after),
            start_cursor=cursors.at(0) if nodes else None,
            end_cursor=end_cursor,
        ),
        missing_vendors=[vendor_enum(v) for v in vendors.missing],
        unconfigured_vendors=[vendor_enum(v) for v in vendors.unconfigured],
        cursors=cursors,
    )
