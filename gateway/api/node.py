"""`node(id:)` and `nodes(ids:)`: any global ID, resolved through the dataloaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.relay import Node
from gateway.core.errors import BadUserInput, NotFound
from gateway.core.ids import GlobalId, decode_id
from gateway.core.principal import Access
from gateway.core.types import Vendor

NodeResolver = Callable[[Context, GlobalId], Awaitable[Any]]

R = TypeVar("R", bound=NodeResolver)

_resolvers: dict[str, tuple[Vendor, NodeResolver]] = {}


def node_resolver(type_name: str, vendor: Vendor) -> Callable[[R], R]:
    """Register how a GraphQL type, which only ``vendor`` has, is loaded from its global ID."""

    def register(resolver: R) -> R:
        _resolvers[type_name] = (vendor, resolver)
        return resolver

    return register


def node_id(raw_id: str) -> tuple[GlobalId, NodeResolver]:
    """Decode a global ID that names a type and vendor this gateway serves, or BAD_USER_INPUT."""
    global_id = decode_id(raw_id)
    registered = _resolvers.get(global_id.type_name)
    if registered is None:
        raise BadUserInput(f"No type {global_id.type_name!r} can be fetched by id.", field="id")
    vendor, resolver = registered
    if global_id.vendor != vendor:
        # Otherwise another vendor's id with this type name would load this vendor's object.
        raise BadUserInput(f"{raw_id!r} is not a valid id.", field="id")
    return global_id, resolver


async def load_node(context: Context, raw_id: str) -> Any:
    global_id, resolver = node_id(raw_id)
    if global_id.vendor not in context.adapters.vendors:
        # A vendor package imported in this process but not served by this gateway.
        raise BadUserInput(f"{raw_id!r} is not a valid id.", field="id")
    context.access.principal.require(global_id.vendor, Access.READ)
    found = await resolver(context, global_id)
    if found is None:
        raise NotFound(f"No {global_id.type_name} with id {raw_id!r}.", vendor=global_id.vendor)
    return found


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Fetch any object by its global ID.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        return await load_node(info.context, id)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Fetch many objects by global ID; an id that fails gives null there."
    )
    async def nodes(
        self, info: Info[Context, None], ids: list[strawberry.ID]
    ) -> list[Node | None] | None:
        if len(ids) > 100:
            raise BadUserInput("At most 100 ids at a time.", field="ids")
        # graphql-core awaits list items one by one, so a failing id nulls only its
        # own slot and reports its error at that path while the rest resolve.
        return [load_node(info.context, raw) for raw in ids]  # type: ignore[misc]
