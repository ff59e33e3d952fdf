"""How many upstream calls an operation may make, worked out before it runs.

The estimate walks the validated document (fragments included) with the
operation's variables and adds up, for every field that reaches a vendor, its
calls times the number of parent objects it runs for. It is an upper bound:
dataloaders may share calls the estimate counts twice, never the other way.

The costs, read from the resolvers and adapters (`first` defaults to 20):

==============================  =============================================================
field                           upstream calls
==============================  =============================================================
``tasks``, ``projects``,        1 per list, 2 with ``after`` (the window may straddle two
``invoices``                    vendor pages); each item below it multiplies nested costs
``invoices { totalCount }``     +1 (ReadyDesk's ``count_only`` call, made only when selected)
``Invoice.lineItems``           none under ``invoices``/``invoice`` (the same call, with
                                ``include_line_items=Y``); under ``node``/``nodes``/``_entities``
                                1 per page (one batched by-ID read): counted as 1 per page
``Project.tasks``               1 per project (the tasks loader is keyed by project)
``todos``                       ceil(first / 40) Fakturoid pages (+1 with ``after``); with
                                ``completed`` up to 50 pages, the most it scans for matches
``workItems``                   10 batches (the merge's cap) per vendor asked
``nodes(ids:)``, ``_entities``  1 per id / representation; nested costs multiply by it
``node``, ``task``, ``todo``,   1 each (per parent object when nested, e.g.
``project``, ``projectTask``,   ``ProjectTask.project``)
``invoice``, by-id references
``Project.currencyCode``,       1 per project: absent from Zoho's list rows, read through the
``Project.unbilledHours``       by-id project loader
every mutation                  2 (the current object is read, then written)
==============================  =============================================================

Zoho and Fakturoid use OAuth, so an operation that reaches either may first
fetch a token: one more call per such vendor (``TOKEN_VENDORS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from gateway.api.relay import MAX_PAGE_SIZE
from gateway.api.work import WORK_VENDORS
from gateway.types import Vendor
from gateway.vendors.fakturoid.models import PAGE_SIZE
from gateway.vendors.fakturoid.paging import MAX_SCAN_PAGES
from gateway.work import MAX_BATCHES_PER_SOURCE

MUTATION_CALLS = 2


@dataclass(frozen=True, slots=True)
class Fan:
    """How often a selection runs: for how many objects, in how many separate pages."""

    objects: int
    pages: int


@dataclass(frozen=True, slots=True)
class FieldCost:
    calls: int  # per parent object, or per page for batched fields
    items: int | None = None  # a list page: how many objects its connection holds
    per_page: bool = False  # batched across a page of parents (one dataloader call)
    fan_out: int | None = None  # a plain list whose objects multiply nested costs


Args = Mapping[str, Any]
CostRule = Callable[[Args], FieldCost]


def _first(args: Args) -> int:
    first = args.get("first")
    # Out-of-range values are refused by the resolver; count them as the cap meanwhile.
    return first if isinstance(first, int) and 1 <= first <= MAX_PAGE_SIZE else MAX_PAGE_SIZE


def _vendor_list_page(args: Args) -> FieldCost:
    return FieldCost(calls=2 if args.get("after") else 1, items=_first(args))


def _todos(args: Args) -> FieldCost:
    first = _first(args)
    if args.get("completed") is not None:
        return FieldCost(calls=MAX_SCAN_PAGES, items=first)
    pages = math.ceil(first / PAGE_SIZE) + (1 if args.get("after") else 0)
    return FieldCost(calls=pages, items=first)


def _work_items(args: Args) -> FieldCost:
    vendors = (args.get("filter") or {}).get("vendors") or WORK_VENDORS
    return FieldCost(calls=len(vendors) * MAX_BATCHES_PER_SOURCE, items=_first(args))


def _each_of(argument: str) -> CostRule:
    def rule(args: Args) -> FieldCost:
        values = args.get(argument)
        count = len(values) if isinstance(values, list) else 1
        return FieldCost(calls=count, fan_out=count)

    return rule


def _fixed(calls: int, **shape: Any) -> CostRule:
    return lambda args: FieldCost(calls=calls, **shape)


COSTS: dict[tuple[str, str], CostRule] = {
    ("Query", "tasks"): _vendor_list_page,
    ("Query", "projects"): _vendor_list_page,
    ("Query", "invoices"): _vendor_list_page,
    ("InvoiceConnection", "totalCount"): _fixed(1),
    ("Invoice", "lineItems"): _fixed(1, per_page=True),
    ("Project", "tasks"): lambda args: FieldCost(calls=1, items=_first(args)),
    ("Query", "todos"): _todos,
    ("Query", "workItems"): _work_items,
    ("Query", "nodes"): _each_of("ids"),
    ("Query", "_entities"): _each_of("representations"),
    ("Query", "node"): _fixed(1),
    ("Query", "task"): _fixed(1),
    ("Query", "todo"): _fixed(1),
    ("Query", "project"): _fixed(1),
    ("Query", "projectTask"): _fixed(1),
    ("Query", "invoice"): _fixed(1),
    ("ProjectTask", "project"): _fixed(1),
    # Missing from Zoho's list rows: read through the by-id project loader (shared
    # by both fields, so counting each is an upper bound).
    ("Project", "currencyCode"): _fixed(1),
    ("Project", "unbilledHours"): _fixed(1),
}

# Which OAuth vendors a field may reach (a token fetch each); any id may name either.
_ANY_OAUTH = frozenset({Vendor.ZOHO, Vendor.FAKTUROID})
TOKEN_VENDORS: dict[tuple[str, str], frozenset[Vendor]] = {
    ("Query", "projects"): frozenset({Vendor.ZOHO}),
    ("Query", "project"): frozenset({Vendor.ZOHO}),
    ("Query", "projectTask"): frozenset({Vendor.ZOHO}),
    ("Project", "tasks"): frozenset({Vendor.ZOHO}),
    ("ProjectTask", "project"): frozenset({Vendor.ZOHO}),
    ("Query", "todos"): frozenset({Vendor.FAKTUROID}),
    ("Query", "todo"): frozenset({Vendor.FAKTUROID}),
    ("Query", "workItems"): _ANY_OAUTH,
    ("Query", "node"): _ANY_OAUTH,
    ("Query", "nodes"): _ANY_OAUTH,
    ("Query", "_entities"): _ANY_OAUTH,
}

# Fields of a connection that hold its items, and of an edge that holds one.
_ITEM_FIELDS = {"nodes", "edges"}


class _Estimator:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: VariableValues
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.token_vendors: set[Vendor] = set()
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def selection_set(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType,
        fan: Fan,
        page: Fan | None = None,
    ) -> int:
        """Calls of ``selections`` on ``parent``; ``page`` is set inside a connection."""
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, fan, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, narrowed or parent, fan, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    narrowed = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection_set(
                        fragment.selection_set, narrowed or parent, fan, page
                    )
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, fan: Fan, page: Fan | None) -> int:
        name = node.name.value
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None:  # __typename and introspection cost nothing
            return 0
        child_type = get_named_type(definition.type)
        if page is not None and name in _ITEM_FIELDS:
            # A connection's items: everything below runs once per item.
            return self.selection_set(node.selection_set, child_type, page)
        rule = COSTS.get((parent.name, name))
        if rule is None:
            return self.selection_set(node.selection_set, child_type, fan)
        cost = rule(self.arguments(definition, node))
        self.token_vendors |= TOKEN_VENDORS.get((parent.name, name), frozenset())
        if cost.per_page:
            return fan.pages * cost.calls + self.selection_set(node.selection_set, child_type, fan)
        own = fan.objects * cost.calls
        if cost.items is not None:
            items = Fan(objects=fan.objects * cost.items, pages=fan.objects)
            return own + self.selection_set(node.selection_set, child_type, fan, items)
        if cost.fan_out is not None:
            fan = Fan(objects=fan.objects * cost.fan_out, pages=fan.pages)
        return own + self.selection_set(node.selection_set, child_type, fan)

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self.variables)
        except (GraphQLError, TypeError, ValueError):
            # Arguments that do not coerce fail in the resolver, before any call;
            # counting them with their defaults is enough to bound the rest.
            return {}


def estimate_upstream_calls(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The most upstream calls the operation can make (see the table above)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if not isinstance(coerced, VariableValues):
        return 0  # execution stops at these variable errors, before any resolver runs
    estimator = _Estimator(schema, document, coerced)
    calls = estimator.selection_set(operation.selection_set, root, Fan(1, 1))
    if operation.operation.value == "mutation":
        # Mutations are not in the table: every one may read, then write, and any
        # vendor's mutation may need a token first.
        fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        return calls + MUTATION_CALLS * len(fields) + len(_ANY_OAUTH)
    return calls + len(estimator.token_vendors)
