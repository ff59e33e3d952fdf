"""Operation limits: tokens, expanded size, depth, aliases and the upstream-call budget.

All are checked before execution, so a refused operation costs no upstream
call; all but the budget before validation too, so a refused document costs
no more than its parse and one linear walk. The limits come from
``GatewaySettings`` of the app whose schema this is (each app builds its own);
gateway.api.operation applies them to each operation:

- tokens: strawberry's MaxTokensLimiter is just the parser's ``max_tokens``
  option, set the same way;
- field selections, depth and aliases of the document with every fragment
  expanded (gateway.api.expansion), right after parsing, so validation and
  execution, which walk that expansion, run only for a document within them
  (strawberry's QueryDepthLimiter and MaxAliasesLimiter, which this replaces,
  walk it as validation rules, once per spread: exponential time);
- the upstream-call budget: estimated when execution starts, after parsing and
  validation, so the document is valid and its variables are at hand; a refusal
  is set as the result, which makes strawberry skip execution.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
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


def budget_refusal(
    limits: OperationLimits, measures: OperationMeasures, context: ExecutionContext
) -> GraphQLExecutionResult | None:
    """The refusal of a (parsed, valid) operation that could make more upstream calls
    than ``GATEWAY_MAX_UPSTREAM_CALLS``, as the result that makes strawberry skip
    execution; None when it is within the limit."""
    maximum = limits.max_upstream_calls
    actual = measures.estimated_calls(context)
    if actual <= maximum:
        return None
    refusal = OperationTooComplex(
        f"The operation could make up to {actual} upstream calls; "
        f"at most {maximum} are allowed. Ask for fewer or smaller pages.",
        limit="upstreamCalls",
        maximum=maximum,
        actual=actual,
    )
    error = GraphQLError(refusal.message, original_error=refusal)
    return GraphQLExecutionResult(data=None, errors=[error])


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


_SIZES_LIMIT = 256
_ESTIMATES_LIMIT = 512
_EstimateKey = tuple[str, str | None, bytes]


class OperationMeasures:
    """The expanded size and the upstream-call estimate of recent operations, each
    worked out once: a client's usual traffic repeats the same documents with the
    same variables. Owned by the schema whose costs it estimates; bounded."""

    def __init__(self, costs: CostTable) -> None:
        self.costs = costs
        # Keyed by the parsed document itself (ParserCache hands the same one for the
        # same text), and holding it, so a key cannot name another document.
        self._sizes: OrderedDict[int, tuple[DocumentNode, DocumentSize]] = OrderedDict()
        # Keyed by the query text, not the parsed document, so a key cannot outlive
        # what it names.
        self._estimates: OrderedDict[_EstimateKey, int] = OrderedDict()

    def size(self, document: DocumentNode) -> DocumentSize:
        kept = self._sizes.get(id(document))
        if kept is not None and kept[0] is document:
            self._sizes.move_to_end(id(document))
            return kept[1]
        size = measure(document)
        self._sizes[id(document)] = (document, size)
        while len(self._sizes) > _SIZES_LIMIT:
            self._sizes.popitem(last=False)
        return size

    def estimated_calls(self, context: ExecutionContext) -> int:
        """The most upstream calls the (parsed, valid) operation can make."""
        key = _estimate_key(context.query or "", context.operation_name, context.variables)
        if key is not None and key in self._estimates:
            self._estimates.move_to_end(key)
            return self._estimates[key]
        assert context.graphql_document is not None
        actual = estimate_upstream_calls(
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
            self.costs,
        )
        if key is not None:
            self._estimates[key] = actual
            while len(self._estimates) > _ESTIMATES_LIMIT:
                self._estimates.popitem(last=False)
        return actual


def _estimate_key(
    query: str, operation: str | None, variables: dict[str, Any] | None
) -> _EstimateKey | None:
    try:
        encoded = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None  # variables that JSON cannot hold are estimated afresh
    return (query, operation, encoded)
