"""The one place where errors become GraphQL responses.

Gateway errors keep their message and ``extensions`` (``code`` and details);
errors that never reached a resolver get the standard GraphQL codes; anything
else is logged with its traceback and masked.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from gateway.errors import GatewayError

logger = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Unexpected error."


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
