"""The `Subscription` root: changes made through the gateway, as they happen
(gateway.api.changes), and the field extension that publishes them from every
mutation the vendor confirmed.

The client's vendor `read` scope is checked when it subscribes and again for
every change, so a change of a vendor it may not read never reaches it.
`workItemChanged`'s item criteria are applied by gateway.api.work_changes."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLInterfaceType
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from gateway.api.changes import change_of
from gateway.api.context import Context
from gateway.api.work import VendorEnum, WorkItemFilter, filter_query, vendor_enum
from gateway.api.work_changes import ItemFilter, has_item_criteria
from gateway.api.writes import sent_since, writes_sent
from gateway.core.errors import BadUserInput, GatewayError
from gateway.core.ids import decode_id
from gateway.core.principal import Access, Principal
from gateway.core.types import Vendor
from gateway.state.changes import ChangeBus, ChangeEvent
from gateway.vendors import VENDORS


@strawberry.enum(description="What became of the object.")
class ChangeKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


@strawberry.type(description="An object changed through the gateway.")
class Change:
    vendor: VendorEnum
    type: str = strawberry.field(description="The object's GraphQL type.")
    id: strawberry.ID = strawberry.field(description="The object's global id.")
    kind: ChangeKind
    at: datetime = strawberry.field(description="When the gateway saw the vendor confirm it.")
    matches_filter: bool | None = strawberry.field(
        default=None,
        description="`workItemChanged` with item criteria in its `filter`: whether the "
        "item matches them after this change (false: it left the filtered list). Null "
        "without such criteria, for deletions, and when the item could not be read.",
    )

    @classmethod
    def of(cls, event: ChangeEvent, matches_filter: bool | None = None) -> Change:
        return cls(
            vendor=vendor_enum(event.vendor),
            type=event.type_name,
            id=strawberry.ID(event.id),
            kind=ChangeKind[event.kind.upper()],
            at=event.at,
            matches_filter=matches_filter,
        )


class SubscriptionsUnavailable(GatewayError):
    code = "BAD_REQUEST"


def _bus(context: Context) -> ChangeBus:
    if context.changes is None:
        raise SubscriptionsUnavailable("This gateway serves no subscriptions.")
    return context.changes


async def _changes(
    context: Context, wanted: Callable[[ChangeEvent], bool]
) -> AsyncGenerator[ChangeEvent, None]:
    principal = context.access.principal
    async with _bus(context).subscribe(principal.key) as queue:
        while True:
            event = await queue.get()
            # The scopes again: a subscription lives long, and each change is its own read.
            if wanted(event) and principal.may(event.vendor, Access.READ):
                yield event


def _work_item_types(info: Info[Context, None]) -> frozenset[str]:
    schema = info.schema._schema
    interface = schema.get_type("WorkItem")
    assert isinstance(interface, GraphQLInterfaceType)
    return frozenset(t.name for t in schema.get_possible_types(interface))


@strawberry.type
class ChangeSubscription:
    @strawberry.subscription(description="Changes of one node, by its global id.")
    async def node_changed(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[Change, None]:
        target = decode_id(id)
        info.context.access.principal.require(target.vendor, Access.READ)
        async for event in _changes(info.context, lambda event: event.id == id):
            yield Change.of(event)

    @strawberry.subscription(
        description="Changes of work items, of these vendors or all, that concern `filter` "
        "as `workItems` applies it: with item criteria (completed, due bounds, search), "
        "a created or updated item is delivered when it matches after the change, or "
        "when this subscription delivered it as matching before (it left the list; "
        "`matchesFilter` is false); deletions always. Both `vendors` and "
        "`filter.vendors`: the vendors in both."
    )
    async def work_item_changed(
        self,
        info: Info[Context, None],
        vendors: list[VendorEnum] | None = None,
        filter: WorkItemFilter | None = None,
    ) -> AsyncGenerator[Change, None]:
        context = info.context
        query = filter_query(filter)
        chosen = _readable(context.access.principal, vendors, filter.vendors if filter else None)
        types = _work_item_types(info)

        def wanted(event: ChangeEvent) -> bool:
            return event.vendor in chosen and event.type_name in types

        if not has_item_criteria(query):
            # No read at all: the event alone says all this subscription needs.
            async for event in _changes(context, wanted):
                yield Change.of(event)
            return
        items = ItemFilter(query)
        async for event in _changes(context, wanted):
            delivery = await items.screen(context, event)
            if delivery is not None:
                yield Change.of(delivery.event, delivery.matches)


def _readable(
    principal: Principal,
    vendors: list[VendorEnum] | None,
    filtered: list[VendorEnum] | None,
) -> frozenset[Vendor]:
    """The vendors named (in both lists when both are given), each one the client may
    read, or every vendor it may read when none is named."""
    named = [
        {Vendor.named(v.value.lower()) for v in given} for given in (vendors, filtered) if given
    ]
    for vendor in set().union(*named):
        principal.require(vendor, Access.READ)
    if not named:
        return frozenset(v for v in VENDORS if principal.may(v, Access.READ))
    chosen = frozenset.intersection(*map(frozenset, named))
    if not chosen:
        raise BadUserInput(
            "`vendors` and `filter.vendors` have no vendor in common.", field="vendors"
        )
    return chosen


class PublishChange(FieldExtension):
    """On a mutation field: the change its answer reports, published once it is in,
    if a write went out for it. A replayed idempotent answer, or a set-state that
    found the item already so, changed nothing and publishes nothing."""

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Context, None],
        **kwargs: Any,
    ) -> Any:
        before = writes_sent()
        payload = await next_(source, info, **kwargs)
        bus = info.context.changes
        if bus is not None and sent_since(before):
            event = change_of(info.field_name, payload)
            if event is not None:
                await bus.publish(event)
        return payload
