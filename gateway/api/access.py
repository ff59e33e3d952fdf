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

import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import FieldExtension
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.field import StrawberryField

from gateway.api.context import Context
from gateway.api.limits import OperationMeasures
from gateway.core.errors import ClientBudgetSpent
from gateway.core.principal import Access
from gateway.core.ratelimit import retry_after
from gateway.core.types import Vendor
from gateway.plugin import AnyPlugin, VendorGraphQL


class VendorScope(FieldExtension):
    """A vendor root field's scope check, run before its resolver."""

    def __init__(self, vendor: Vendor, access: Access) -> None:
        self.vendor = vendor
        self.access = access

    def _check(self, info: Any) -> None:
        context = info.context
        if not isinstance(context, Context):
            # No client to check: refused (and masked), never let through.
            raise TypeError("a vendor field was resolved without the gateway's context")
        context.access.principal.require(self.vendor, self.access)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


class VendorFieldScopes:
    """Which scope each vendor root field needs, known from the plugin whose mixin
    declares it. The schema asks for a root type's fields as it builds them
    (``Schema.get_fields``) and gets copies carrying the check: nothing shared, not
    the mixins' own fields nor a built schema, is changed."""

    def __init__(self, parts: Sequence[tuple[AnyPlugin, VendorGraphQL]]) -> None:
        self._needs: dict[tuple[str, str], tuple[Vendor, Access]] = {}
        for plugin, graphql in parts:
            for root, mixin, access in (
                ("Query", graphql.query, Access.READ),
                ("Mutation", graphql.mutation, Access.WRITE),
            ):
                if mixin is None:
                    continue
                for field in get_object_definition(mixin, strict=True).fields:
                    self._needs[(root, field.python_name)] = (plugin.vendor, access)
        self._fields: dict[str, list[StrawberryField]] = {}

    def fields(self, definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        if definition.name not in ("Query", "Mutation"):
            return definition.fields
        kept = self._fields.get(definition.name)
        if kept is None:
            kept = [self._scoped(definition.name, field) for field in definition.fields]
            self._fields[definition.name] = kept
        return kept

    def _scoped(self, root: str, field: StrawberryField) -> StrawberryField:
        need = self._needs.get((root, field.python_name))
        if need is None:
            return field
        scoped = copy.copy(field)
        scoped.extensions = [*field.extensions, VendorScope(*need)]
        return scoped


def with_introspection_rule(context: ExecutionContext) -> None:
    """graphql-core's rule refusing introspection, for a client it is off for."""
    client = context.context
    if isinstance(client, Context) and not client.access.introspection:
        # A fixed rule class: the rules tuple stays a stable validation-cache key.
        context.validation_rules = (*context.validation_rules, NoSchemaIntrospectionCustomRule)


async def reserve_calls(context: ExecutionContext, measures: OperationMeasures) -> int | None:
    """Before execution: the operation's estimate taken from the client's budget, or a
    refusal set as the result (which makes strawberry skip execution). What was taken,
    or None when the client has no budget."""
    client = context.context
    budget = client.access.calls if isinstance(client, Context) else None
    if budget is None or not isinstance(client, Context):
        return None
    if context.graphql_document is None or context.result:
        return 0
    estimate = measures.estimated_calls(context)
    key = client.access.principal.key
    wait = await budget.limiter.acquire(key, budget.quotas, estimate) if estimate else None
    if wait is None:
        return estimate
    refusal = ClientBudgetSpent(
        f"This operation could make up to {estimate} upstream calls, more than "
        f"this client's budget ({budget.quotas[0].describe()}) has left; "
        "retry later or ask for less.",
        retry_after=retry_after(wait),
    )
    error = GraphQLError(refusal.message, original_error=refusal)
    context.result = GraphQLExecutionResult(data=None, errors=[error])
    return 0


async def settle_calls(context: ExecutionContext, reserved: int | None) -> None:
    """After execution: the client's budget corrected to the calls really made."""
    client = context.context
    if reserved is None or not isinstance(client, Context):
        return
    budget = client.access.calls
    assert budget is not None
    made = client.state.calls.made
    if made != reserved:
        await budget.limiter.adjust(client.access.principal.key, budget.quotas, made - reserved)
