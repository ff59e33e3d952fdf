"""GraphQL over Server-Sent Events (the ``graphql-sse`` protocol's distinct connections
mode): a GET or POST to `/graphql` that prefers ``text/event-stream`` to JSON
(gateway.http.media_types.prefers_event_stream) is answered with an event stream,
each result a ``next`` event and the end a ``complete`` event.

It is an ordinary GraphQL request until its answer: the same guard (CSRF, body
limits), the same client gate (credentials in its headers, requests a minute) and
the same view, whose operation runs through the schema's one streaming path, the
one the WebSocket handler uses (``Schema.stream``), so subscriptions over either
transport share the change bus's bounds per client and per process and the scope
check on every event. A query or mutation streams its one result, then completes;
an operation that does not parse or validate is one ``next`` with its errors.

The stream carries a comment every ``GATEWAY_SSE_KEEPALIVE`` seconds, so a proxy
does not cut an idle subscription. A client that goes away cancels the stream, and
with it the subscription's place on the bus.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response
from strawberry.http.streaming import HTTPStreamTransport, SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL

from gateway.api.errors import request_error_body
from gateway.core.errors import RequestRefused
from gateway.http.media_types import prefers_event_stream

__all__ = ["GRAPHQL_SSE_PROTOCOL", "refusal_events", "sse_transports", "wants_event_stream"]


def sse_transports(keepalive: float) -> dict[str, type[HTTPStreamTransport]]:
    """The view's streaming transports: graphql-sse, its keep-alive comment every
    ``keepalive`` seconds (strawberry makes each transport with no arguments)."""

    class KeptAliveSSE(SSETransport):
        def __init__(self) -> None:
            super().__init__(heartbeat_interval=keepalive)

        def accepts(self, accept: str) -> bool:
            # Strawberry's own test takes any mention of the stream, among JSON types too.
            return prefers_event_stream(accept)

    return {GRAPHQL_SSE_PROTOCOL: KeptAliveSSE}


def wants_event_stream(headers: Mapping[str, str]) -> bool:
    return prefers_event_stream(headers.get("accept"))


def refusal_events(error: RequestRefused) -> Response:
    """A request the view refused before running it (a body that is not JSON, an
    unknown persisted document), told as the protocol asks: in the accepted stream, as
    one ``next`` with the errors, then ``complete`` (a 400 would leave an
    ``EventSource`` with no word of why)."""
    events = SSETransport()
    body = orjson.dumps(request_error_body(error)).decode()
    text = events.encode_event("next", body) + events.encode_complete()
    return Response(text, headers=dict(SSETransport.headers))
