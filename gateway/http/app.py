"""The Starlette application: `/graphql` (POST, GET for queries, GraphiQL), `/healthz`,
`/readyz`, and GraphiQL's assets under `/graphiql/`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.adapters import Adapters, Transports
from gateway.api.context import Context, Loaders
from gateway.api.errors import MaskedFailures, format_error, refusal_response
from gateway.api.limits import OperationLimits, current_limits
from gateway.api.schema import schema_for
from gateway.api.writes import Idempotency
from gateway.auth.authenticator import CREDENTIAL_HEADERS, credentials_required
from gateway.auth.protection import ClientProtection
from gateway.config import Settings
from gateway.core.errors import BadRequest, OperationTimedOut, RequestRefused
from gateway.core.principal import ClientAccess, Principal
from gateway.http.cache_headers import cache_headers
from gateway.http.cors import cors_middleware
from gateway.http.explorer import explorer_page, explorer_routes
from gateway.http.gate import PRINCIPAL, ClientGate
from gateway.http.guard import GRAPHQL_METHODS, HttpGuard
from gateway.http.media_types import (
    GRAPHQL_RESPONSE_JSON,
    content_type,
    current_media_type,
    is_explorer_page,
    is_explorer_page_request,
    is_request_error,
    negotiate,
    request_refusal,
    status_code,
)
from gateway.http.observability import Observability, outcome_of
from gateway.http.persisted import PersistedQueries, load_manifest
from gateway.http.readiness import Readiness
from gateway.observability.scope import RequestScope, RequestScopes, current_request
from gateway.observability.telemetry import Telemetry
from gateway.state.storage.idempotency import idempotency_store, item_locks
from gateway.upstream.cache import (
    OperationReads,
    cache_scope,
    current_cache_scope,
    current_operation_reads,
)
from gateway.upstream.client import CallLog, current_call_log

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

ACCOUNTING_HEADER = "x-upstream-accounting"
# What a GET answer depends on besides its URL: the client (whichever header its
# credential came in), the media type it asked for, and the accounting switch.
VARY = (*CREDENTIAL_HEADERS, "Accept", "X-Upstream-Accounting")

logger = logging.getLogger("gateway.app")


class ClientDisconnected(Exception):
    """The client went away mid-operation: its resolvers were cancelled, nobody to answer."""


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        adapters: Adapters,
        settings: Settings,
        telemetry: Telemetry | None = None,
        protection: ClientProtection | None = None,
    ) -> None:
        traced = telemetry is not None and telemetry.tracer is not None
        super().__init__(
            schema_for(settings.plugins, traced=traced),
            graphql_ide="graphiql" if settings.gateway.graphiql else None,
            allow_queries_via_get=True,
        )
        self.adapters = adapters
        self.telemetry = telemetry
        self.accounting_default = settings.gateway.upstream_accounting
        self.idempotency = Idempotency(
            idempotency_store(settings.gateway, adapters.store),
            item_locks(settings.gateway, adapters.store),
        )
        self.limits = OperationLimits.from_settings(settings.gateway)
        self.operation_timeout = settings.gateway.operation_timeout
        manifest = settings.gateway.persisted_documents
        self.persisted = PersistedQueries(
            automatic=settings.gateway.persisted_queries,
            max_documents=settings.gateway.persisted_queries_max,
            manifest=load_manifest(manifest) if manifest else None,
        )
        self.client_calls = protection.calls if protection else None
        self.introspection = settings.gateway.introspection
        self.caching = settings.gateway.cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # A fresh call log per HTTP request, reset afterwards: with an in-process
        # transport the app runs inside the caller's task and must not leak it.
        calls = CallLog()
        token = current_call_log.set(calls)
        limits_token = current_limits.set(self.limits)
        media_token = current_media_type.set(negotiate(Headers(scope=scope).get("accept")))
        principal = scope.get("state", {}).get(PRINCIPAL)
        cache_token = current_cache_scope.set(cache_scope(principal) if principal else None)
        reads_token = current_operation_reads.set(OperationReads())
        observed = current_request.get()
        telemetry = self.telemetry if observed is not None else None
        try:
            if telemetry is not None and telemetry.tracer is not None:
                assert observed is not None
                with telemetry.operation(observed, Headers(scope=scope)):
                    await self._answer(scope, receive, send, observed)
            else:
                await self._answer(scope, receive, send, observed)
        finally:
            if telemetry is not None:
                assert observed is not None
                telemetry.operation_finished(observed, len(calls.calls))
            current_operation_reads.reset(reads_token)
            current_cache_scope.reset(cache_token)
            current_media_type.reset(media_token)
            current_limits.reset(limits_token)
            current_call_log.reset(token)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, observed: RequestScope | None
    ) -> None:
        request = Request(scope=scope, receive=receive)
        try:
            # The same predicate let the request past the client gate without
            # credentials: whatever it says is a page is never run as an operation.
            if is_explorer_page_request(scope):
                response = await self._explorer_page(request)
            else:
                response = await self.run(request)
        except HTTPException as exc:
            # Strawberry's own refusals (content type, GET mutation, ...) as GraphQL errors.
            response = self._refusal(BadRequest(exc.reason), exc.status_code, observed)
        except RequestRefused as exc:
            response = self._refusal(exc, exc.status, observed)
        except ClientDisconnected:
            if observed is not None:
                observed.outcome = "disconnected"
            return
        if scope["method"] == "GET" and isinstance(response, Response):
            reads = current_operation_reads.get() or OperationReads()
            validator = Headers(scope=scope).get("if-none-match")
            response = cache_headers(response, reads, validator, caching=self.caching, vary=VARY)
        await response(scope, receive, send)

    @staticmethod
    def _refusal(error: RequestRefused, status: int, observed: RequestScope | None) -> Response:
        if observed is not None:
            observed.outcome, observed.error_codes = "rejected", (error.code,)
        media = content_type(current_media_type.get())
        return refusal_response(error, status=status, media_type=media)

    async def _explorer_page(self, request: Request) -> Response:
        if self.graphql_ide is None:
            raise HTTPException(404, "Not Found")
        return await self.render_graphql_ide(request)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # The page is answered before strawberry runs (_answer); its own guess, which
        # also takes */* for a visit, must not decide anything else.
        accept = request.headers.get("accept")
        return is_explorer_page(request.method, request.query_params.keys(), accept)

    async def render_graphql_ide(self, request: Request) -> Response:
        return explorer_page(request.url.path)

    async def parse_http_body(self, request_adapter: Any) -> Any:
        data = await super().parse_http_body(request_adapter)
        # Never a batch: parse_json and parse_query_params accept only a JSON object.
        assert isinstance(data, GraphQLRequestData)
        return self.persisted.resolve(_checked(data))

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media = current_media_type.get()
        response.headers["content-type"] = content_type(media)
        if not sub_response.status_code or sub_response.status_code == 200:
            response.status_code = status_code(media, response_data)
        return response

    def parse_json(self, data: str | bytes) -> Any:
        return _json_object(data, "The request body")

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        data = dict(params)
        for name in ("variables", "extensions"):
            if data.get(name):
                data[name] = _json_object(data[name], f"The `{name}` parameter")
        return data

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
            result = work.result()
            rejected = request_refusal(result)
            if rejected is not None:
                raise rejected
            return result
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
        principal: Principal | None = getattr(request.state, PRINCIPAL, None)
        if principal is None:
            # Only the explorer page passes the client gate without a principal, and it
            # is answered before this; anything else that got here runs nothing.
            raise credentials_required()
        calls = current_call_log.get() or CallLog()
        context = Context(
            request=request,
            adapters=self.adapters,
            loaders=Loaders(self.adapters),
            calls=calls,
            idempotency=self.idempotency,
            access=ClientAccess(
                principal=principal,
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
        if current_media_type.get() == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            del response["data"]  # the spec's request error: no data entry at all
        if errors:
            response["errors"] = [format_error(error) for error in errors]
        observed = current_request.get()
        if observed is not None:
            observed.outcome, observed.error_codes = outcome_of(response)
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


def _json_object(data: str | bytes, what: str) -> dict[str, Any]:
    # orjson refuses invalid UTF-8 and nesting past 1,024 levels with a decode
    # error, where the standard library would raise RecursionError (a 500).
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON in UTF-8.") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object.")
    return value


def _checked(data: GraphQLRequestData) -> GraphQLRequestData:
    # Strawberry checks the types of `query`, `variables` and `extensions`, not this one.
    if not isinstance(data.operation_name, str | None):
        raise BadRequest("The GraphQL operation's `operationName` must be a string or null.")
    return data


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
                "startMs": call.start_ms,
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
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The gateway app. ``transports`` lets tests and the demo reach sandboxes in-process;
    ``tracer_provider`` replaces the one the OTEL_* environment describes (if any)."""
    settings = settings or Settings()
    adapters = Adapters(settings, transports)
    observing = Observability(settings.gateway, adapters, tracer_provider)
    protection = ClientProtection.from_settings(settings, adapters.limiter)
    graphql_app = GatewayGraphQL(adapters, settings, observing.telemetry, protection)

    async def healthz(request: Request) -> Response:
        vendors = [vendor.value for vendor in adapters.configured]
        return JSONResponse({"status": "ok", "vendors": vendors})

    readiness = Readiness(
        adapters, ttl=settings.gateway.ready_cache, timeout=settings.gateway.ready_timeout
    )

    async def readyz(request: Request) -> Response:
        ready, report = await readiness.check()
        return JSONResponse(report, status_code=200 if ready else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await adapters.aclose()
        observing.shutdown()

    cors = cors_middleware(settings.gateway)
    # CORS answers preflights before the guard, which refuses any other OPTIONS.
    allow = (*GRAPHQL_METHODS, "OPTIONS") if cors else GRAPHQL_METHODS
    guarded: ASGIApp = MaskedFailures(
        HttpGuard(
            ClientGate(
                graphql_app,
                authenticator=protection.authenticator,
                requests=protection.requests,
                graphiql=protection.graphiql,
            ),
            max_body_bytes=settings.gateway.max_body_bytes,
            body_timeout=settings.gateway.body_timeout,
            graphql_paths=None,
            allow=allow,
        )
    )
    app = GatewayApp(
        routes=[
            # Routed only when the path is not literally /graphql (a root path): the
            # same guards as the fast path below, never the bare view.
            Route("/graphql", guarded),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *explorer_routes(),
            *observing.routes(),
            *(extra_routes or []),
        ],
        lifespan=lifespan,
        middleware=[
            # Outermost: preflights are answered before the CSRF rule sees them.
            *([cors] if cors else []),
            Middleware(
                HttpGuard,
                max_body_bytes=settings.gateway.max_body_bytes,
                body_timeout=settings.gateway.body_timeout,
                allow=allow,
            ),
        ],
    )
    app.state.adapters = adapters
    app.state.readiness = readiness
    app.state.telemetry = observing.telemetry
    app.scoped = RequestScopes(app.dispatch, observing.telemetry)
    # /graphql is always answered here (see GatewayApp.dispatch): the client gate, the
    # HTTP guard and CORS around the view, without the router.
    fast = guarded
    if cors is not None:
        factory, args, kwargs = cors
        fast = factory(fast, *args, **kwargs)
    app.graphql = fast
    return app


class GatewayApp(Starlette):
    """Starlette, with `/graphql` (the hot path) sent straight to its guarded view:
    the router and the error and exception middleware cost about a tenth of a
    request's CPU, and the view handles its own errors (an unexpected one is
    answered by gateway.api.errors.MaskedFailures)."""

    graphql: ASGIApp | None = None
    # The request id and telemetry scope around every request (gateway.observability).
    scoped: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.scoped is not None:
            await self.scoped(scope, receive, send)
        else:
            await self.dispatch(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.graphql is not None and scope["type"] == "http" and scope["path"] == "/graphql":
            scope["app"] = self
            await self.graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
