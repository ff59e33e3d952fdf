"""The gateway's rules around every operation, as one schema extension, and the run
of a query or mutation that applies them without strawberry's extension machinery.

Strawberry runs each hook of each extension as a context manager made afresh per
request (a ``contextlib`` wrapper around a bound generator, entered through an exit
stack per stage): with the rules as five extensions, that machinery cost about a
tenth of the CPU of a ten-item list query. The rules, in the order they apply:

1. when the operation starts: the parser's token limit (``GATEWAY_MAX_TOKENS``, what
   strawberry's MaxTokensLimiter sets) and, with introspection off for the client,
   graphql-core's rule refusing it;
2. parsing: the parsed document of a text seen before (a document that does not
   parse is parsed again, and reported, by strawberry's own step); once parsed, the
   size limits of the expanded document (gateway.api.limits), then the rule that a
   document of several operations names the one to run
   (gateway.api.operation_choice);
3. validation, kept per document and rule set;
4. when execution starts: the upstream-call estimate against its limit, then the
   client's call budget (gateway.api.access); once it ends, the budget corrected to
   the calls made.

:func:`run_operation` is ``Schema.execute`` with those rules called in place, step for
step as strawberry runs them: the same results, errors and exceptions. Streams and
subscriptions, and any schema with another extension (resolver spans when tracing
is on), take strawberry's own path, which runs the same rules through the hooks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.middleware import MiddlewareManager
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import (
    DEFAULT_ALLOWED_OPERATION_TYPES,
    Schema,
    _coerce_error,
    _parse_operation_document,
    _run_validation,
    validate_document,
)
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from gateway.api.access import reserve_calls, settle_calls, with_introspection_rule
from gateway.api.limits import OperationLimits, OperationMeasures, budget_refusal, size_refusal
from gateway.api.operation_choice import require_operation_name

DOCUMENTS_KEPT = 256
VALIDATIONS_KEPT = 256
# No extension of the lean run resolves fields: graphql-core is handed no middleware.
_NO_MIDDLEWARE = MiddlewareManager()

_parsed = lru_cache(maxsize=DOCUMENTS_KEPT)(parse)
_ValidationKey = tuple[int, int, tuple[Any, ...]]


class _Validations:
    """Validation errors per schema, document and rule set. Keyed by identities (the
    parse cache hands the same document for the same text) and holding what they
    name, so a key cannot name another schema or document; hashing a document, as
    strawberry's ValidationCache does, walks all of it."""

    def __init__(self) -> None:
        self._kept: dict[_ValidationKey, tuple[DocumentNode, GraphQLSchema, list[GraphQLError]]]
        self._kept = {}

    def errors(self, context: ExecutionContext) -> list[GraphQLError]:
        document = context.graphql_document
        assert document is not None
        schema = context.schema._schema
        rules = tuple(context.validation_rules)
        key = (id(document), id(schema), rules)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is document and kept[1] is schema:
            return kept[2]
        errors = validate_document(schema, document, rules)
        if len(self._kept) >= VALIDATIONS_KEPT:
            self._kept.clear()
        self._kept[key] = (document, schema, errors)
        return errors


_validations = _Validations()


class OperationRules(SchemaExtension):
    """Every rule of the module's docstring, one method per step; the hooks run them
    for strawberry's own path."""

    def __init__(self, limits: OperationLimits, measures: OperationMeasures) -> None:
        self.limits = limits
        self.measures = measures

    def begin(self) -> None:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.max_tokens
        with_introspection_rule(context)

    def parse(self) -> None:
        context = self.execution_context
        # A document that does not parse is parsed again, and reported, by the step
        # that follows: raised from here, the error would escape the streaming path
        # that subscriptions take over WebSocket and SSE, and the client would hear
        # nothing of why.
        if context.query:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, **context.parse_options)

    def parsed(self) -> None:
        document = self.execution_context.graphql_document
        if document is not None:
            refusal = size_refusal(self.limits, self.measures.size(document))
            if refusal is not None:
                raise refusal
        require_operation_name(self.execution_context)

    def validate(self) -> None:
        context = self.execution_context
        context.pre_execution_errors = _validations.errors(context)

    async def reserve(self) -> int | None:
        """Before execution: what was taken from the client's budget (None: no budget)."""
        context = self.execution_context
        if context.graphql_document is not None and not context.result:
            refused = budget_refusal(self.limits, self.measures, context)
            if refused is not None:
                context.result = refused
        return await reserve_calls(context, self.measures)

    async def settle(self, reserved: int | None) -> None:
        await settle_calls(self.execution_context, reserved)

    def on_operation(self) -> Iterator[None]:
        self.begin()
        yield

    def on_parse(self) -> Iterator[None]:
        self.parse()
        yield
        self.parsed()

    def on_validate(self) -> Iterator[None]:
        self.validate()
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        reserved = await self.reserve()
        yield
        await self.settle(reserved)


