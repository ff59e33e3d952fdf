"""The Starlette application: `/graphql` (POST, GET for queries, GraphiQL) and `/healthz`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.adapters import Adapters, Transports
from gateway.api.context import Context, Loaders
from gateway.api.errors import format_error
from gateway.api.schema import schema
from gateway.config import Settings
from gateway.upstream import CallLog, current_call_log

ACCOUNTING_HEADER = "x-upstream-accounting"


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(self, adapters: Adapters, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.adapters = adapters
        self.accounting_default = settings.gateway.upstream_accounting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A fresh call log per HTTP request, reset afterwards: with an in-process
        # transport the app runs inside the caller's task and must not leak it.
        token = current_call_log.set(CallLog())
        try:
            await super().__call__(scope, receive, send)
        finally:
            current_call_log.reset(token)

    async def get_context(self, request: Any, response: Any) -> Context:
        calls = current_call_log.get() or CallLog()
        context = Context(
            request=request, adapters=self.adapters, loaders=Loaders(self.adapters), calls=calls
        )
        request.state.context = context
        return context

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        context: Context | None = getattr(request.state, "context", None)
        errors = list(result.errors or [])
        if context is not None:
            # Errors reported beside data: a vendor missing from a merged list.
            errors += [
                GraphQLError(error.message, path=path, original_error=error)
                for error, path in context.partial_errors
            ]
        response: GraphQLHTTPResponse = {"data": result.data}
        if errors:
            response["errors"] = [format_error(error) for error in errors]
        extensions = dict(result.extensions or {})
        if context is not None and self._accounting_requested(request):
            extensions["upstreamCalls"] = accounting_report(context.calls)
        if extensions:
            response["extensions"] = extensions
        return response

    def _accounting_requested(self, request: Request) -> bool:
        flag = request.headers.get(ACCOUNTING_HEADER)
        if flag is None:
            return self.accounting_default
        return flag.strip().lower() in {"1", "true", "yes", "on"}

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def accounting_report(log: CallLog) -> dict[str, Any]:
    by_vendor: dict[str, dict[str, float]] = {}
    for call in log.calls:
        entry = by_vendor.setdefault(call.vendor.value, {"count": 0, "durationMs": 0.0})
        entry["count"] += 1
        entry["durationMs"] = round(entry["durationMs"] + call.duration_ms, 2)
    return {
        "total": len(log.calls),
        "byVendor": by_vendor,
        "calls": [
            {
                "vendor": call.vendor.value,
                "method": call.method,
                "path": call.path,
                "status": call.status,
                "durationMs": call.duration_ms,
            }
            for call in log.calls
        ],
    }


def create_app(
    settings: Settings | None = None,
    *,
    transports: Transports | None = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    """The gateway app. ``transports`` lets tests and the demo reach sandboxes in-process."""
    settings = settings or Settings()
    adapters = Adapters(settings, transports)
    graphql_app = GatewayGraphQL(adapters, settings)

    async def healthz(request: Request) -> Response:
        vendors = [vendor.value for vendor in adapters.configured]
        return JSONResponse({"status": "ok", "vendors": vendors})

    async def readyz(request: Request) -> Response:
        ready, report = adapters.readiness()
        return JSONResponse(report, status_code=200 if ready else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await adapters.aclose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *(extra_routes or []),
        ],
        lifespan=lifespan,
    )
    app.state.adapters = adapters
    return app
