"""One app's telemetry: its metrics, its tracer and its operation log, with the
hooks the layers call (the GraphQL view per operation, ``Upstream.send`` per call,
``RefusedCredentials.guard`` per token grant).

Everything here is reached through the request's state
(:data:`gateway.observability.scope.current_request`), so a call made outside a
request (a unit test driving an adapter directly) is simply not observed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gateway.core.errors import UpstreamAuthError
from gateway.observability.scope import RequestState, current_request

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from gateway.core.types import Vendor
    from gateway.observability.metrics import GatewayMetrics

operation_logger = logging.getLogger("gateway.operations")

# The request id on every span, so a trace is found from a log line and back.
REQUEST_ID_ATTRIBUTE = "gateway.request_id"


class Telemetry:
    def __init__(self, metrics: GatewayMetrics | None, tracer: Tracer | None) -> None:
        self.metrics = metrics
        self.tracer = tracer

    # -- operations ---------------------------------------------------------------

    @contextmanager
    def operation(self, state: RequestState) -> Iterator[None]:
        """Around one GraphQL request: its span (the parent of every resolver and
        upstream span), then its metrics and its log line."""
        if self.tracer is None:
            yield
            return
        from opentelemetry import context, propagate, trace

        # A caller's W3C traceparent makes this operation part of its trace.
        parent = propagate.extract(state.headers)
        span = self.tracer.start_span(
            "graphql.operation",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={REQUEST_ID_ATTRIBUTE: state.request_id},
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            yield
        finally:
            context.detach(token)
            _describe_operation(span, state)
            span.end()

    def operation_finished(self, state: RequestState) -> None:
        if state.execution is None and state.outcome is None:
            return  # no operation: the GraphiQL page
        name = operation_name(state)
        outcome = state.outcome or "error"
        seconds = time.perf_counter() - state.started
        upstream_calls = state.calls.made
        if self.metrics is not None:
            self.metrics.operation(name, outcome, seconds, state.error_codes)
        if operation_logger.isEnabledFor(logging.INFO):
            label = self.metrics.operation_label(name) if self.metrics else name
            operation_logger.info(
                "operation %s: %s in %.1f ms, %d upstream calls",
                label or "anonymous",
                outcome,
                seconds * 1000,
                upstream_calls,
                extra={
                    "operation": label,
                    "operation_type": operation_type(state),
                    "outcome": outcome,
                    "duration_ms": round(seconds * 1000, 2),
                    "upstream_calls": upstream_calls,
                    "error_codes": list(state.error_codes),
                },
            )

    # -- upstream calls -----------------------------------------------------------

    def upstream_span(self, vendor: Vendor, method: str, path: str) -> Span | None:
        if self.tracer is None:
            return None
        from opentelemetry import trace

        return self.tracer.start_span(
            f"{method} {vendor.value}",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gateway.vendor": vendor.value,
                "http.request.method": method,
                # The path only: some vendors take keys in the query string.
                "url.path": path,
                REQUEST_ID_ATTRIBUTE: _request_id(),
            },
        )

    def upstream_finished(
        self, vendor: Vendor, status: str, seconds: float, span: Span | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.upstream_call(vendor, status, seconds)
        if span is not None:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("gateway.upstream.status", status)
            if status.isdigit():
                span.set_attribute("http.response.status_code", int(status))
            if not status.isdigit() or int(status) >= 500:
                span.set_status(Status(StatusCode.ERROR, status))
            span.end()

    def breaker_refusal(self, vendor: Vendor) -> None:
        if self.metrics is not None:
            self.metrics.breaker_refusal(vendor)


def telemetry_of(state: RequestState | None) -> Telemetry | None:
    telemetry = state.telemetry if state is not None else None
    return telemetry if isinstance(telemetry, Telemetry) else None


def current_telemetry() -> Telemetry | None:
    return telemetry_of(current_request.get())


def _request_id() -> str:
    state = current_request.get()
    return state.request_id if state is not None else ""


@contextmanager
def observed_token_grant(vendor: Vendor) -> Iterator[None]:
    """Around an OAuth grant actually sent to a vendor: counted by outcome, and a span
    that parents the grant's upstream call."""
    telemetry = current_telemetry()
    if telemetry is None:
        yield
        return
    span = token = None
    if telemetry.tracer is not None:
        from opentelemetry import context, trace

        span = telemetry.tracer.start_span(
            f"token grant {vendor.value}",
            attributes={"gateway.vendor": vendor.value, REQUEST_ID_ATTRIBUTE: _request_id()},
        )
        token = context.attach(trace.set_span_in_context(span))
    outcome = "failed"
    try:
        yield
        outcome = "granted"
    except UpstreamAuthError:
        outcome = "refused"
        raise
    finally:
        if telemetry.metrics is not None:
            telemetry.metrics.token_grant(vendor, outcome)
        if span is not None and token is not None:
            from opentelemetry import context
            from opentelemetry.trace import Status, StatusCode

            context.detach(token)
            span.set_attribute("gateway.token.outcome", outcome)
            if outcome != "granted":
                span.set_status(Status(StatusCode.ERROR, outcome))
            span.end()


def token_grant_held(vendor: Vendor) -> None:
    """A grant not sent: the vendor refused the credentials moments ago."""
    telemetry = current_telemetry()
    if telemetry is not None and telemetry.metrics is not None:
        telemetry.metrics.token_grant(vendor, "held")


# A client may send any operationName; only a plain GraphQL name of modest length is
# repeated in labels, span names and log lines.
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
UNNAMEABLE_OPERATION = "invalid_name"


def operation_name(state: RequestState) -> str | None:
    execution = state.execution
    if execution is None:
        return None
    name: object = execution.operation_name
    if name is None:
        return None
    # The view refuses a name that is not a string; this runs in a `finally` and
    # must not raise whatever reached it.
    if not isinstance(name, str) or _OPERATION_NAME.fullmatch(name) is None:
        return UNNAMEABLE_OPERATION
    return name


def operation_type(state: RequestState) -> str | None:
    execution = state.execution
    if execution is None or execution.graphql_document is None:
        return None
    try:
        kind: Any = execution.operation_type
    except Exception:  # an operationName the document does not define
        return None
    return str(kind.value)


def _describe_operation(span: Span, state: RequestState) -> None:
    from opentelemetry.trace import Status, StatusCode

    name = operation_name(state)
    kind = operation_type(state)
    span.update_name(f"{kind or 'graphql'} {name or 'anonymous'}")
    if name:
        span.set_attribute("graphql.operation.name", name)
    if kind:
        span.set_attribute("graphql.operation.type", kind)
    if state.outcome:
        span.set_attribute("gateway.outcome", state.outcome)
    if state.error_codes:
        span.set_attribute("gateway.error_codes", list(state.error_codes))
    if state.outcome in ("error", "rejected"):
        span.set_status(Status(StatusCode.ERROR, state.outcome))
