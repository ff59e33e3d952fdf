"""Fakturoid v3 error bodies.

The doc fixes two shapes: 422 carries `{"errors": {"field": ["msg"]}}`, everything else
`{"error": ..., "error_description": ...}`. Where the doc quotes no exact body, the codes and
wording below follow OAuth 2 (RFC 6749/6750) conventions and are marked [guess].
"""

from __future__ import annotations

from starlette.responses import Response

from gateway.core.sandbox import json_response

MISSING_USER_AGENT = 'Required header "User-Agent" is missing'


def error(
    status_code: int, code: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        {"error": code, "error_description": description}, status_code, headers=headers
    )


def missing_user_agent() -> Response:
    # Body quoted by the vendor doc.
    return error(400, "invalid_request", MISSING_USER_AGENT)


def invalid_token(description: str) -> Response:
    # [guess] RFC 6750 style, including the WWW-Authenticate challenge.
    challenge = (
        f'Bearer realm="Fakturoid", error="invalid_token", error_description="{description}"'
    )
    return error(401, "invalid_token", description, headers={"WWW-Authenticate": challenge})


def not_found(description: str = "Record not found") -> Response:
    # [guess] shape from the doc's generic rule; code and wording are not documented.
    return error(404, "not_found", description)


def account_blocked() -> Response:
    # 402 for a blocked account is documented; the body wording is a [guess].
    return error(402, "account_blocked", "Account is blocked, please pay your subscription")


def read_only() -> Response:
    # 503 for read-only mode is documented; the body wording is a [guess].
    return error(503, "read_only", "Fakturoid is in read-only mode, try again later")


def rate_limited(headers: dict[str, str]) -> Response:
    # 429 is documented; the body wording is a [guess].
    return error(429, "too_many_requests", "Rate limit exceeded", headers=headers)
