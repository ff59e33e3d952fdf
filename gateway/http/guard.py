"""HTTP hygiene in front of the app: methods, body size and read time, and CSRF
prevention.

The guard reads the whole request body itself before the app sees the request,
so a body over the limit (announced by ``Content-Length`` or grown chunk by
chunk) is refused with 413 and a body that arrives too slowly with 408, before
any GraphQL work. The app then gets the body in one message, and later
``receive()`` calls reach the server, so it can still notice a disconnect.

On the GraphQL path any method but GET and POST (and OPTIONS, when CORS answers
preflights) is refused with 405 and ``Allow`` before anything else; then it
applies Apollo's CSRF prevention rule: a request is let
through only if a browser could not have sent it without a CORS preflight,
i.e. it has a ``Content-Type`` other than the three "simple" ones, or a
non-empty ``X-Apollo-Operation-Name`` or ``Apollo-Require-Preflight`` header, or a
credential header (``Authorization``, ``X-API-Key``): none of them is CORS-safelisted,
so a page can send them cross-site only after a preflight the CORS settings answer,
and the gateway never reads credentials a browser attaches by itself (cookies).
A GET whose ``Origin`` the CORS settings allow is no forgery either: the rule is
there for simple requests from pages the gateway does not trust, and a browser
never lets a page set another origin (urql's and graphql-request's GETs carry no
content type). A request with no ``Origin`` keeps the rule.
The explorer page (gateway.http.media_types.is_explorer_page: a browser GET that
carries no operation) executes nothing and is exempt. CORS preflights are answered before this guard
(gateway/http/cors.py).
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.errors import refusal_response
from gateway.auth.authenticator import CREDENTIAL_HEADERS
from gateway.core.errors import (
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RequestRefused,
    RequestTimeout,
)
from gateway.http.cors import AllowedOrigins
from gateway.http.media_types import is_explorer_page_request
from gateway.observability.scope import request_state

SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
PREFLIGHT_HEADERS = (
    "x-apollo-operation-name",
    "apollo-require-preflight",
    *(name.lower() for name in CREDENTIAL_HEADERS),
)
GRAPHQL_METHODS = ("GET", "POST")
GRAPHQL_PATH = "/graphql"


def is_graphql_path(scope: Scope) -> bool:
    """The GraphQL endpoint, under the server's root path if it has one (as the
    router reads paths)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    return path == GRAPHQL_PATH


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


def check_csrf(scope: Scope, headers: Headers, origins: AllowedOrigins | None = None) -> None:
    if is_explorer_page_request(scope) or is_preflighted(headers):
        return
    origin = headers.get("origin")
    if scope["method"] == "GET" and origin and origins is not None and origins.allows(origin):
        return
    raise BadRequest(
        "This request has been blocked as a possible cross-site request forgery. "
        "Send it with `Content-Type: application/json`, or with a non-empty "
        "`Apollo-Require-Preflight` (or `X-Apollo-Operation-Name`) header"
        + (", or list its origin in GATEWAY_CORS_ORIGINS." if origin else ".")
    )


class RequestRules:
    """The guard's rules, for the GraphQL endpoint's one layer (gateway.http.entry) and
    the layered chain in front of every other route (:class:`HttpGuard`)."""

    def __init__(
        self,
        *,
        max_body_bytes: int,
        body_timeout: float,
        allow: tuple[str, ...] = GRAPHQL_METHODS,
        origins: AllowedOrigins | None = None,
    ) -> None:
        """``allow``: the methods a 405 names, OPTIONS among them when CORS answers
        preflights before the guard; ``origins``: those CORS allows."""
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.allow = allow
        self.origins = origins

    def check_graphql(self, scope: Scope, headers: Headers) -> None:
        """The GraphQL endpoint's method and CSRF rules."""
        if scope["method"] not in GRAPHQL_METHODS:
            raise MethodNotAllowed(scope["method"], self.allow)
        check_csrf(scope, headers, self.origins)

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


class HttpGuard:
    """The rules as an ASGI layer: the body rules for every request, the method and
    CSRF rules for the GraphQL endpoint."""

    def __init__(self, app: ASGIApp, *, rules: RequestRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = request_state(scope).headers
        try:
            # The GraphQL endpoint has a layer of its own (gateway.http.entry); should a
            # request for it come this way all the same, it meets the same rules.
            if is_graphql_path(scope):
                self.rules.check_graphql(scope, headers)
            body = await self.rules.read_body(headers, receive)
        except RequestRefused as error:
            await refusal_response(error)(scope, receive, send)
            return
        except ClientGone:
            return
        await self.app(scope, replay(body, receive), send)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app behind the guard: the body read, in one message, then
    the server's own (a disconnect)."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
