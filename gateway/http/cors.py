"""CORS for browser apps on other origins (``GATEWAY_CORS_ORIGINS``).

It stands outside the HTTP guard: a preflight (OPTIONS, no body, no content
type) is answered here, before the CSRF rule, which would refuse it. The guard
asks :class:`AllowedOrigins` too: a GET from an allowed origin is no forgery.

An origin is listed exactly (``https://app.example.com``), as ``*`` (any), or with
``:*`` for any port of one host (``http://localhost:*``), as a dev server's port
changes. A refused preflight says what was refused, in its body (a browser shows it
in its network panel, never to the page).
"""

from __future__ import annotations

import functools
import re

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.observability.scope import request_state

# Every request header the gateway reads: the credentials (gateway.auth), the request id
# and the caller's trace (gateway.observability), the CSRF rule's headers, the accounting
# switch, the media types and the cache validator (gateway.http).
ALLOWED_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-api-key",
    "x-request-id",
    "traceparent",
    "tracestate",
    "baggage",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "x-upstream-accounting",
    "if-none-match",
)
ALLOWED_METHODS = ("GET", "POST")
PREFLIGHT_MAX_AGE = 600
ANY_PORT = ":*"


def origin_entries(value: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


class AllowedOrigins:
    """The origins of ``GATEWAY_CORS_ORIGINS``, as the CORS layer and the CSRF rule read them."""

    def __init__(self, value: str) -> None:
        entries = origin_entries(value)
        self.any = "*" in entries
        self.exact = tuple(entry for entry in entries if "*" not in entry)
        patterns = [
            re.escape(entry.removesuffix(ANY_PORT)) + r"(?::[0-9]{1,5})?"
            for entry in entries
            if entry.endswith(ANY_PORT)
        ]
        self.regex = "|".join(patterns) or None
        self._pattern = re.compile(self.regex) if self.regex else None

    def __bool__(self) -> bool:
        return self.any or bool(self.exact) or self._pattern is not None

    def allows(self, origin: str) -> bool:
        if self.any or origin in self.exact:
            return True
        return self._pattern is not None and self._pattern.fullmatch(origin) is not None


class GatewayCors(CORSMiddleware):
    """Starlette's CORS, whose refused preflights name what was refused. With no origin
    allowed it only refuses preflights, saying how to allow one."""

    def __init__(self, app: ASGIApp, *, origins: AllowedOrigins, credentials: bool) -> None:
        super().__init__(
            app,
            allow_origins=["*"] if origins.any else list(origins.exact),
            allow_origin_regex=origins.regex,
            allow_credentials=credentials,
            allow_methods=list(ALLOWED_METHODS),
            allow_headers=list(ALLOWED_HEADERS),
            max_age=PREFLIGHT_MAX_AGE,
            # Pages may read the id their report should quote (gateway.observability).
            expose_headers=["X-Request-Id"],
        )
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        headers = request_state(scope).headers
        preflight = self.preflight(scope, headers)
        if preflight is not None:
            await preflight(scope, receive, send)
            return
        await self.app(scope, receive, self.sending(send, headers))

    def applies(self, scope: Scope) -> bool:
        """Whether CORS has anything to say: with no origin allowed, only to refuse
        preflights."""
        return bool(self.origins) or scope["method"] == "OPTIONS"

    def preflight(self, scope: Scope, request_headers: Headers) -> Response | None:
        """The answer to a preflight, or None when this is no preflight."""
        if (
            scope["method"] == "OPTIONS"
            and "origin" in request_headers
            and "access-control-request-method" in request_headers
        ):
            return self.preflight_response(request_headers)
        return None

    def sending(self, send: Send, request_headers: Headers) -> Send:
        """``send``, adding the CORS headers to the answer."""
        return functools.partial(self.send, send=send, request_headers=request_headers)

    def preflight_response(self, request_headers: Headers) -> Response:
        refusals = self._refusals(request_headers)
        if refusals:
            message = "CORS preflight refused: " + "; ".join(refusals) + "."
            return PlainTextResponse(message, status_code=400, headers={"Vary": "Origin"})
        response = super().preflight_response(request_headers)
        requested = request_headers.get("access-control-request-headers")
        if requested:
            # Echo the request's own list (lower case, as the browser compares it).
            response.headers["Access-Control-Allow-Headers"] = ", ".join(_header_names(requested))
        return response

    def _refusals(self, request_headers: Headers) -> list[str]:
        refusals: list[str] = []
        origin = request_headers["origin"]
        if not self.origins.allows(origin):
            listed = "none is" if not self.origins else "it is not"
            refusals.append(
                f"the origin {origin} may not call this gateway ({listed} listed in "
                "GATEWAY_CORS_ORIGINS)"
            )
        method = request_headers["access-control-request-method"]
        if method not in ALLOWED_METHODS:
            refusals.append(f"the method {method} is not one of {', '.join(ALLOWED_METHODS)}")
        requested = _header_names(request_headers.get("access-control-request-headers", ""))
        unknown = [name for name in requested if name not in self.allow_headers]
        if unknown:
            refusals.append(
                f"the gateway reads no header {', '.join(unknown)} (it accepts "
                f"{', '.join(ALLOWED_HEADERS)})"
            )
        if "access-control-request-private-network" in request_headers:
            refusals.append("private network access is not allowed")
        return refusals


def _header_names(value: str) -> list[str]:
    return [name.strip().lower() for name in value.split(",") if name.strip()]
