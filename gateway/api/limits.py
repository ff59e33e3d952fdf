"""Operation limits: depth, aliases, tokens and the upstream-call budget.

All are checked before execution, so a refused operation costs no upstream
call. The limits come from ``GatewaySettings`` of the app serving the request
(through :data:`current_limits`), because the one schema is shared by every app
in the process; each extension is built per operation by a factory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

from graphql import ASTValidationRule, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from gateway.api.cost import CostTable, estimate_upstream_calls
from gateway.config import GatewaySettings
from gateway.errors import OperationTooComplex


@dataclass(frozen=True, slots=True)
class OperationLimits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_upstream_calls: int

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> OperationLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_upstream_calls=settings.max_upstream_calls,
        )


# Set by the HTTP view for each request; the schema alone falls back to the environment.
current_limits: ContextVar[OperationLimits | None] = ContextVar("current_limits", default=None)


@cache
def _environment_limits() -> OperationLimits:
    return OperationLimits.from_settings(GatewaySettings())


def limits_in_effect() -> OperationLimits:
    return current_limits.get() or _environment_limits()


class UpstreamCallBudget(SchemaExtension):
    """Refuses an operation whose estimated upstream calls exceed the budget.

    Runs when execution starts, after parsing and validation, so the document is
    known to be valid and its variables are at hand; a refusal is set as the
    result, which makes strawberry skip execution altogether.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        costs = getattr(context.schema, "costs", None)
        if document is not None and isinstance(costs, CostTable) and not context.result:
            actual = estimate_upstream_calls(
                context.schema._schema, document, context.operation_name, context.variables, costs
            )
            if actual > self.maximum:
                refusal = OperationTooComplex(
                    f"The operation could make up to {actual} upstream calls; "
                    f"at most {self.maximum} are allowed. Ask for fewer or smaller pages.",
                    limit="upstreamCalls",
                    maximum=self.maximum,
                    actual=actual,
                )
                error = GraphQLError(refusal.message, original_error=refusal)
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield


@cache
def _validation_rules(max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
    # Strawberry's limiters build a new rule class per instance; reusing one per
    # limit keeps the rules tuple stable, which is the key of the validation cache.
    return [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """Factories for the schema: each reads the limits of the request it serves."""

    def tokens() -> SchemaExtension:
        return MaxTokensLimiter(max_token_count=limits_in_effect().max_tokens)

    def depth_and_aliases() -> SchemaExtension:
        limits = limits_in_effect()
        return AddValidationRules(_validation_rules(limits.max_depth, limits.max_aliases))

    def budget() -> SchemaExtension:
        return UpstreamCallBudget(limits_in_effect().max_upstream_calls)

    return [tokens, depth_and_aliases, budget]
