"""`WorkItem`: the shape every vendor's actionable item shares, and `workItems`.

Each work vendor's item type (``VendorPlugin.work_source``) implements it with
the same normalized fields, so one list can hold and sort them all, while each
vendor type keeps its full set of fields. The GraphQL `Vendor` enum is made
from the served vendors (gateway.vendors.VENDORS, the registry's order).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Node, PageInfo
from gateway.core.errors import BadUserInput, Forbidden, GatewayError, VendorNotConfigured
from gateway.core.principal import Access, scope_for
from gateway.core.types import Vendor
from gateway.core.work import MergeState, SourceState, WorkQuery, WorkSort, WorkSource, merge
from gateway.state.work_snapshots import check_position
from gateway.vendors import VENDORS

if TYPE_CHECKING:

    class VendorEnum(enum.Enum):
        """The GraphQL `Vendor` enum; its members are the registry's vendors."""

else:
    VendorEnum = strawberry.enum(
        enum.Enum("Vendor", {name: name for name in (v.value.upper() for v in VENDORS)}),
        description="The upstream service an object comes from.",
    )


def vendor_enum(vendor: Vendor) -> VendorEnum:
    """``vendor`` as a value of the GraphQL `Vendor` enum."""
    return VendorEnum[vendor.value.upper()]


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


@strawberry.input
class WorkItemSort:
    field: WorkItemSortField = WorkItemSortField.DUE_AT
    descending: bool = False


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


@strawberry.type
class WorkItemConnection:
    edges: list[WorkItemEdge]
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


def _query(sort: WorkItemSort | None, filter: WorkItemFilter | None) -> WorkQuery:
    sort = sort or WorkItemSort()
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
        sort=WorkSort[sort.field.name],
        descending=sort.descending,
        completed=criteria.completed,
        due_before=criteria.due_before,
        due_after=criteria.due_after,
        search=criteria.search.strip() or None if criteria.search else None,
    )


def _fingerprint(query: WorkQuery, vendors: list[Vendor]) -> str:
    text = repr((query, sorted(v.value for v in vendors)))
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def encode_cursor(fingerprint: str, state: MergeState) -> str:
    payload = {
        "q": fingerprint,
        "s": {v.value: None if s is None else [s.position, s.skip] for v, s in state.items()},
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


# A cursor holds at most a page number, a token and an offset per work vendor,
# well under this; anything longer was not handed out here.
MAX_CURSOR_LENGTH = 512
# More records than any batch holds (whole sets are at most a few thousand).
MAX_SKIP = 100_000


def decode_cursor(cursor: str, fingerprint: str, vendors: list[Vendor]) -> MergeState:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["q"] != fingerprint:
            raise BadUserInput(
                "The `after` cursor belongs to other filters or sort.", field="after"
            )
        state: MergeState = {}
        for name, value in payload["s"].items():
            vendor = Vendor.named(name)
            if vendor not in vendors:
                raise ValueError("not a vendor of this list")
            if value is None:
                state[vendor] = None
                continue
            position, skip = value
            if not (position is None or isinstance(position, str)) or type(skip) is not int:
                raise ValueError("malformed position")
            if not 0 <= skip <= MAX_SKIP:
                raise ValueError("skip out of range")
            check_position(position)  # before any vendor is asked anything
            state[vendor] = SourceState(position, skip)
        return state
    except BadUserInput:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, binascii.Error) as exc:
        raise BadUserInput(
            "The `after` cursor is not one this list handed out.", field="after"
        ) from exc


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
        sort: WorkItemSort | None = None,
    ) -> WorkItemConnection | None:
        limit = DEFAULT_PAGE_SIZE if first is None else first
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}.", field="first")
        query = _query(sort, filter)
        context = info.context
        work_vendors = context.adapters.work_vendors
        asked = (
            [Vendor.named(v.name.lower()) for v in filter.vendors]
            if filter and filter.vendors
            else None
        )
        if asked and any(vendor not in work_vendors for vendor in asked):
            names = ", ".join(v.value.upper() for v in work_vendors)
            raise BadUserInput(f"`vendors` may name only {names}.", field="vendors")
        configured = context.adapters.configured
        if asked:
            vendors = [v for v in work_vendors if v in asked]
        else:
            # With none configured every vendor is asked, so each answers
            # VENDOR_NOT_CONFIGURED: an empty list must not pass for "no work".
            vendors = [v for v in work_vendors if v in configured] or list(work_vendors)
        # Vendors the client may not read are left out, and named as missing with FORBIDDEN.
        principal = context.access.principal
        forbidden = [v for v in vendors if not principal.may(v, Access.READ)]
        vendors = [v for v in vendors if v not in forbidden]
        fingerprint = _fingerprint(query, vendors)
        state = decode_cursor(after, fingerprint, vendors) if after else {}
        sources: list[WorkSource] = []
        missing: dict[Vendor, GatewayError] = {
            v: Forbidden(v, scope_for(v, Access.READ)) for v in forbidden
        }
        for vendor in vendors:
            try:
                sources.append(context.adapters.work_source(vendor))
            except VendorNotConfigured as exc:
                missing[vendor] = exc
        result = await merge(sources, query, state, limit)
        missing.update(result.failures)
        for error in missing.values():
            context.report(error, info.path.as_list())
        # A record that could not be read has no place in a merged order (no sort key,
        # no filter can be applied to it): it is reported here, its vendor still counts.
        for bad_record in result.bad_records:
            context.report(bad_record, info.path.as_list())
        nodes = [_work_item_types[record.vendor](record.item) for record in result.records]
        edges = [
            WorkItemEdge(cursor=encode_cursor(fingerprint, snapshot), node=node)
            for node, snapshot in zip(nodes, result.states, strict=True)
        ]
        return WorkItemConnection(
            edges=edges,
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=result.has_next,
                has_previous_page=bool(after),
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor
                if edges
                # A page that ended early on empty upstream pages still moves on.
                else encode_cursor(fingerprint, result.end_state)
                if result.has_next
                else after or None,
            ),
            missing_vendors=[vendor_enum(v) for v in missing],
            unconfigured_vendors=[vendor_enum(v) for v in work_vendors if v not in configured],
        )
