"""The one place where errors become GraphQL responses.

Gateway errors keep their message and ``extensions`` (``code`` and details);
the parser's token limit becomes ``OPERATION_TOO_COMPLEX``;
errors that never reached a resolver get the standard GraphQL codes; anything
else is logged with its traceback and masked, including an exception that
escapes the GraphQL view itself (:class:`MaskedFailures`). Requests refused before GraphQL
(``RequestRefused``) get a body of the same shape from :func:`request_error_body`, in
the answer :func:`refusal_response` makes.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from graphql import GraphQLError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import (
    ClientRateLimited,
    GatewayError,
    MethodNotAllowed,
    OperationTooComplex,
    RequestRefused,
    Unauthenticated,
)

logger = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Unexpected error."


# The parser reports its token limit as a plain syntax error; the message is the
# only trace of it. It stops one past the limit, so ``actual`` is that lower bound.
# (The other limits raise OperationTooComplex themselves: gateway/api/limits.py.)
_LIMITER_MESSAGES = (
    ("tokens", re.compile(r"Document contains more than (?P<maximum>\d+) tokens\.")),
)


def _limiter_refusal(error: GraphQLError) -> OperationTooComplex | None:
    for limit, pattern in _LIMITER_MESSAGES:
        match = pattern.search(error.message)
        if match is None:
            continue
        maximum = int(match["maximum"])
        actual = int(match["actual"]) if "actual" in pattern.groupindex else maximum + 1
        return OperationTooComplex(
            f"The operation exceeds the {limit} limit of {maximum}.",
            limit=limit,
            maximum=maximum,
            actual=actual,
        )
    return None


def request_error_body(error: RequestRefused) -> dict[str, Any]:
    """The response body for a request refused before it reached GraphQL."""
    return {"errors": [{"message": error.message, "extensions": error.extensions}]}


def refusal_response(
    error: RequestRefused, *, status: int | None = None, media_type: str | None = None
) -> JSONResponse:
    """The HTTP answer to a request refused before GraphQL, with the headers its
    status calls for (a challenge with 401, when to retry with 429, what is allowed
    with 405)."""
    headers: dict[str, str] = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = error.challenge
    if isinstance(error, ClientRateLimited):
        # Whole seconds (RFC 9110), rounded up so that waiting that long suffices.
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    return JSONResponse(
        request_error_body(error),
        status_code=status or error.status,
        headers=headers,
        media_type=media_type,
    )


def _request_error_code(error: GraphQLError) -> str:
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$") or message.startswith('Variable "$'):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, GatewayError):
        formatted = error.formatted
        formatted["extensions"] = {**original.extensions}
        return dict(formatted)
    if original is None or isinstance(original, GraphQLError):
        refusal = _limiter_refusal(error)
        if refusal is not None:
            return {"message": refusal.message, "extensions": refusal.extensions}
        # Parse, validation and variable-coercion failures: the request itself is wrong.
        formatted = error.formatted
        extensions = dict(formatted.get("extensions") or {})
        extensions.setdefault("code", _request_error_code(error))
        formatted["extensions"] = extensions
        return dict(formatted)
    logger.error("Unexpected error in %s", error.path, exc_info=original)
    masked: dict[str, Any] = {"message": MASKED_MESSAGE}
    if error.locations:
        masked["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        masked["path"] = error.path
    masked["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    return masked


class MaskedFailures:
    """ASGI: ``app``, whose unexpected exceptions are logged and answered with a
    masked 500 in GraphQL's error format (when no answer has begun), not left to the
    server, which would send a bare 500 and close the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if scope["type"] != "http" or started:
                raise
            await masked_failure(scope)(scope, receive, send)


def masked_failure(scope: Scope) -> JSONResponse:
    """The answer to an HTTP request whose handling raised: logged here (the exception
    being handled), masked in the answer."""
    logger.exception("Unexpected error answering %s %s", scope["method"], scope["path"])
    masked = {"message": MASKED_MESSAGE, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    return JSONResponse({"errors": [masked]}, status_code=500)
