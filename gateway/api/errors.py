"""The one place where errors become GraphQL responses.

Gateway errors keep their message and ``extensions`` (``code`` and details);
the parser's token limit becomes ``OPERATION_TOO_COMPLEX``;
errors that never reached a resolver get the standard GraphQL codes; anything
else is logged with its traceback and masked. Requests refused before GraphQL
(``BadRequest``) get a body of the same shape from :func:`request_error_body`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from gateway.errors import BadRequest, GatewayError, OperationTooComplex

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


def request_error_body(error: BadRequest) -> dict[str, Any]:
    """The response body for a request refused before it reached GraphQL."""
    return {"errors": [{"message": error.message, "extensions": error.extensions}]}


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
