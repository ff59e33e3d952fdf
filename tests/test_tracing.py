"""OpenTelemetry: the span tree of an operation (operation -> resolvers that call out ->
token grants and upstream calls), the request id on every span, and tracing off
unless the OTEL_* environment asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from gateway.api.schema import build_schema
from gateway.api.tracing import ResolverSpans
from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.observability.tracing import TracingConfigError, provider_from_env
from tests.conftest import FaultyTransport

WORK_ITEMS = """query OpenWork {
  workItems(first: 50, sort: {field: DUE_AT}) {
    nodes { id title vendor dueAt }
  }
}"""


Traced = tuple[httpx.AsyncClient, InMemorySpanExporter, FaultyTransport]


@asynccontextmanager
async def traced_gateway(settings: Settings) -> AsyncIterator[Traced]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    transport = FaultyTransport(httpx.ASGITransport(app=create_sandbox_app(settings.plugins)))
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(
        settings, transports=dict.fromkeys(vendors, transport), tracer_provider=provider
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield client, exporter, transport
    await app.state.adapters.aclose()


def tree(spans: tuple[ReadableSpan, ...]) -> dict[str, list[str]]:
    """Each span's name -> its children's names (sorted), by span id."""
    by_id = {span.context.span_id: span for span in spans}
    children: dict[str, list[str]] = {span.name: [] for span in spans}
    for span in spans:
        if span.parent is not None and span.parent.span_id in by_id:
            children[by_id[span.parent.span_id].name].append(span.name)
    return {name: sorted(kids) for name, kids in children.items()}


async def test_the_span_tree_of_a_work_items_query(settings: Settings) -> None:
    async with traced_gateway(settings) as (client, exporter, _):
        response = await client.post(
            "/graphql",
            json={"query": WORK_ITEMS},
            headers={"X-Request-Id": "trace-me-1", "X-Upstream-Accounting": "1"},
        )
        body = response.json()
        assert "errors" not in body and body["data"]["workItems"]["nodes"]
        spans = exporter.get_finished_spans()
    calls = body["extensions"]["upstreamCalls"]
    roots = [span for span in spans if span.parent is None]
    assert [span.name for span in roots] == ["query OpenWork"]
    root = roots[0]
    assert root.attributes is not None
    assert root.attributes["graphql.operation.name"] == "OpenWork"
    assert root.attributes["graphql.operation.type"] == "query"
    assert root.attributes["gateway.outcome"] == "ok"
    # One trace, the request id on every span.
    assert {span.context.trace_id for span in spans} == {root.context.trace_id}
    assert all((span.attributes or {}).get("gateway.request_id") == "trace-me-1" for span in spans)

    shape = tree(spans)
    assert shape["query OpenWork"] == ["resolve Query.workItems"]
    # No span for scalar fields (id, title, ...): only the resolver that calls out.
    assert not [span for span in spans if span.name.startswith("resolve WorkItem")]
    upstream = [span for span in spans if span.name.startswith(("GET ", "POST "))]
    assert len(upstream) == calls["total"]
    grants = [span for span in spans if span.name.startswith("token grant ")]
    assert grants, "the OAuth vendors' first calls need a token"
    by_id = {span.context.span_id: span for span in spans}
    resolver = next(span for span in spans if span.name == "resolve Query.workItems")
    for span in upstream:
        assert span.parent is not None
        parent = by_id[span.parent.span_id]
        assert parent is resolver or parent.name.startswith("token grant ")
        assert (span.attributes or {})["http.response.status_code"] in (200, 201)
    for grant in grants:
        assert grant.parent is not None and by_id[grant.parent.span_id] is resolver
        assert shape[grant.name] and all(n.startswith("POST ") for n in shape[grant.name])


async def test_an_incoming_traceparent_is_the_parent(settings: Settings) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with traced_gateway(settings) as (client, exporter, _):
        await client.post(
            "/graphql",
            json={"query": "query Hello { __typename }"},
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["query Hello"]
    assert f"{spans[0].context.trace_id:032x}" == trace_id


async def test_a_failing_upstream_call_marks_its_spans(settings: Settings) -> None:
    async with traced_gateway(settings) as (client, exporter, faults):
        faults.faults.append(
            lambda request: httpx.Response(503) if "/invoiced" in request.url.path else None
        )
        response = await client.post(
            "/graphql", json={"query": "query Broken { tasks(first: 1) { nodes { id } } }"}
        )
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [
            "UPSTREAM_UNAVAILABLE"
        ]
        spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"query Broken", "resolve Query.tasks", "GET invoiced"}
    assert spans["GET invoiced"].status.status_code is StatusCode.ERROR
    assert spans["resolve Query.tasks"].status.description == "UPSTREAM_UNAVAILABLE"
    root = spans["query Broken"]
    assert root.status.status_code is StatusCode.ERROR
    assert (root.attributes or {})["gateway.error_codes"] == ("UPSTREAM_UNAVAILABLE",)
    # The generated request id, echoed to the client, is on every span.
    request_id = response.headers["x-request-id"]
    assert all((s.attributes or {})["gateway.request_id"] == request_id for s in spans.values())


def test_tracing_is_off_unless_the_environment_asks() -> None:
    assert provider_from_env({}) is None
    assert provider_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert (
        provider_from_env({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}) is None
    )
    console = provider_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert console is not None
    console.shutdown()
    otlp = provider_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert otlp is not None
    otlp.shutdown()
    with pytest.raises(TracingConfigError, match="zipkin"):
        provider_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(TracingConfigError, match="grpc"):
        provider_from_env({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_an_untraced_gateway_has_no_resolver_hook(settings: Settings) -> None:
    # The resolve hook wraps every field's resolver; only a traced app's schema has it.
    untraced = build_schema(settings.plugins)
    traced = build_schema(settings.plugins, traced=True)
    assert ResolverSpans not in untraced.extensions
    assert ResolverSpans in traced.extensions
