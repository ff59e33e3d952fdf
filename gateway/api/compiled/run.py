"""One operation's run of a plan: the executor graphql-core built for the request
(its coerced variables, context, collected errors) and what the plan's fields need
from it per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeGuard

from graphql import FieldNode, GraphQLError, GraphQLField, GraphQLObjectType, located_error
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path


class CompiledField(Protocol):
    """What a run needs of a compiled field (gateway.api.compiled.selection)."""

    @property
    def definition(self) -> GraphQLField: ...
    @property
    def details(self) -> FieldDetailsList: ...
    @property
    def nodes(self) -> list[FieldNode]: ...
    @property
    def parent_type(self) -> GraphQLObjectType: ...
    @property
    def arguments(self) -> dict[str, Any] | None: ...


class Run:
    __slots__ = ("executor", "is_awaitable", "middleware")

    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        self.is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = executor.is_awaitable
        manager = executor.middleware_manager
        # A schema extension with a `resolve` hook wraps every field, plain ones too.
        self.middleware = manager if manager is not None and manager.middlewares else None

    def info(self, field: CompiledField, path: Path) -> Any:
        return self.executor.build_resolve_info(
            field.definition, field.nodes, field.parent_type, path
        )

    def arguments(self, field: CompiledField) -> dict[str, Any]:
        if field.arguments is not None:
            return field.arguments
        details = field.details[0]
        return get_argument_values(
            field.definition,
            details.node,
            self.executor.variable_values,
            details.fragment_variable_values,
            self.executor.hide_suggestions,
        )

    def resolver(self, field: CompiledField) -> Callable[..., Any]:
        resolve = field.definition.resolve or self.executor.field_resolver
        if self.middleware is not None:
            return self.middleware.get_field_resolver(resolve)
        return resolve

    def field_error(self, raw: Exception, field: CompiledField, non_null: bool, path: Path) -> None:
        """A field's error, located at its path: raised on to the nearest nullable
        parent when the position is non-null, otherwise recorded and the position null."""
        error: GraphQLError = located_error(raw, field.nodes, path.as_list())
        if non_null and self.executor.error_propagation:
            raise error
        self.executor.collected_errors.add(error, path)

    def settle(self, awaitables: list[Awaitable[Any]]) -> None:
        self.executor.settle_in_background(awaitables)
