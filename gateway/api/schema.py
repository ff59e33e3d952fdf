"""The Strawberry schema: the shared root fields plus every registered vendor's
queries and mutations; a plain client schema, or with ``federation`` (the
``GATEWAY_FEDERATION`` setting) a Federation v2 subgraph for a router to compose.

Each app builds its own (:func:`build_schema`, about 10 ms) with its limits, and
nothing changes it afterwards; nothing here is built at import time."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLUnionType
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from gateway.api.access import VendorFieldScopes
from gateway.api.client_schema import client_graphql_schema
from gateway.api.compiled.executor import CompiledExecutor
from gateway.api.context import Context
from gateway.api.cost import CostTable
from gateway.api.entities import resolve_entities
from gateway.api.limits import OperationLimits, OperationMeasures
from gateway.api.node import NodeQuery
from gateway.api.operation import OperationRules, run_operation
from gateway.api.scalars import SCALAR_OVERRIDES
from gateway.api.subscriptions import ChangeSubscription, PublishChange
from gateway.api.work import WorkItemsQuery
from gateway.core.settings import GatewaySettings
from gateway.plugin import AnyPlugin
from gateway.registry import PLUGINS


class GatewaySchema(strawberry.Schema):
    """What both schemas share: costs, vendor scopes, quiet errors, the request's state."""

    def __init__(
        self,
        *,
        costs: CostTable,
        scopes: VendorFieldScopes,
        rules: Callable[[], OperationRules],
        **options: Any,
    ) -> None:
        # What each field costs upstream, for the call budget (gateway.api.limits).
        self.costs = costs
        # Read while the schema is built (get_fields), so set before it is.
        self._scopes = scopes
        super().__init__(**options)
        # The gateway's rules are all that hooks into an operation: it runs without
        # strawberry's extension machinery (gateway.api.operation).
        lean = list(self.extensions) == [rules] and not self.directives
        self._lean_rules = rules if lean else None

    @property
    def lean(self) -> bool:
        """Whether a query or mutation runs without strawberry's extension machinery."""
        return self._lean_rules is not None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        rules = self._lean_rules
        if rules is None:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        return await run_operation(
            self,
            rules(),
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        return self._scopes.fields(type_definition)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business and reach it with a code;
        # only unexpected ones are logged, once, by the error formatter.
        del errors, execution_context

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        # Kept on the request's state: the view's metrics, log line and span name the
        # operation as strawberry resolved it (operationName, or the document's own).
        execution_context = super()._create_execution_context(*args, **kwargs)
        context = execution_context.context
        if isinstance(context, Context):
            context.state.execution = execution_context
        return execution_context


class ClientSchema(GatewaySchema):
    """The schema clients see: no `_entities`, `_service`, `@key`, `@link` or `_` types."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._schema = client_graphql_schema(self._schema, self)

    def _warn_for_federation_directives(self) -> None:
        # The entities' @key is declared for the subgraph; this schema drops it.
        pass


class SubgraphSchema(GatewaySchema, strawberry.federation.Schema):
    """The Federation v2 subgraph, for a router that composes it with others."""

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Strawberry annotates this method's return type with the _Entity union.
        return resolve_entities(
            representations,
            self._entity_type_names,
            lambda valid: super(SubgraphSchema, self).entities_resolver(info, valid),
            info.context.access.principal,
        )

    @cached_property
    def _entity_type_names(self) -> frozenset[str]:
        union = self._schema.get_type("_Entity")
        assert isinstance(union, GraphQLUnionType)
        return frozenset(member.name for member in union.types)


def _root(name: str, mixins: Sequence[type]) -> type:
    # Strawberry collects the fields of every base, in order.
    return strawberry.type(type(name, tuple(mixins), {}))


def _mutation_root(mutations: Sequence[type]) -> type:
    root = _root("Mutation", mutations)
    # Every write publishes its change once the vendor confirmed it (gateway.api.changes).
    # Copies: the fields are the plugins' own, shared by every schema built.
    fields = root.__strawberry_definition__.fields  # type: ignore[attr-defined]
    for index, mutation in enumerate(fields):
        published = copy.copy(mutation)
        published.extensions = [*mutation.extensions, PublishChange()]
        fields[index] = published
    return root


def build_schema(
    plugins: Sequence[AnyPlugin] = PLUGINS,
    *,
    traced: bool = False,
    limits: OperationLimits | None = None,
    federation: bool = False,
    executor: str | None = None,
) -> GatewaySchema:
    """The schema for ``plugins``: their root fields after the shared ones; ``traced``
    adds a span per resolver that calls out (gateway.api.tracing); ``limits``: the
    operation limits (default: from the environment's GATEWAY_* settings);
    ``federation``: the subgraph schema instead of the client one; ``executor``:
    ``compiled`` or ``graphql-core`` (default: the GATEWAY_EXECUTOR setting)."""
    parts = [(plugin, plugin.graphql()) for plugin in plugins]
    query = _root("Query", [NodeQuery, WorkItemsQuery, *(g.query for _, g in parts if g.query)])
    mutations = [g.mutation for _, g in parts if g.mutation]
    costs = CostTable.build(parts)
    measures = OperationMeasures(costs)
    if limits is None or executor is None:
        defaults = GatewaySettings()
        limits = limits or OperationLimits.from_settings(defaults)
        executor = executor or defaults.executor

    def rules() -> OperationRules:
        return OperationRules(limits, measures)

    extensions: list[Any] = [rules]
    if traced:
        from gateway.api.tracing import ResolverSpans  # imports OpenTelemetry

        extensions.append(ResolverSpans)
    schema_class = SubgraphSchema if federation else ClientSchema
    return schema_class(
        costs=costs,
        scopes=VendorFieldScopes(parts),
        query=query,
        mutation=_mutation_root(mutations) if mutations else None,
        subscription=_root("Subscription", [ChangeSubscription]),
        extensions=extensions,
        rules=rules,
        scalar_overrides=dict(SCALAR_OVERRIDES),
        execution_context_class=CompiledExecutor if executor == "compiled" else None,
    )
