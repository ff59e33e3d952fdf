"""The common `/graphql` request answered without strawberry's HTTP machinery.

Strawberry's ``run`` serves every kind of request (batches, multipart uploads,
streamed and incremental answers, the explorer page) through a request adapter, a
sub-response, content-type parsing and a response built twice; around a small query
that cost about a twentieth of its CPU. The common case -- a POST of
``application/json`` or a GET with the operation in its query string, with no event
stream asked for -- takes :func:`plain_run`, which does what ``run`` does for it,
step for step, through the view's own hooks: ``get_context`` first (no principal, no
run), the body parsed by ``parse_json`` or ``parse_query_params`` and checked as
strawberry checks it, the persisted documents, ``execute_operation`` (the time limit
and the disconnect watch), ``process_result``, and the answer encoded by
``encode_json`` in the negotiated media type and status. The same bytes, status and
headers come out; every other request takes ``run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData

from gateway.http.media_types import content_type, status_code
from gateway.observability.scope import RequestState

JSON = "application/json"


class PlainView(Protocol):
    """What the plain run calls of the view (gateway.http.view.GatewayGraphQL)."""

    request_adapter_class: Any

    def _get_stream_transport_from_headers(self, headers: Mapping[str, str]) -> Any: ...
    async def get_context(self, request: Any, response: Any) -> Any: ...
    def parse_json(self, data: str | bytes) -> Any: ...
    def parse_query_params(self, params: Any) -> dict[str, Any]: ...
    def resolve_request(self, data: GraphQLRequestData) -> GraphQLRequestData: ...
    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Any,
        root_value: None,
        sub_response: Any,
    ) -> Any: ...
    async def process_result(self, request: Request, result: Any) -> GraphQLHTTPResponse: ...
    def _handle_errors(
        self, errors: list[GraphQLError], response_data: GraphQLHTTPResponse
    ) -> None: ...
    def encode_json(self, data: object) -> str | bytes: ...


def is_plain(view: PlainView, scope: Scope, headers: Mapping[str, str]) -> bool:
    """Whether the request is the common case :func:`plain_run` answers."""
    method = scope["method"]
    if method == "POST":
        media = headers.get("content-type")
        if media is None or media.partition(";")[0].strip().lower() != JSON:
            return False
    elif method != "GET":
        return False
    # An event stream asked for (GraphQL over SSE) is strawberry's to answer.
    return view._get_stream_transport_from_headers(headers) is None


async def plain_run(view: PlainView, request: Request, state: RequestState) -> Response:
    """Strawberry's ``run`` for a request :func:`is_plain` accepts; raises what it raises."""
    context = await view.get_context(request, None)
    if request.scope["method"] == "GET":
        data = view.parse_query_params(request.query_params)
    else:
        data = view.parse_json(await request.body())
    request_data = view.resolve_request(_request_data(data))
    adapter = view.request_adapter_class(request)
    result = await view.execute_operation(request, adapter, request_data, context, None, None)
    response_data = await view.process_result(request, result)
    if result.errors:
        view._handle_errors(result.errors, response_data)
    media = state.media_type
    return Response(
        view.encode_json(response_data),
        status_code=status_code(media, response_data),
        media_type=content_type(media),
    )


def _request_data(data: dict[str, Any]) -> GraphQLRequestData:
    """The operation a JSON object names, checked as strawberry's ``parse_http_body``
    checks it (the same refusals, in the same order)."""
    query = data.get("query")
    if not isinstance(query, str | None):
        raise HTTPException(
            400, "The GraphQL operation's `query` must be a string or null, if provided."
        )
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `variables` must be an object or null, if provided."
        )
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `extensions` must be an object or null, if provided."
        )
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=data.get("operationName"),
        extensions=extensions,
        protocol="http",
    )
