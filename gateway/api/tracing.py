"""A span per resolver that calls out: the fields the cost table lists (lists,
loaders, by-id reads) and every mutation, never scalar fields.

Only in the schema of an app that traces (``build_schema(plugins, traced=True)``):
an extension with a ``resolve`` hook wraps every field's resolver, which an
untraced gateway must not pay for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

from graphql import GraphQLResolveInfo
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from strawberry.extensions import SchemaExtension

from gateway.api.context import Context
from gateway.api.cost import CostTable
from gateway.observability.telemetry import REQUEST_ID_ATTRIBUTE, telemetry_of


class ResolverSpans(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        context = info.context
        state = context.state if isinstance(context, Context) else None
        telemetry = telemetry_of(state)
        costs = getattr(self.execution_context.schema, "costs", None)
        if telemetry is None or telemetry.tracer is None or not _calls_out(info, costs):
            return _next(root, info, *args, **kwargs)
        assert state is not None
        path = ".".join(str(key) for key in info.path.as_list())
        span = telemetry.tracer.start_span(
            f"resolve {info.parent_type.name}.{info.field_name}",
            attributes={
                "graphql.field.name": info.field_name,
                "graphql.field.path": path,
                "graphql.parent_type": info.parent_type.name,
                REQUEST_ID_ATTRIBUTE: state.request_id,
            },
        )
        # Current while the resolver starts, so a dataloader batch it schedules and
        # the calls it makes are this span's children.
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False):
                result = _next(root, info, *args, **kwargs)
        except BaseException as exc:
            _failed(span, exc)
            raise
        if isawaitable(result):
            return _finish(result, span)
        span.end()
        return result


def _calls_out(info: GraphQLResolveInfo[Any], costs: object) -> bool:
    parent = info.parent_type.name
    if parent == "Mutation":
        return True
    return isinstance(costs, CostTable) and (parent, info.field_name) in costs.rules


async def _finish(result: Awaitable[Any], span: Span) -> Any:
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False):
            value = await result
    except BaseException as exc:
        _failed(span, exc)
        raise
    span.end()
    return value


def _failed(span: Span, exc: BaseException) -> None:
    code = getattr(exc, "code", None)
    span.set_status(Status(StatusCode.ERROR, code if isinstance(code, str) else type(exc).__name__))
    span.end()
