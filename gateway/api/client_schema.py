"""The client schema: the subgraph's types without any trace of federation.

The vendors declare their entities once, with ``@key`` (``strawberry.federation.type``),
for the subgraph that a federation router composes. A client that talks to the
gateway directly must not see ``@key``, its ``_FieldSet`` scalar or its directive
definition: code generators with strict scalars stop on ``_FieldSet``, and the
explorer's docs would open on types no client can use. Strawberry keeps a type's
directives on its definition, so the GraphQL schema is rebuilt here without the
federation directives, and each type keeps a copy of its definition without them
(read by the SDL printer)."""

from __future__ import annotations

import copy

from graphql import GraphQLNamedType, GraphQLSchema, is_specified_directive
from strawberry.federation.schema_directives import FederationDirective
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def _without_federation_directives(graphql_type: GraphQLNamedType) -> None:
    definition = graphql_type.extensions.get(BACKREF)
    if not isinstance(definition, StrawberryObjectDefinition) or not definition.directives:
        return
    kept = [d for d in definition.directives if not isinstance(d, FederationDirective)]
    if len(kept) == len(definition.directives):
        return
    # A copy: the definition itself is shared with any subgraph schema in the process.
    own = copy.copy(definition)
    own.directives = kept
    graphql_type.extensions = {**graphql_type.extensions, BACKREF: own}


def client_graphql_schema(built: GraphQLSchema, owner: object) -> GraphQLSchema:
    """``built`` without federation: only the specified directives, and only the types
    a client can reach (every federation type's name starts with `_`; none of ours do)."""
    types = [t for name, t in built.type_map.items() if not name.startswith("_")]
    for graphql_type in types:
        _without_federation_directives(graphql_type)
    schema = GraphQLSchema(
        query=built.query_type,
        mutation=built.mutation_type,
        subscription=built.subscription_type,
        types=types,
        directives=[d for d in built.directives if is_specified_directive(d)],
        extensions={BACKREF: owner},
    )
    schema._strawberry_schema = owner  # type: ignore[attr-defined]
    return schema
