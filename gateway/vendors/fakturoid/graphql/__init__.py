"""Fakturoid todos in the graph: `Todo`, the `todos`/`todo` queries, `toggleTodoCompletion`."""

import math

from gateway.api.cost import Args, FieldCost, first_of, fixed
from gateway.plugin import VendorGraphQL

from ..models import PAGE_SIZE
from ..paging import MAX_SCAN_PAGES
from .operations import FakturoidMutation, FakturoidQuery, TodoPayload
from .types import Todo, TodoRelatedObject, TodoRelatedType


def _todos_cost(args: Args) -> FieldCost:
    # ceil(first / 40) pages (+1 with `after`); with `completed`, up to the most
    # pages the scan for matches reads.
    first = first_of(args)
    if args.get("completed") is not None:
        return FieldCost(calls=MAX_SCAN_PAGES, items=first)
    pages = math.ceil(first / PAGE_SIZE) + (1 if args.get("after") else 0)
    return FieldCost(calls=pages, items=first)


GRAPHQL = VendorGraphQL(
    query=FakturoidQuery,
    mutation=FakturoidMutation,
    costs={("Query", "todos"): _todos_cost, ("Query", "todo"): fixed(1)},
)

__all__ = [
    "GRAPHQL",
    "FakturoidMutation",
    "FakturoidQuery",
    "Todo",
    "TodoPayload",
    "TodoRelatedObject",
    "TodoRelatedType",
]
