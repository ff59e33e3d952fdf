"""The one Strawberry schema: every vendor's queries and mutations, as a
Federation v2 subgraph."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLUnionType
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from gateway.api.entities import resolve_entities
from gateway.api.limits import limit_extensions
from gateway.api.node import NodeQuery
from gateway.api.work import WorkItemsQuery
from gateway.vendors.fakturoid.graphql import FakturoidMutation, FakturoidQuery
from gateway.vendors.invoiced.graphql import InvoicedMutation, InvoicedQuery
from gateway.vendors.readydesk.graphql import ReadyDeskQuery
from gateway.vendors.zoho.graphql import ZohoMutation, ZohoQuery


@strawberry.type
class Query(NodeQuery, WorkItemsQuery, InvoicedQuery, ZohoQuery, ReadyDeskQuery, FakturoidQuery):
    pass


@strawberry.type
class Mutation(InvoicedMutation, ZohoMutation, FakturoidMutation):
    pass


class GatewaySchema(strawberry.federation.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business and reach it with a code;
        # only unexpected ones are logged, once, by the error formatter.
        del errors, execution_context

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Strawberry annotates this method's return type with the _Entity union.
        return resolve_entities(
            representations,
            self._entity_type_names,
            lambda valid: super(GatewaySchema, self).entities_resolver(info, valid),
        )

    @cached_property
    def _entity_type_names(self) -> frozenset[str]:
        union = self._schema.get_type("_Entity")
        assert isinstance(union, GraphQLUnionType)
        return frozenset(member.name for member in union.types)


def build_schema() -> GatewaySchema:
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        *limit_extensions(),
    ]
    return GatewaySchema(query=Query, mutation=Mutation, extensions=extensions)


schema = build_schema()
