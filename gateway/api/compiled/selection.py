"""Selection sets compiled per object type: the fields CollectFields merged (aliases,
fragments, inline fragments, @skip/@include already decided), each with how it is
read (a plain attribute, ``__typename``, or its resolver with arguments coerced
once when they hold no variable) and how its value completes. Executed like
graphql-core's ExecuteSelectionSet: siblings run, awaitables gathered concurrently."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_subfields
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel

from gateway.api.compiled.calls import DirectCall, direct_call
from gateway.api.compiled.completion import Completer, completer, needs_info, type_checked
from gateway.api.compiled.run import CompiledField, Run

# Strawberry marks the resolver of a field without one: the attribute is the value.
_PLAIN_FIELD = "_is_default"
_DEFINITION = "strawberry-definition"
# Leaf completion never reads its path; an error's path is made where it is caught.
_UNUSED = Path(None, "", None)
_NO_ARGUMENTS: dict[str, Any] = {}


class FieldPlan:
    __slots__ = (
        "arguments",
        "attribute",
        "call",
        "call_info",
        "complete",
        "definition",
        "details",
        "key",
        "needs_info",
        "nodes",
        "non_null",
        "parent_type",
        "plain_leaf",
        "typename",
    )

    def __init__(
        self,
        executor: Executor[Any],
        parent_type: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
    ) -> None:
        node = details[0].node
        name = node.name.value
        definition = executor.schema.get_field(parent_type, name)
        assert definition is not None, "validated documents name known fields"
        self.key = key
        self.details = details
        self.nodes: list[FieldNode] = [detail.node for detail in details]
        self.parent_type = parent_type
        self.definition: GraphQLField = definition
        self.non_null = is_non_null_type(definition.type)
        self.typename = name == "__typename"
        self.attribute = _attribute(definition)
        self.arguments = _static_arguments(executor, self)
        self.needs_info = self.attribute is None or needs_info(definition.type)
        self.call: DirectCall | None = None
        if self.attribute is None and not self.typename:
            self.call = direct_call(executor.schema, definition, node, self.arguments)
        # The resolve info is built only when the resolver, its extensions or the
        # completion of its value reads it.
        self.call_info = self.call is not None and (
            self.call.takes_info or needs_info(definition.type)
        )
        # A plain attribute of a scalar or enum type: no info, no path unless it fails,
        # never awaitable; most of a response's fields.
        leaf = is_leaf_type(getattr(definition.type, "of_type", definition.type))
        self.plain_leaf = self.attribute if leaf else None
        self.complete: Completer = completer(
            definition.type, f"{parent_type.name}.{name}", lambda t: object_completer(t, details)
        )


def _attribute(definition: GraphQLField) -> str | None:
    if not getattr(definition.resolve, _PLAIN_FIELD, False):
        return None
    field = (definition.extensions or {}).get(_DEFINITION)
    name = getattr(field, "python_name", None)
    return name if isinstance(name, str) else None


def _static_arguments(executor: Executor[Any], field: FieldPlan) -> dict[str, Any] | None:
    """The arguments coerced now, when no variable can change them; None: per request.
    A coercion that fails is left to each request, so the error is the field's."""
    detail = field.details[0]
    if not (field.definition.args or detail.node.arguments):
        return {}
    if detail.fragment_variable_values is not None or any(
        _has_variable(argument.value) for argument in detail.node.arguments or ()
    ):
        return None
    try:
        return get_argument_values(
            field.definition, detail.node, executor.variable_values, None, executor.hide_suggestions
        )
    except Exception:
        return None


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(item.value) for item in value.fields)
    return False


class SelectionPlan:
    """One object type's merged fields under the same field nodes."""

    __slots__ = ("details", "fields", "object_type")

    def __init__(self, object_type: GraphQLObjectType, details: FieldDetailsList | None) -> None:
        self.object_type = object_type
        self.details = details
        self.fields: list[FieldPlan] | None = None

    def compiled(self, executor: Executor[Any]) -> list[FieldPlan]:
        # Compiled on first use: an abstract position only compiles the types it meets.
        if self.fields is None:
            assert self.details is not None
            grouped, _, _ = collect_subfields(
                executor.schema,
                executor.fragments,
                executor.variable_values,
                executor.operation,
                self.object_type,
                self.details,
                executor.hide_suggestions,
            )
            self.fields = fields_of(executor, self.object_type, grouped.items())
        return self.fields


def fields_of(
    executor: Executor[Any], object_type: GraphQLObjectType, grouped: Any
) -> list[FieldPlan]:
    return [FieldPlan(executor, object_type, key, details) for key, details in grouped]


def object_completer(object_type: GraphQLObjectType, details: FieldDetailsList) -> Completer:
    plan = SelectionPlan(object_type, details)

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        return execute_fields(run, plan.compiled(run.executor), value, path)

    return type_checked(object_type, complete)


def execute_fields(run: Run, fields: list[FieldPlan], source: Any, path: Path | None) -> Any:
    results: dict[str, Any] = {}
    pending: list[str] = []
    is_awaitable = run.is_awaitable
    plain = run.middleware is None
    try:
        for field in fields:
            result = execute_field(run, field, source, path)
            results[field.key] = result
            if not (plain and field.plain_leaf) and is_awaitable(result):
                pending.append(field.key)
    except Exception:
        if pending:
            # Settled in the background: they may fail too, and must not be orphaned.
            run.settle([results[key] for key in pending])
        raise
    if not pending:
        return results
    return _gather_fields(results, pending)


async def _gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
        return results
    results.update(
        zip(pending, await gather_with_cancel(*(results[k] for k in pending)), strict=True)
    )
    return results


def execute_field(run: Run, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    if field.plain_leaf is not None and run.middleware is None:
        try:
            return field.complete(run, field, getattr(source, field.plain_leaf), _UNUSED, None)
        except Exception as raw:
            path = Path(parent, field.key, field.parent_type.name)
            run.field_error(raw, field, field.non_null, path)
            return None
    path = Path(parent, field.key, field.parent_type.name)
    info = None
    try:
        if field.attribute is not None and run.middleware is None:
            result = getattr(source, field.attribute)
            if field.needs_info:
                info = run.info(field, path)
        elif field.typename and run.middleware is None:
            result = field.parent_type.name
        else:
            result, info = _resolve(run, field, source, path)
            if run.is_awaitable(result):
                return _resolved_later(run, field, result, path, info)
        completed = field.complete(run, field, result, path, info)
        if run.is_awaitable(completed):
            return _completed_later(run, field, completed, path)
    except Exception as raw:
        run.field_error(raw, field, field.non_null, path)
        return None
    return completed


def _resolve(run: Run, field: FieldPlan, source: Any, path: Path) -> tuple[Any, Any]:
    """The field's resolver called, and the resolve info it was given (or None)."""
    call = field.call
    if call is None or run.middleware is not None:
        info = run.info(field, path)
        return run.resolver(field)(source, info, **run.arguments(field)), info
    info = run.info(field, path) if field.call_info else None
    coerced = _NO_ARGUMENTS if call.converted is not None else run.arguments(field)
    return call.call(source, info, coerced), info


async def _resolved_later(run: Run, field: FieldPlan, result: Any, path: Path, info: Any) -> Any:
    try:
        completed = field.complete(run, field, await result, path, info)
        if run.is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        run.field_error(raw, field, field.non_null, path)
        return None
    return completed


async def _completed_later(
    run: Run, field: FieldPlan, completed: Awaitable[Any], path: Path
) -> Any:
    try:
        return await completed
    except Exception as raw:
        run.field_error(raw, field, field.non_null, path)
        return None
