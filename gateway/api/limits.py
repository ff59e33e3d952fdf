"""Operation limits: tokens, expanded size, depth, aliases and the upstream-call budget.

All are checked before execution, so a refused operation costs no upstream
call; all but the budget before validation too, so a refused document costs
no more than its parse and one linear walk. The limits come from
``GatewaySettings`` of the app serving the request (through
:data:`current_limits`), because the one schema is shared by every app in the
process; each extension is built per operation by a factory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.api.cost import CostTable, estimate_upstream_calls
from gateway.api.expansion import DocumentSize, measure
from gateway.core.errors import OperationTooComplex
from gateway.core.settings import GatewaySettings


@dataclass(frozen=True, slots=True)
class OperationLimits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_fields: int
    max_upstream_calls: int

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> OperationLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_fields=settings.max_fields,
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
    - field selections, depth and aliases of the document with every fragment
      expanded (gateway.api.expansion), right after parsing, so validation and
      execution, which walk that expansion, run only for a document within them
      (strawberry's QueryDepthLimiter and MaxAliasesLimiter, which this replaces,
      walk it as validation rules, once per spread: exponential time);
    - the upstream-call budget: estimated when execution starts, after parsing
      and validation, so the document is valid and its variables are at hand; a
      refusal is set as the result, which makes strawberry skip execution.
    """

    def __init__(self, limits: OperationLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        # After parsing (ParserCache's, or strawberry's own) and before the
        # validation hooks: ValidationCache validates in its on_validate, first.
        document = self.execution_context.graphql_document
        if document is not None:
            refusal = size_refusal(self.limits, _measured(document))
            if refusal is not None:
                raise refusal

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


def size_refusal(limits: OperationLimits, size: DocumentSize) -> OperationTooComplex | None:
    """The first limit the expanded document is over, fields first: over that
    one, its depth and aliases were worked out from a document that never runs."""
    checks = (
        (
            "fields",
            size.fields,
            limits.max_fields,
            "field selections once its fragments are expanded",
        ),
        ("depth", size.depth, limits.max_depth, "levels of nested fields"),
        ("aliases", size.aliases, limits.max_aliases, "aliases"),
    )
    for limit, actual, maximum, what in checks:
        if actual > maximum:
            return OperationTooComplex(
                f"The operation has {actual} {what}; at most {maximum} are allowed.",
                limit=limit,
                maximum=maximum,
                actual=actual,
            )
    return None


# The measure of recent documents, keyed by the parsed document itself (ParserCache
# hands the same one for the same text), so a key cannot name another document.
_SIZES: OrderedDict[int, tuple[DocumentNode, DocumentSize]] = OrderedDict()
_SIZES_LIMIT = 256


def _measured(document: DocumentNode) -> DocumentSize:
    kept = _SIZES.get(id(document))
    if kept is not None and kept[0] is document:
        _SIZES.move_to_end(id(document))
        return kept[1]
    size = measure(document)
    _SIZES[id(document)] = (document, size)
    while len(_SIZES) > _SIZES_LIMIT:
        _SIZES.popitem(last=False)
    return size


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


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """The factory for the schema: it reads the limits of the request it serves."""

    def limits() -> SchemaExtension:
        return OperationLimitsExtension(limits_in_effect())

    return [limits]