async def run_operation(
    schema: Schema,
    rules: OperationRules,
    query: str | None,
    variable_values: dict[str, Any] | None,
    context_value: Any,
    root_value: Any,
    operation_name: str | None,
    allowed_operation_types: Iterable[OperationType] | None,
    operation_extensions: dict[str, Any] | None,
) -> ExecutionResult:
    """``Schema.execute`` for a schema whose one extension is ``rules``."""
    context = schema._create_execution_context(
        query=query,
        allowed_operation_types=allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES,
        variable_values=variable_values,
        context_value=context_value,
        root_value=root_value,
        operation_name=operation_name,
        operation_extensions=operation_extensions,
    )
    rules.execution_context = context
    custom_context_kwargs = schema._get_custom_context_kwargs(operation_extensions)
    try:
        rules.begin()
        errors = _prepare(context, rules)
        if errors is not None:
            return _finished(schema, context, errors)
        result = await _execute(schema, context, rules, custom_context_kwargs)
    except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
        raise
    except Exception as exc:
        error = PreExecutionError(data=None, errors=[_coerce_error(exc)])
        return _finished(schema, context, error)
    return _finished(schema, context, result, processed=True)


def _prepare(context: ExecutionContext, rules: OperationRules) -> PreExecutionError | None:
    """Strawberry's ``_prepare_operation_async``: parse, operation type, validation."""
    if not context.query and context.graphql_document is None:
        raise MissingQueryError
    rules.parse()
    try:
        _parse_operation_document(context)
    except Exception as exc:
        error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
        context.pre_execution_errors = [error]
        rules.parsed()
        return PreExecutionError(data=None, errors=[error])
    rules.parsed()
    try:
        operation_type = context.operation_type
    except RuntimeError as error:
        raise CannotGetOperationTypeError(context.operation_name) from error
    if operation_type not in context.allowed_operations:
        raise InvalidOperationTypeError(operation_type)
    rules.validate()
    _run_validation(context)
    if context.pre_execution_errors:
        return PreExecutionError(data=None, errors=context.pre_execution_errors)
    return None


async def _execute(
    schema: Schema,
    context: ExecutionContext,
    rules: OperationRules,
    custom_context_kwargs: dict[str, Any],
) -> Any:
    """Strawberry's ``_execute_operation``, the rules' execution steps around it."""
    assert context.graphql_document is not None
    reserved = await rules.reserve()
    if not context.result:
        executor = schema.execution_context_class
        result = await await_maybe(
            schema._get_execute_function()(
                schema._schema,
                context.graphql_document,
                root_value=context.root_value,
                middleware=_NO_MIDDLEWARE,
                variable_values=context.variables,
                operation_name=context.operation_name,
                context_value=context.context,
                is_awaitable=optimized_is_awaitable,
                **({"executor_class": executor} if executor is not None else {}),
                **custom_context_kwargs,
            )
        )
        context.result = result
    else:
        result = context.result
    if isinstance(result, GraphQLExecutionResult) and result.errors:
        context.pre_execution_errors = result.errors
        schema._process_errors(result.errors, context)
    await rules.settle(reserved)
    return result


def _finished(
    schema: Schema, context: ExecutionContext, result: Any, *, processed: bool = False
) -> ExecutionResult:
    """Strawberry's ``_handle_execution_result``; the rules report no results of their own."""
    if result.errors:
        context.pre_execution_errors = result.errors
        if not processed:
            schema._process_errors(result.errors, context)
    if isinstance(result, GraphQLExecutionResult):
        result = ExecutionResult(data=result.data, errors=result.errors)
    result.extensions = dict(context.extensions_results)
    context.result = result
    return result  # type: ignore[no-any-return]
