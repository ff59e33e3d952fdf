"""The GraphQL view: strawberry's ASGI integration, answering in the negotiated media
type, under the operation's time limit, and cancelled when the client leaves."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.adapters import Adapters
from gateway.api.context import Context, Loaders
from gateway.api.errors import format_error, refusal_response
from gateway.api.limits import OperationLimits
from gateway.api.schema import build_schema
from gateway.api.writes import Idempotency
from gateway.auth.authenticator import CREDENTIAL_HEADERS, credentials_required
from gateway.auth.protection import ClientProtection
from gateway.config import Settings
from gateway.core.errors import BadRequest, OperationTimedOut, RequestRefused
from gateway.core.principal import ClientAccess
from gateway.http.accounting import accounting_report, accounting_requested
from gateway.http.cache_headers import cache_headers
from gateway.http.explorer import explorer_page
from gateway.http.media_types import (
    GRAPHQL_RESPONSE_JSON,
    LEGACY_JSON,
    content_type,
    is_explorer_page,
    is_explorer_page_request,
    is_request_error,
    negotiate,
    request_refusal,
    status_code,
)
from gateway.http.observability import outcome_of
from gateway.http.persisted import PersistedQueries, load_manifest
from gateway.http.plain_run import is_plain, plain_run
from gateway.http.sockets import SocketClients, TextFrames, socket_context
from gateway.http.sse import (
    GRAPHQL_SSE_PROTOCOL,
    refusal_events,
    sse_transports,
    wants_event_stream,
)
from gateway.observability.scope import RequestState, request_state
from gateway.observability.telemetry import Telemetry
from gateway.state.changes import ChangeBus
from gateway.state.storage.idempotency import idempotency_store, item_locks

# What a GET answer depends on besides its URL: the client (whichever header its
# credential came in), the media type it asked for, the accounting switch, and
# whether the client asked for fresh vendor reads.
VARY = (*CREDENTIAL_HEADERS, "Accept", "X-Upstream-Accounting", "Cache-Control")

logger = logging.getLogger("gateway.app")


class ClientDisconnected(Exception):
    """The client went away mid-operation: its resolvers were cancelled, nobody to answer."""


class GatewayGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        adapters: Adapters,
        settings: Settings,
        telemetry: Telemetry | None = None,
        protection: ClientProtection | None = None,
        changes: ChangeBus | None = None,
    ) -> None:
        traced = telemetry is not None and telemetry.tracer is not None
        limits = OperationLimits.from_settings(settings.gateway)
        super().__init__(
            # This app's own schema, with its limits; built once, never changed.
            build_schema(
                settings.plugins,
                traced=traced,
                limits=limits,
                federation=settings.gateway.federation,
                executor=settings.gateway.executor,
            ),
            graphql_ide="graphiql" if settings.gateway.graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            max_subscriptions_per_connection=settings.gateway.max_subscriptions,
        )
        self.stream_transport_classes_by_protocol = sse_transports(settings.gateway.sse_keepalive)
        self.adapters = adapters
        self.changes = changes
        self.telemetry = telemetry
        self.accounting_default = settings.gateway.upstream_accounting
        self.idempotency = Idempotency(
            idempotency_store(settings.gateway, adapters.store),
            item_locks(settings.gateway, adapters.store),
        )
        self.sockets = SocketClients(
            adapters,
            self.idempotency,
            changes,
            authenticator=protection.authenticator if protection else None,
            introspection=settings.gateway.introspection,
        )
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
        state = request_state(scope)
        state.media_type = negotiate(state.headers.get("accept"))
        telemetry = self.telemetry
        try:
            if telemetry is not None and telemetry.tracer is not None:
                with telemetry.operation(state):
                    await self._answer(scope, receive, send, state)
            else:
                await self._answer(scope, receive, send, state)
        finally:
            if telemetry is not None:
                telemetry.operation_finished(state)
            # The execution context holds the Context, which holds the state: without this
            # the request's whole graph would wait for the cyclic collector.
            state.execution = None
            # As does the request, through its state, and the Context, through the request.
            scope.get("state", {}).pop("context", None)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, state: RequestState
    ) -> None:
        request = Request(scope=scope, receive=receive)
        try:
            # The same predicate let the request past the client gate without
            # credentials: whatever it says is a page is never run as an operation.
            if is_explorer_page_request(scope):
                response = await self._explorer_page(request)
            elif is_plain(self, scope, state.headers):
                response = await plain_run(self, request, state)
            else:
                response = await self.run(request)
        except HTTPException as exc:
            # Strawberry's own refusals (content type, GET mutation, ...) as GraphQL errors.
            response = self._refusal(BadRequest(exc.reason), exc.status_code, state)
        except RequestRefused as exc:
            response = self._refusal(exc, exc.status, state)
        except ClientDisconnected:
            state.outcome = "disconnected"
            return
        if scope["method"] == "GET" and isinstance(response, Response):
            validator = state.headers.get("if-none-match")
            response = cache_headers(
                response, state.reads, validator, caching=self.caching, vary=VARY
            )
        elif isinstance(response, Response) and "cache-control" not in response.headers:
            # A POST answer (a mutation's above all) is never kept by anyone.
            response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, send)

    @staticmethod
    def _refusal(error: RequestRefused, status: int, state: RequestState) -> Response:
        state.outcome, state.error_codes = "rejected", (error.code,)
        if wants_event_stream(state.headers):
            return refusal_events(error)
        return refusal_response(error, status=status, media_type=content_type(state.media_type))

    async def _explorer_page(self, request: Request) -> Response:
        if self.graphql_ide is None:
            raise HTTPException(404, "Not Found")
        return await self.render_graphql_ide(request)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await self.sockets.connect(context)
        return cast(UnsetType, UNSET)

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
        return self.resolve_request(data)

    def resolve_request(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """The operation a request names, its persisted document looked up."""
        return self.persisted.resolve(_checked(data))

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        # What create_response answers in; it is given no request to read it from.
        sub_response.media_type = request_state(request.scope).media_type
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media = sub_response.media_type or LEGACY_JSON
        response.headers["content-type"] = content_type(media)
        if not sub_response.status_code or sub_response.status_code == 200:
            response.status_code = status_code(media, response_data)
        return response

    def parse_json(self, data: str | bytes) -> Any:
        return self.persisted.lift_document_id(_json_object(data, "The request body"))

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        data = dict(params)
        for name in ("variables", "extensions"):
            if data.get(name):
                data[name] = _json_object(data[name], f"The `{name}` parameter")
        return self.persisted.lift_document_id(data)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        """Run the operation under its time limit, and cancel it if the client leaves.

        It runs in the request's own task (a task of its own, and waiting for it, cost
        a few per cent of a small query's CPU); a task watching for the disconnect
        cancels this one when the client goes."""
        task = asyncio.current_task()
        assert task is not None
        gone = asyncio.ensure_future(_disconnect(request))
        left = False

        def client_left(_: asyncio.Future[None]) -> None:
            nonlocal left
            if not gone.cancelled():
                left = True
                task.cancel()

        gone.add_done_callback(client_left)
        limit = asyncio.timeout(self.operation_timeout)
        try:
            async with limit:
                result = await super().execute_operation(
                    request, request_adapter, request_data, context, root_value, sub_response
                )
        except asyncio.CancelledError:
            if not left:
                raise
            # The cancellation was this view's own: the request's task carries on.
            task.uncancel()
            logger.info("The client disconnected; its operation was cancelled.")
            raise ClientDisconnected from None
        except TimeoutError:
            if not limit.expired():
                raise
            return self._timed_out()
        finally:
            gone.remove_done_callback(client_left)
            gone.cancel()
        rejected = request_refusal(result)
        if rejected is not None:
            raise rejected
        return result

    def _timed_out(self) -> ExecutionResult:
        refusal = OperationTimedOut(
            f"The operation did not finish within {self.operation_timeout:g} seconds."
        )
        return ExecutionResult(
            data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        if request.scope["type"] == "websocket":
            return socket_context(self.sockets, request)
        state = request_state(request.scope)
        principal = state.principal
        if principal is None:
            # Only the explorer page passes the client gate without a principal, and it
            # is answered before this; anything else that got here runs nothing.
            raise credentials_required()
        context = Context(
            request=request,
            adapters=self.adapters,
            loaders=Loaders(self.adapters),
            state=state,
            idempotency=self.idempotency,
            access=ClientAccess(
                principal=principal,
                calls=self.client_calls,
                introspection=self.introspection,
            ),
            changes=self.changes,
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
            # An operator learns from the log, not only from clients, that a vendor
            # refuses the gateway's credentials.
            context.adapters.credential_warnings.note(e.original_error for e in errors)
        state = request_state(request.scope)
        response: GraphQLHTTPResponse = {"data": result.data}
        if state.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            del response["data"]  # the spec's request error: no data entry at all
        if errors:
            response["errors"] = [format_error(error) for error in errors]
        state.outcome, state.error_codes = outcome_of(response)
        extensions = dict(result.extensions or {})
        if context is not None and state.reads.vendors:
            # How old each vendor's part of the answer may be (docs/freshness.md).
            extensions["freshness"] = state.reads.report()
        if context is not None and accounting_requested(state.headers, self.accounting_default):
            extensions["upstreamCalls"] = accounting_report(state.calls)
        if extensions:
            response["extensions"] = extensions
        return response

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
