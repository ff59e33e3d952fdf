"""Operation limits: depth, aliases, tokens and the upstream-call budget.

All are checked before execution, so a refused operation costs no upstream
call. The limits come from ``GatewaySettings`` of the app serving the request
(through :data:`current_limits`), because the one schema is shared by every app
in the process; each extension is built per operation by a factory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from graphql import ASTValidationRule, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.types import ExecutionContext

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


class OperationLimitsExtension(SchemaExtension):
    """Every operation limit in one extension: each extension costs a context
    manager per hook per request, a few per cent of a small query's CPU.

    - tokens: strawberry's MaxTokensLimiter is just the parser's ``max_tokens``
      option, set here the same way;
    - depth and aliases: the validation rules of strawberry's QueryDepthLimiter
      and MaxAliasesLimiter, added to the operation's rules;
    - the upstream-call budget: estimated when execution starts, after parsing
      and validation, so the document is valid and its variables are at hand; a
      refusal is set as the result, which makes strawberry skip execution.
    """

    def __init__(self, limits: OperationLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.max_tokens
        context.validation_rules = context.validation_rules + _validation_rules(
            self.limits.max_depth, self.limits.max_aliases
        )
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        costs = getattr(context.schema, "costs", None)
        valid = context.graphql_document is not None and not context.result
        if valid and isinstance(costs, CostTable):
            self._check_budget(costs)
        yield

    def _check_budget(self, costs: CostTable) -> None:
        context = self.execution_context
        maximum = self.limits.max_upstream_calls
        actual = estimated_calls(context, costs)
        if actual > maximum:
            refusal = OperationTooComplex(
                f"The operation could make up to {actual} upstream calls; "
                f"at most {maximum} are allowed. Ask for fewer or smaller pages.",
                limit="upstreamCalls",
                maximum=maximum,
                actual=actual,
            )
            error = GraphQLError(refusal.message, original_error=refusal)
            context.result = GraphQLExecutionResult(data=None, errors=[error])


def estimated_calls(context: ExecutionContext, costs: CostTable) -> int:
    """The most upstream calls the (parsed, valid) operation can make; remembered."""
    actual = _estimate(costs, context.query or "", context.operation_name, context.variables)
    if actual is None:
        assert context.graphql_document is not None
        actual = estimate_upstream_calls(
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
            costs,
        )
        _remember(costs, context.query or "", context.operation_name, context.variables, actual)
    return actual


# Estimates of recent operations: the same document with the same variables (a
# client's usual traffic) is estimated once. Keyed by the query text, not the
# parsed document, so a key cannot outlive what it names; bounded.
_ESTIMATES: OrderedDict[tuple[int, str, str | None, bytes], int] = OrderedDict()
_ESTIMATES_LIMIT = 512


def _estimate_key(
    costs: CostTable, query: str, operation: str | None, variables: dict[str, Any] | None
) -> tuple[int, str, str | None, bytes] | None:
    try:
        encoded = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None  # variables that JSON cannot hold are estimated afresh
    return (id(costs), query, operation, encoded)


def _estimate(
    costs: CostTable, query: str, operation: str | None, variables: dict[str, Any] | None
) -> int | None:
    key = _estimate_key(costs, query, operation, variables)
    if key is None or key not in _ESTIMATES:
        return None
    _ESTIMATES.move_to_end(key)
    return _ESTIMATES[key]


def _remember(
    costs: CostTable,
    query: str,
    operation: str | None,
    variables: dict[str, Any] | None,
    estimate: int,
) -> None:
    key = _estimate_key(costs, query, operation, variables)
    if key is None:
        return
    _ESTIMATES[key] = estimate
    while len(_ESTIMATES) > _ESTIMATES_LIMIT:
        _ESTIMATES.popitem(last=False)


@cache
def _validation_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    # Strawberry's limiters build a new rule class per instance; reusing one per
    # limit keeps the rules tuple stable, which is the key of the validation cache.
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """The factory for the schema: it reads the limits of the request it serves."""

    def limits() -> SchemaExtension:
        return OperationLimitsExtension(limits_in_effect())

    return [limits]
