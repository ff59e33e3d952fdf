"""What a client may reach, enforced in the graph: scopes, introspection, call budget.

- Each vendor's root fields need ``<vendor>:read`` and its mutations
  ``<vendor>:write``: which vendor a field belongs to is known from the plugin
  whose mixin declares it, so vendors declare nothing more and the core names
  none. A refused field answers FORBIDDEN at its own path and the rest of the
  document still answers. (The shared fields, ``node``, ``nodes``,
  ``_entities`` and ``workItems``, check each object's vendor themselves.)
- Introspection is refused by graphql-core's own rule when switched off.
- A client's upstream calls a minute: the operation's estimate (gateway.api.cost)
  is taken from its budget before execution, so a refusal costs no upstream
  call; afterwards the budget is corrected to the calls really made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLFieldResolver, GraphQLObjectType, default_field_resolver
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema import Schema
from strawberry.types.base import get_object_definition

from gateway.api.context import Context
from gateway.api.cost import CostTable
from gateway.api.limits import estimated_calls
from gateway.core.errors import ClientBudgetSpent
from gateway.core.principal import Access
from gateway.core.ratelimit import retry_after
from gateway.core.types import Vendor
from gateway.plugin import AnyPlugin, VendorGraphQL


def guard_vendor_fields(schema: Schema, parts: Sequence[tuple[AnyPlugin, VendorGraphQL]]) -> None:
    """Wrap each vendor root field's resolver in its scope check."""
    graphql_schema = schema._schema
    for plugin, graphql in parts:
        for mixin, root, access in (
            (graphql.query, graphql_schema.query_type, Access.READ),
            (graphql.mutation, graphql_schema.mutation_type, Access.WRITE),
        ):
            if mixin is None or root is None:
                continue
            definition = get_object_definition(mixin, strict=True)
            for field in definition.fields:
                name = schema.config.name_converter.get_graphql_name(field)
                _guard(root, name, plugin.vendor, access)


def _guard(root: GraphQLObjectType, name: str, vendor: Vendor, access: Access) -> None:
    field = root.fields[name]
    resolve: GraphQLFieldResolver = field.resolve or default_field_resolver

    def guarded(source: Any, info: Any, **arguments: Any) -> Any:
        context = info.context
        if not isinstance(context, Context):
            # No client to check: refused (and masked), never let through.
            raise TypeError("a vendor field was resolved without the gateway's context")
        context.access.principal.require(vendor, access)
        return resolve(source, info, **arguments)

    field.resolve = guarded


class ClientAccessExtension(SchemaExtension):
    def on_operation(self) -> Any:
        context = self.execution_context
        client = context.context
        if isinstance(client, Context) and not client.access.introspection:
            # A fixed rule class: the rules tuple stays a stable validation-cache key.
            context.validation_rules = (
                *context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        client = context.context
        costs = getattr(context.schema, "costs", None)
        budget = client.access.calls if isinstance(client, Context) else None
        if budget is None or not isinstance(costs, CostTable) or not isinstance(client, Context):
            yield
            return
        key = client.access.principal.key
        reserved = 0
        if context.graphql_document is not None and not context.result:
            estimate = estimated_calls(context, costs)
            wait = await budget.limiter.acquire(key, budget.quotas, estimate) if estimate else None
            if wait is None:
                reserved = estimate
            else:
                refusal = ClientBudgetSpent(
                    f"This operation could make up to {estimate} upstream calls, more than "
                    f"this client's budget ({budget.quotas[0].describe()}) has left; "
                    "retry later or ask for less.",
                    retry_after=retry_after(wait),
                )
                error = GraphQLError(refusal.message, original_error=refusal)
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
        made = len(client.calls.calls)
        if made != reserved:
            await budget.limiter.adjust(key, budget.quotas, made - reserved)
