"""`workItemChanged`'s item criteria: which changes of work items a filtered
subscription delivers, and whether the item matches its filter now.

A change event names an item, not its state. With item criteria (completed, due
bounds, search) each created or updated item is read by its global id through
the gateway's by-id path, with fresh loaders and a request state of its own (so
scopes, the read cache and read collapsing apply as to any read, and no earlier
event's load answers a later one), and matched with `workItems`' own rules
(``WorkQuery.matches``). The event has already superseded that item's kept
reads, so the read is the vendor's state after the change.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from gateway.api.context import Context, Loaders
from gateway.api.node import load_node
from gateway.api.work import WorkItem
from gateway.core.errors import GatewayError, NotFound
from gateway.core.work_source import WorkQuery, WorkRecord
from gateway.observability.scope import RequestState, current_request
from gateway.state.changes import ChangeEvent

logger = logging.getLogger("gateway.subscriptions")

# How many delivered-as-matching items a subscription remembers: those it tells
# about when they leave the list. Bounded, so a long-lived subscription over a busy
# vendor holds a few hundred kilobytes at most; an item forgotten here leaves the
# list unseen (docs/subscriptions.md says what a client does about that).
REMEMBERED_ITEMS = 4096


def has_item_criteria(query: WorkQuery) -> bool:
    """Whether the filter says anything about an item itself, beyond its vendor."""
    return any(
        value is not None
        for value in (query.completed, query.due_before, query.due_after, query.search)
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A change to deliver, and whether its item matches the filter now (None: the
    subscription has no item criteria, the item was deleted, or it could not be read)."""

    event: ChangeEvent
    matches: bool | None


@dataclass(slots=True)
class ItemFilter:
    """One subscription's item criteria and the items it delivered as matching."""

    query: WorkQuery
    limit: int = REMEMBERED_ITEMS
    delivered: OrderedDict[str, None] = field(default_factory=OrderedDict)

    async def screen(self, context: Context, event: ChangeEvent) -> Delivery | None:
        """The delivery of ``event``, or None when it concerns an item that neither
        matches nor was delivered as matching."""
        if event.kind == "deleted":
            # It may have been in the client's list, whether or not this subscription saw it.
            self.delivered.pop(event.id, None)
            return Delivery(event, None)
        matches = await self._matches(context, event)
        if matches is None:
            return Delivery(event, None)  # could not tell: the client decides
        if matches:
            self.delivered[event.id] = None
            self.delivered.move_to_end(event.id)
            while len(self.delivered) > self.limit:
                self.delivered.popitem(last=False)
            return Delivery(event, True)
        if event.id in self.delivered:
            del self.delivered[event.id]  # it left the filtered list
            return Delivery(event, False)
        return None

    async def _matches(self, context: Context, event: ChangeEvent) -> bool | None:
        try:
            item = await read_item(context, event.id)
        except NotFound:
            return False  # gone since: no longer in the list
        except GatewayError as error:
            # The code only: the message and details may name the vendor's answer.
            logger.warning(
                "workItemChanged could not read the %s %s of a change (%s); "
                "delivered with matchesFilter null",
                event.vendor.value,
                event.type_name,
                error.code,
            )
            return None
        if not isinstance(item, WorkItem):
            return None
        return self.query.matches(record_of(event, item))


async def read_item(context: Context, global_id: str) -> object:
    """The item by id, as `node(id:)` reads it, in an operation of its own: fresh
    loaders (a subscription's context lives long; aiodataloader caches per loader),
    and a request state the read cache, collapsing and call accounting see."""
    state = RequestState(
        request_id=uuid.uuid4().hex,
        telemetry=context.state.telemetry,
        headers=context.state.headers,
        principal=context.state.principal,
    )
    own = dataclasses.replace(
        context, loaders=Loaders(context.adapters), state=state, partial_errors=[]
    )
    token = current_request.set(state)
    try:
        return await load_node(own, global_id)
    finally:
        current_request.reset(token)


def record_of(event: ChangeEvent, item: WorkItem) -> WorkRecord:
    """The item as the vendor's work source would hand it to `workItems`' filter."""
    return WorkRecord(
        vendor=event.vendor,
        key=event.id,
        title=item.title,
        completed=item.completed,
        due_at=item.due_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        completed_at=item.completed_at,
        url=item.url,
        item=item,
        text=item.search_text(),
    )
