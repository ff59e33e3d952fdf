"""HTTP hygiene in front of the app: body size and read time, and CSRF prevention.

The guard reads the whole request body itself before the app sees the request,
so a body over the limit (announced by ``Content-Length`` or grown chunk by
chunk) is refused with 413 and a body that arrives too slowly with 408, before
any GraphQL work. The app then gets the body in one message, and later
``receive()`` calls reach the server, so it can still notice a disconnect.

On the GraphQL path it applies Apollo's CSRF prevention rule: a request is let
through only if a browser could not have sent it without a CORS preflight,
i.e. it has a ``Content-Type`` other than the three "simple" ones, or a
non-empty ``X-Apollo-Operation-Name`` or ``Apollo-Require-Preflight`` header.
The GraphiQL page (a browser GET with no query, nor a persisted query's hash)
executes nothing and is exempt. CORS preflights are answered before this guard
(gateway/cors.py).
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.errors import request_error_body
from gateway.errors import BadRequest, PayloadTooLarge, RequestTimeout

SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")


class ClientGone(Exception):
    """The client disconnected while its request body was being read."""


def is_preflighted(headers: Headers) -> bool:
    """Apollo's rule: could a browser have sent this cross-site without a preflight?"""
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return True
    content_type = headers.get("content-type")
    if content_type is None:
        return False
    essence = content_type.split(";", 1)[0].strip().lower()
    return bool(essence) and essence not in SIMPLE_CONTENT_TYPES


def is_graphiql_page_request(scope: Scope, headers: Headers) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (
        scope["method"] == "GET"
        and "query" not in query
        and "extensions" not in query
        and "text/html" in headers.get("accept", "")
    )


def check_csrf(scope: Scope, headers: Headers) -> None:
    if is_graphiql_page_request(scope, headers) or is_preflighted(headers):
        return
    raise BadRequest(
        "This request has been blocked as a possible cross-site request forgery. "
        "Send it with `Content-Type: application/json`, or with a non-empty "
        "`Apollo-Require-Preflight` (or `X-Apollo-Operation-Name`) header."
    )


class HttpGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float,
        csrf_paths: frozenset[str] = frozenset({"/graphql"}),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.csrf_paths = csrf_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            if scope["path"] in self.csrf_paths:
                check_csrf(scope, headers)
            body = await self.read_body(headers, receive)
        except BadRequest as error:
            response = JSONResponse(request_error_body(error), status_code=error.status)
            await response(scope, receive, send)
            return
        except ClientGone:
            return
        await self.app(scope, _replay(body, receive), send)

    async def read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise BadRequest("The Content-Length header is not a number.")
            if int(declared) > self.max_body_bytes:
                raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        try:
            # One deadline for the whole body: a client trickling bytes must not
            # hold a connection and a buffer open indefinitely.
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise self._too_large()
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise RequestTimeout(
                f"The request body did not arrive within {self.body_timeout:g} seconds."
            ) from None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than the limit of {self.max_body_bytes} bytes.",
            maximum=self.max_body_bytes,
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
