"""GraphQL over HTTP: which media type an answer is sent in, and its status code.

A client that accepts ``application/graphql-response+json`` gets the spec's
status codes: a request error (the document does not parse or validate, its
variables do not coerce, it is refused before execution) is HTTP 400 with no
``data`` entry. Everyone else gets the legacy ``application/json`` behaviour:
HTTP 200 with ``"data": null`` beside the errors.

It also says, in one place, whether a request is a visit to the explorer page
(GraphiQL) rather than an operation: the client gate lets such a visit in without
credentials, the CSRF rule exempts it and the view renders the page for it, so
the three must never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError
from starlette.datastructures import QueryParams
from starlette.types import Scope
from strawberry.types import ExecutionResult

from gateway.core.errors import OperationTooComplex, RequestRefused
from gateway.observability.scope import request_state

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
LEGACY_JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None) -> str:
    """The media type to answer in: the new one only when the client names it (and
    prefers it to ``application/json``); a missing header or ``*/*`` gets the legacy one."""
    if not accept:
        return LEGACY_JSON
    best, best_quality = LEGACY_JSON, -1.0
    for item in accept.split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        media = media.lower()
        if media not in (GRAPHQL_RESPONSE_JSON, LEGACY_JSON):
            continue
        quality = _quality(parameters)
        # On a tie the spec's own type wins: a client naming both understands both.
        if quality > best_quality or (quality == best_quality and media == GRAPHQL_RESPONSE_JSON):
            best, best_quality = media, quality
    return best if best_quality > 0 else LEGACY_JSON


EVENT_STREAM = "text/event-stream"
JSON_ANSWERS = frozenset({GRAPHQL_RESPONSE_JSON, LEGACY_JSON, "application/graphql+json"})


def _qualities(accept: str | None) -> dict[str, float]:
    qualities: dict[str, float] = {}
    for item in (accept or "").split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        qualities[media.lower()] = max(qualities.get(media.lower(), 0.0), _quality(parameters))
    return qualities


def prefers_event_stream(accept: str | None) -> bool:
    """An event stream (GraphQL over SSE) is the answer the client wants: it accepts
    one, and no JSON answer as much. A tie goes to JSON: urql names every type it can
    read, the stream last, and wants a query answered in JSON."""
    qualities = _qualities(accept)
    stream = qualities.get(EVENT_STREAM, 0.0)
    return stream > 0 and stream > max((qualities.get(m, 0.0) for m in JSON_ANSWERS), default=0.0)


def accepts_html(accept: str | None) -> bool:
    for item in (accept or "").split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        if media.lower() == "text/html" and _quality(parameters) > 0:
            return True
    return False


# Every query-string parameter an operation can be read from: the document, its
# variables, name and extensions (an APQ hash or a manifest id rides in
# ``extensions.persistedQuery``, gateway/http/persisted.py), and a manifest document's
# id as Relay (``doc_id``) and the GraphQL-over-HTTP draft (``documentId``) send it.
OPERATION_PARAMETERS = frozenset(
    {"query", "variables", "operationName", "extensions", "documentId", "doc_id"}
)


def is_explorer_page(method: str, parameters: Iterable[str], accept: str | None) -> bool:
    """A browser's visit to the explorer page: a GET that asks for HTML and carries
    nothing an operation could be read from. ``parameters`` are the names of the
    query string's parameters, decoded (``%71uery`` is ``query``), as the view
    reads them."""
    return method == "GET" and OPERATION_PARAMETERS.isdisjoint(parameters) and accepts_html(accept)


def is_explorer_page_request(scope: Scope) -> bool:
    """:func:`is_explorer_page` for an ASGI request, its parameters parsed as Starlette
    (and so strawberry) parses them."""
    if scope["method"] != "GET":
        return False  # before parsing anything: most operations are POSTs
    parameters = QueryParams(scope.get("query_string", b""))
    accept = request_state(scope).headers.get("accept")
    return is_explorer_page(scope["method"], parameters.keys(), accept)


def content_type(media: str) -> str:
    return f"{media}; charset=utf-8"


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation was refused before execution began, so the answer
    must have no ``data``: parse, validation and variable-coercion failures and the
    gateway's own limits. Execution failures (a timeout, a failed root field) have
    ``data: null`` instead."""
    errors = result.errors or []
    if result.data is not None or not errors:
        return False
    return all(error.path is None and _before_execution(error) for error in errors)


def _before_execution(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | OperationTooComplex)


def request_refusal(result: Any) -> RequestRefused | None:
    """A ``RequestRefused`` raised while the document was prepared (a schema extension's
    refusal, which strawberry turns into a GraphQL error): the whole request is refused."""
    if not isinstance(result, ExecutionResult) or result.data is not None:
        return None
    for error in result.errors or []:
        if isinstance(error.original_error, RequestRefused):
            return error.original_error
    return None


def status_code(media: str, body: object) -> int:
    if media == GRAPHQL_RESPONSE_JSON and isinstance(body, dict) and "data" not in body:
        return 400
    return 200
