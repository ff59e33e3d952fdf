"""The Starlette application: `/graphql` (POST, GET for queries, GraphiQL) and `/healthz`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.adapters import Adapters, Transports
from gateway.api.context import Context, Loaders
from gateway.api.errors import format_error, request_error_body
from gateway.api.limits import OperationLimits, current_limits
from gateway.api.schema import schema_for
from gateway.auth.gate import PRINCIPAL, ClientGate
from gateway.auth.principal import ClientAccess
from gateway.auth.protection import ClientProtection
from gateway.config import Settings
from gateway.errors import BadRequest, OperationTimedOut
from gateway.http_guard import HttpGuard
from gateway.idempotency import Idempotency, MemoryIdempotencyStore
from gateway.upstream import CallLog, current_call_log

ACCOUNTING_HEADER = "x-upstream-accounting"

logger = logging.getLogger("gateway.app")


class ClientDisconnected(Exception):
    """The client went away mid-operation: its resolvers were cancelled, nobody to answer."""


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        adapters: Adapters,
        settings: Settings,
        protection: ClientProtection | None = None,
    ) -> None:
        super().__init__(
            schema_for(settings.plugins),
            graphql_ide="graphiql" if settings.gateway.graphiql else None,
            allow_queries_via_get=True,
        )
        self.adapters = adapters
        self.accounting_default = settings.gateway.upstream_accounting
        window = settings.gateway.idempotency_window
        self.idempotency = Idempotency(MemoryIdempotencyStore(window=window))
        self.limits = OperationLimits.from_settings(settings.gateway)
        self.operation_timeout = settings.gateway.operation_timeout
        self.client_calls = protection.calls if protection else None
        self.introspection = settings.gateway.introspection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # A fresh call log per HTTP request, reset afterwards: with an in-process
        # transport the app runs inside the caller's task and must not leak it.
        token = current_call_log.set(CallLog())
        limits_token = current_limits.set(self.limits)
        try:
            try:
                response = await self.run(Request(scope=scope, receive=receive))
            except HTTPException as exc:
                # Strawberry's own refusals (content type, GET mutation, ...) as GraphQL errors.
                response = self._refusal(BadRequest(exc.reason), exc.status_code)
            except BadRequest as exc:
                response = self._refusal(exc, exc.status)
            except ClientDisconnected:
                return
            await response(scope, receive, send)
        finally:
            current_limits.reset(limits_token)
            current_call_log.reset(token)

    @staticmethod
    def _refusal(error: BadRequest, status: int) -> Response:
        return JSONResponse(request_error_body(error), status_code=status)

    def parse_json(self, data: str | bytes) -> Any:
        # orjson refuses invalid UTF-8 and nesting past 1,024 levels with a decode
        # error, where the standard library would raise RecursionError (a 500).
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("The request body is not valid JSON in UTF-8.") from exc
        if not isinstance(value, dict):
            raise BadRequest("The request body (and `variables`) must be a JSON object.")
        return value

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        """Run the operation under its time limit, and cancel it if the client leaves."""
        work = asyncio.ensure_future(
            super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        )
        gone = asyncio.ensure_future(_disconnect(request))
        try:
            done, _ = await asyncio.wait(
                {work, gone}, timeout=self.operation_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            gone.cancel()
            if not work.done():
                work.cancel()
                with suppress(asyncio.CancelledError):
                    await work
        if work in done:
            return work.result()
        if gone in done:
            logger.info("The client disconnected; its operation was cancelled.")
            raise ClientDisconnected
        refusal = OperationTimedOut(
            f"The operation did not finish within {self.operation_timeout:g} seconds."
        )
        return ExecutionResult(
            data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        calls = current_call_log.get() or CallLog()
        context = Context(
            request=request,
            adapters=self.adapters,
            loaders=Loaders(self.adapters),
            calls=calls,
            idempotency=self.idempotency,
            access=ClientAccess(
                principal=getattr(request.state, PRINCIPAL, None) or ClientAccess().principal,
                calls=self.client_calls,
                introspection=self.introspection,
            ),
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


async def _disconnect(request: Request) -> None:
    """Returns when the client disconnects (the body has been read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


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
    protection = ClientProtection.from_settings(settings)
    graphql_app = GatewayGraphQL(adapters, settings, protection)

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

    app = GatewayApp(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *(extra_routes or []),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(
                HttpGuard,
                max_body_bytes=settings.gateway.max_body_bytes,
                body_timeout=settings.gateway.body_timeout,
            )
        ],
    )
    app.state.adapters = adapters
    app.graphql = HttpGuard(
        ClientGate(
            graphql_app,
            authenticator=protection.authenticator,
            requests=protection.requests,
            graphiql=protection.graphiql,
        ),
        max_body_bytes=settings.gateway.max_body_bytes,
        body_timeout=settings.gateway.body_timeout,
    )
    return app


class GatewayApp(Starlette):
    """Starlette, with `/graphql` (the hot path) sent straight to its guarded view:
    the router and the error and exception middleware cost about a tenth of a
    request's CPU, and the view handles its own errors."""

    graphql: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.graphql is not None and scope["type"] == "http" and scope["path"] == "/graphql":
            scope["app"] = self
            await self.graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
