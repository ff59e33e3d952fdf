"""How many upstream calls an operation may make, worked out before it runs.

The estimate walks the validated document (fragments included) with the
operation's variables and adds up, for every field that reaches a vendor, its
calls times the number of parent objects it runs for. It is an upper bound:
dataloaders may share calls the estimate counts twice, never the other way.

Each vendor states the cost of its own fields (``VendorGraphQL.costs``, next to
its resolvers in ``gateway/vendors/<vendor>/graphql``); the shared fields are
here (`first` defaults to 20):

==============================  =============================================================
field                           upstream calls
==============================  =============================================================
``workItems``                   10 batches (the merge's cap) per vendor asked
``nodes(ids:)``, ``_entities``  1 per id / representation; nested costs multiply by it
``node``                        1
every mutation                  2 (the current object is read, then written)
==============================  =============================================================

A vendor's list page is typically :func:`list_page`: 1 call, 2 with ``after``,
``before`` or ``last`` (the window may straddle two vendor pages), each item
multiplying nested costs. ``last`` without ``before`` counts back from the list's
total, so :func:`counted_list_page` adds what the vendor's total costs.
An OAuth vendor (``VendorPlugin.oauth``) may first fetch a token: one more call
per such vendor that a field of the operation may reach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

from gateway.api.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from gateway.core.types import Vendor
from gateway.core.work import MAX_BATCHES_PER_SOURCE
from gateway.plugin import AnyPlugin, Args, CostRule, FieldCost, VendorGraphQL

__all__ = ["Args", "CostRule", "FieldCost"]  # the vocabulary of VendorGraphQL.costs

MUTATION_CALLS = 2


@dataclass(frozen=True, slots=True)
class Fan:
    """How often a selection runs: for how many objects, in how many separate pages."""

    objects: int
    pages: int


def first_of(args: Args) -> int:
    """A list field's ``first``, capped as the resolver caps it."""
    first = args.get("first")
    if first is None:
        return DEFAULT_PAGE_SIZE  # as the resolvers read an absent or null `first`
    # Out-of-range values are refused by the resolver; count them as the cap meanwhile.
    return first if isinstance(first, int) and 1 <= first <= MAX_PAGE_SIZE else MAX_PAGE_SIZE


def page_size_of(args: Args) -> int:
    """A list page's size: ``last`` when paging backward, else ``first``."""
    last = args.get("last")
    return first_of({"first": last}) if last is not None else first_of(args)


def list_page(args: Args) -> FieldCost:
    """A vendor list read by offset: one call, two when the window may straddle pages."""
    straddles = args.get("after") or args.get("before") or args.get("last") is not None
    return FieldCost(calls=2 if straddles else 1, items=page_size_of(args))


def counted_list_page(count_calls: int) -> CostRule:
    """:func:`list_page`, plus ``count_calls`` for the total that ``last`` without
    ``before`` counts back from."""

    def rule(args: Args) -> FieldCost:
        page = list_page(args)
        from_end = args.get("last") is not None and not args.get("before")
        return FieldCost(calls=page.calls + (count_calls if from_end else 0), items=page.items)

    return rule


def each_of(argument: str) -> CostRule:
    def rule(args: Args) -> FieldCost:
        values = args.get(argument)
        count = len(values) if isinstance(values, list) else 1
        return FieldCost(calls=count, fan_out=count)

    return rule


def fixed(calls: int, **shape: Any) -> CostRule:
    return lambda args: FieldCost(calls=calls, **shape)


FieldKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class CostTable:
    """The cost of every field that reaches a vendor, and which OAuth vendors it may reach."""

    rules: Mapping[FieldKey, CostRule]
    token_vendors: Mapping[FieldKey, frozenset[Vendor]]
    oauth_vendors: frozenset[Vendor]

    @classmethod
    def build(cls, parts: Sequence[tuple[AnyPlugin, VendorGraphQL]]) -> CostTable:
        work_vendors = sum(1 for plugin, _ in parts if plugin.work_source)

        def work_items(args: Args) -> FieldCost:
            vendors = (args.get("filter") or {}).get("vendors")
            count = len(vendors) if vendors else work_vendors
            return FieldCost(calls=count * MAX_BATCHES_PER_SOURCE, items=first_of(args))

        rules: dict[FieldKey, CostRule] = {
            ("Query", "workItems"): work_items,
            ("Query", "nodes"): each_of("ids"),
            ("Query", "_entities"): each_of("representations"),
            ("Query", "node"): fixed(1),
        }
        oauth = frozenset(plugin.vendor for plugin, _ in parts if plugin.oauth)
        # Any id may name any vendor, and the merge asks every work vendor.
        tokens: dict[FieldKey, frozenset[Vendor]] = dict.fromkeys(rules, oauth)
        for plugin, graphql in parts:
            rules.update(graphql.costs)
            if plugin.oauth:
                for key in graphql.costs:
                    tokens[key] = tokens.get(key, frozenset()) | {plugin.vendor}
        return cls(rules=rules, token_vendors=tokens, oauth_vendors=oauth)


# Fields of a connection that hold its items, and of an edge that holds one.
_ITEM_FIELDS = {"nodes", "edges"}


class _Estimator:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues,
        costs: CostTable,
    ) -> None:
        self.schema = schema
        self.costs = costs
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
        rule = self.costs.rules.get((parent.name, name))
        if rule is None:
            return self.selection_set(node.selection_set, child_type, fan)
        cost = rule(self.arguments(definition, node))
        self.token_vendors |= self.costs.token_vendors.get((parent.name, name), frozenset())
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
    costs: CostTable,
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
    estimator = _Estimator(schema, document, coerced, costs)
    calls = estimator.selection_set(operation.selection_set, root, Fan(1, 1))
    if operation.operation.value == "mutation":
        # Mutations are not in the table: every one may read, then write, and any
        # vendor's mutation may need a token first.
        fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        return calls + MUTATION_CALLS * len(fields) + len(costs.oauth_vendors)
    return calls + len(estimator.token_vendors)
