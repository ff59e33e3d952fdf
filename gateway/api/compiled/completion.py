"""Value completion per the spec's CompleteValue, compiled once per field into nested
closures for its return type: non-null checks, lists completed in a loop, leaf values
serialised, abstract values resolved to their object type. The object types' own
selections come from the caller (``object_completer``), which owns selection plans."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from graphql import (
    GraphQLAbstractType,
    GraphQLError,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable

from gateway.api.compiled.run import CompiledField, Run

# (run, field, value, path, the field's resolve info or None) -> completed value or
# an awaitable of it; raises the field's error.
Completer: TypeAlias = Callable[[Run, CompiledField, Any, Path, Any], Any]
ObjectCompleter: TypeAlias = Callable[[GraphQLObjectType], Completer]


def needs_info(return_type: GraphQLOutputType) -> bool:
    """Whether completing this type calls something that is handed the field's info."""
    named: Any = return_type
    while isinstance(named, GraphQLNonNull | GraphQLList):
        named = named.of_type
    if isinstance(named, GraphQLObjectType):
        return named.is_type_of is not None
    return not isinstance(named, GraphQLLeafType)


def completer(
    return_type: GraphQLOutputType, where: str, object_completer: ObjectCompleter
) -> Completer:
    """``where``: the field as ``Type.field``, as graphql-core's messages name it."""
    if isinstance(return_type, GraphQLNonNull):
        return _non_null(completer(return_type.of_type, where, object_completer), where)
    if isinstance(return_type, GraphQLList):
        item_type = return_type.of_type
        item = completer(item_type, where, object_completer)
        return _list(return_type, item, isinstance(item_type, GraphQLNonNull), where)
    if isinstance(return_type, GraphQLLeafType):
        return _leaf(return_type)
    if isinstance(return_type, GraphQLObjectType):
        return _nullable(object_completer(return_type))
    assert isinstance(return_type, GraphQLAbstractType)
    return _abstract(return_type, object_completer)


def _non_null(inner: Completer, where: str) -> Completer:
    message = f"Cannot return null for non-nullable field {where}."

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = inner(run, field, value, path, info)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


def _nullable(inner: Completer) -> Completer:
    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        return inner(run, field, value, path, info)

    return complete


def _leaf(leaf_type: GraphQLLeafType) -> Completer:
    coerce = leaf_type.coerce_output_value

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf_type)}.coerce_output_value("
                f"{inspect(value)})` to return non-nullable value, returned:"
                f" {inspect(coerced)}"
            )
        return coerced

    return complete


def _list(list_type: GraphQLList[Any], item: Completer, non_null: bool, where: str) -> Completer:
    not_iterable = f"Expected Iterable, but did not find one for field '{where}'."

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if run.executor.is_async_iterable(value):
            # Not produced by this schema's resolvers; graphql-core's own path.
            info = info or run.info(field, path)
            return run.executor.complete_value(list_type, field.details, info, path, value, None)
        if not is_iterable(value):
            raise GraphQLError(not_iterable)
        return _items(run, field, value, path, info, item, non_null)

    return complete


def _items(
    run: Run,
    field: CompiledField,
    values: Iterable[Any],
    path: Path,
    info: Any,
    item: Completer,
    non_null: bool,
) -> Any:
    is_awaitable = run.is_awaitable
    completed: list[Any] = []
    pending: list[int] = []
    for index, value in enumerate(values):
        item_path = Path(path, index, None)
        try:
            if is_awaitable(value):
                result: Any = _awaited_item(run, field, value, item_path, info, item, non_null)
            else:
                result = item(run, field, value, item_path, info)
                if is_awaitable(result):
                    result = _guarded(run, field, result, item_path, non_null)
        except Exception as raw:
            try:
                run.field_error(raw, field, non_null, item_path)
            except Exception:
                # The list is null now; its items still running are settled, not orphaned.
                if pending:
                    run.settle([completed[at] for at in pending])
                raise
            result = None
        else:
            if is_awaitable(result):
                pending.append(index)
        completed.append(result)
    if not pending:
        return completed
    return _gather_items(run, completed, pending)


async def _gather_items(run: Run, completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        completed[pending[0]] = await completed[pending[0]]
        return completed
    for index, value in zip(
        pending, await gather_with_cancel(*(completed[at] for at in pending)), strict=True
    ):
        completed[index] = value
    return completed


async def _guarded(run: Run, field: CompiledField, result: Any, path: Path, non_null: bool) -> Any:
    try:
        return await result
    except Exception as raw:
        run.field_error(raw, field, non_null, path)
        return None


async def _awaited_item(
    run: Run,
    field: CompiledField,
    value: Any,
    path: Path,
    info: Any,
    item: Completer,
    non_null: bool,
) -> Any:
    try:
        completed = item(run, field, await value, path, info)
        if run.is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        run.field_error(raw, field, non_null, path)
        return None
    return completed


def _abstract(abstract: GraphQLAbstractType, object_completer: ObjectCompleter) -> Completer:
    by_type: dict[str, Completer] = {}

    def runtime(run: Run, field: CompiledField, name: Any, value: Any, info: Any) -> Completer:
        object_type = run.executor.ensure_valid_runtime_type(
            name, abstract, field.details, info, value
        )
        found = by_type.get(object_type.name)
        if found is None:
            found = by_type[object_type.name] = object_completer(object_type)
        return found

    async def later(
        run: Run, field: CompiledField, name: Any, value: Any, path: Path, info: Any
    ) -> Any:
        complete = runtime(run, field, await name, value, info)
        completed = complete(run, field, value, path, info)
        return await completed if run.is_awaitable(completed) else completed

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        resolve_type = abstract.resolve_type or run.executor.type_resolver
        name = resolve_type(value, info, abstract)
        if run.is_awaitable(name):
            return later(run, field, name, value, path, info)
        return runtime(run, field, name, value, info)(run, field, value, path, info)

    return complete


def type_checked(object_type: GraphQLObjectType, selection: Completer) -> Completer:
    """An object's selection behind its ``is_type_of``, when the type has one."""
    is_type_of = object_type.is_type_of
    if is_type_of is None:
        return selection

    async def later(
        run: Run, field: CompiledField, check: Any, value: Any, path: Path, info: Any
    ) -> Any:
        if not await check:
            raise invalid_return_type_error(object_type, value, field.details)
        completed = selection(run, field, value, path, info)
        return await completed if run.is_awaitable(completed) else completed

    def complete(run: Run, field: CompiledField, value: Any, path: Path, info: Any) -> Any:
        check = is_type_of(value, info)
        if run.is_awaitable(check):
            return later(run, field, check, value, path, info)
        if not check:
            raise invalid_return_type_error(object_type, value, field.details)
        return selection(run, field, value, path, info)

    return complete
