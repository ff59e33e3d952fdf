"""Plans, compiled once per (schema, document, operation, the values of the variables
that @skip/@include read) and kept in a bounded LRU per schema, beside the parser's
and the validator's caches. A schema change is a new schema, so a new cache; a
different operation or document is a different key."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    DirectiveNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.executor import Executor
from graphql.language import Visitor, visit

from gateway.api.compiled.selection import FieldPlan, fields_of

PLANS_PER_SCHEMA = 256
# Each combination of @skip/@include variable values is its own plan; past this many
# a document's further combinations are compiled per request, not kept.
VARIANTS_PER_DOCUMENT = 16
_INCREMENTAL = frozenset({"defer", "stream"})
_INTROSPECTION = frozenset({"__schema", "__type"})


class DocumentPlans:
    """One operation of one document: whether plans can run it, and its plans."""

    __slots__ = ("conditions", "eligible", "variants")

    def __init__(
        self, operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]
    ) -> None:
        scan = _Scan()
        for definition in (operation, *fragments):
            visit(definition, scan)
        self.conditions: tuple[str, ...] = tuple(sorted(scan.conditions))
        # Mutations run serially and subscriptions stream: graphql-core runs those, as
        # it does incremental delivery and introspection.
        self.eligible = operation.operation == OperationType.QUERY and not scan.incremental
        self.variants: dict[tuple[Any, ...], list[FieldPlan]] = {}


class _Scan(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.conditions: set[str] = set()
        self.incremental = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        name = node.name.value
        if name in _INCREMENTAL:
            self.incremental = True
        if name in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.conditions.add(argument.value.name.value)


class PlanCache:
    def __init__(self, maxsize: int = PLANS_PER_SCHEMA) -> None:
        self.maxsize = maxsize
        self._documents: OrderedDict[tuple[str, int], DocumentPlans] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def root_fields(self, executor: Executor[Any]) -> list[FieldPlan] | None:
        """The operation's root fields as a plan, or None: graphql-core runs it."""
        operation = executor.operation
        if operation.loc is None or not executor.error_propagation:
            return None
        if executor.abort_signal is not None:
            return None
        # The document's text and where the operation starts in it: the parsed
        # document is cached by the same text, and validated before it gets here.
        key = (operation.loc.source.body, operation.loc.start)
        plans = self._documents.get(key)
        if plans is None:
            plans = DocumentPlans(operation, executor.fragment_definitions.values())
            self._documents[key] = plans
            if len(self._documents) > self.maxsize:
                self._documents.popitem(last=False)
        else:
            self._documents.move_to_end(key)
        if not plans.eligible:
            return None
        coerced = executor.variable_values.coerced
        variant = tuple(coerced.get(name) for name in plans.conditions)
        fields = plans.variants.get(variant)
        if fields is None:
            fields = _compile_root(executor)
            if fields is None:
                plans.eligible = False
                return None
            if len(plans.variants) < VARIANTS_PER_DOCUMENT:
                plans.variants[variant] = fields
        return fields


def _compile_root(executor: Executor[Any]) -> list[FieldPlan] | None:
    root_type = executor.schema.get_root_type(executor.operation.operation)
    if root_type is None:
        return None
    grouped, defer_usages, _ = collect_fields(
        executor.schema,
        executor.fragments,
        executor.variable_values,
        root_type,
        executor.operation,
        executor.hide_suggestions,
    )
    if defer_usages or any(
        details[0].node.name.value in _INTROSPECTION for details in grouped.values()
    ):
        return None
    return fields_of(executor, root_type, grouped.items())


_CACHES: WeakKeyDictionary[GraphQLSchema, PlanCache] = WeakKeyDictionary()


def plan_cache(schema: GraphQLSchema) -> PlanCache:
    cache = _CACHES.get(schema)
    if cache is None:
        cache = _CACHES[schema] = PlanCache()
    return cache


def plan_caches() -> list[PlanCache]:
    """Every live schema's plans."""
    return list(_CACHES.values())
