"""The Strawberry schema: the shared root fields plus every registered vendor's
queries and mutations, as a Federation v2 subgraph."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLUnionType
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from gateway.api.access import ClientAccessExtension, guard_vendor_fields
from gateway.api.cost import CostTable
from gateway.api.entities import resolve_entities
from gateway.api.limits import limit_extensions
from gateway.api.node import NodeQuery
from gateway.api.operation_choice import RequireOperationName
from gateway.api.work import WorkItemsQuery
from gateway.observability.scope import current_request
from gateway.plugin import AnyPlugin
from gateway.registry import PLUGINS


class GatewaySchema(strawberry.federation.Schema):
    # What each field costs upstream, for the call budget (gateway.api.limits).
    costs: CostTable

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business and reach it with a code;
        # only unexpected ones are logged, once, by the error formatter.
        del errors, execution_context

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        # Kept on the request's scope: the view's metrics, log line and span name the
        # operation as strawberry resolved it (operationName, or the document's own).
        execution_context = super()._create_execution_context(*args, **kwargs)
        scope = current_request.get()
        if scope is not None:
            scope.execution = execution_context
        return execution_context

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Strawberry annotates this method's return type with the _Entity union.
        return resolve_entities(
            representations,
            self._entity_type_names,
            lambda valid: super(GatewaySchema, self).entities_resolver(info, valid),
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


def build_schema(plugins: Sequence[AnyPlugin] = PLUGINS, *, traced: bool = False) -> GatewaySchema:
    """The schema for ``plugins``: their root fields after the shared ones; ``traced``
    adds a span per resolver that calls out (gateway.api.tracing)."""
    parts = [(plugin, plugin.graphql()) for plugin in plugins]
    query = _root("Query", [NodeQuery, WorkItemsQuery, *(g.query for _, g in parts if g.query)])
    mutations = [g.mutation for _, g in parts if g.mutation]
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        RequireOperationName,
        *limit_extensions(),
        ClientAccessExtension,
    ]
    if traced:
        from gateway.api.tracing import ResolverSpans  # imports OpenTelemetry

        extensions.append(ResolverSpans)
    built = GatewaySchema(
        query=query,
        mutation=_root("Mutation", mutations) if mutations else None,
        extensions=extensions,
    )
    built.costs = CostTable.build(parts)
    guard_vendor_fields(built, parts)
    return built


@cache
def schema_for(plugins: tuple[AnyPlugin, ...], *, traced: bool = False) -> GatewaySchema:
    """One schema per set of vendors (and tracing or not), shared by every app serving it."""
    return build_schema(plugins, traced=traced)


schema = schema_for(PLUGINS)
