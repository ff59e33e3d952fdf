"""Zoho's ``{"code": 0, "message": "success", ...}`` envelope, checked on every
API response, and how non-zero codes map onto the gateway's errors.

Codes (VENDORS.md): 0 success; 1002 "does not exist"; 1000 internal error;
57 not authorized (an expired or unknown token, with HTTP 401); 14 no or
malformed auth header; 45 call limit reached (HTTP 429).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

import httpx
import orjson

from gateway.core.errors import (
    NotFound,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamMisconfigured,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.upstream.cache.held import HeldItem
from gateway.upstream.cache.items import item_named
from gateway.upstream.responses import raise_for_status, retry_after_seconds

from .vendor import PROJECT_TASK_TYPE, ZOHO

CODE_SUCCESS = 0
CODE_NO_AUTHTOKEN = 14
CODE_NOT_AUTHORIZED = 57
CODE_RATE_LIMITED = 45
CODE_INTERNAL = 1000
CODE_NOT_FOUND = 1002
# The organization id is missing or belongs to no organization of the token's
# user. [guess: the number; seen from Zoho Books, whose API Invoice shares]
CODE_ORGANIZATION = 6041

# A reset value this large is a point in time rather than a number of seconds. [guess]
_EPOCH_THRESHOLD = 1_000_000_000


def envelope_code(response: httpx.Response) -> int | None:
    """The envelope's ``code``, or None when the body is not an envelope."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def rate_limit_reset(response: httpx.Response) -> float | None:
    """Seconds until calls are allowed again: X-Rate-Limit-Reset, else Retry-After."""
    value = response.headers.get("X-Rate-Limit-Reset")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if seconds >= _EPOCH_THRESHOLD:
            seconds -= time.time()
        if seconds >= 0:
            return seconds
    return retry_after_seconds(response)


def checked(response: httpx.Response, *, what: str) -> dict[str, Any]:
    """The body of a successful response, or the matching gateway error.

    Messages are written here, never copied from Zoho's ``message``, which can
    echo request values back.
    """
    status = response.status_code
    if status >= 500:
        raise UpstreamUnavailable(ZOHO, "the service failed", status=status)
    if status == 429:
        raise RateLimited(ZOHO, "rate limit reached", retry_after=rate_limit_reset(response))
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(code, int) or isinstance(code, bool):
        if status >= 400:
            raise_for_status(ZOHO, response, what=what)
        raise UpstreamBadResponse(ZOHO, "the response was not in Zoho's envelope")
    if code == CODE_SUCCESS and status < 400:
        return body
    _raise_for_code(code, status, response, what=what)


def _raise_for_code(code: int, status: int, response: httpx.Response, *, what: str) -> NoReturn:
    if code == CODE_NOT_FOUND:
        raise NotFound(f"{ZOHO.label}: no such {what}", vendor=ZOHO)
    if code == CODE_ORGANIZATION:
        raise UpstreamMisconfigured(
            ZOHO,
            f"the organization was refused; check ZOHO_ORGANIZATION_ID (code {code})",
            status=status,
        )
    if code in (CODE_NOT_AUTHORIZED, CODE_NO_AUTHTOKEN) or status == 401:
        raise UpstreamAuthError(ZOHO, f"the access token was refused (code {code})", status=status)
    if status == 403:
        # Zoho's answer to a user outside the organization in the header. [guess]
        raise UpstreamAuthError(
            ZOHO, f"access to the organization was refused (code {code})", status=status
        )
    if code == CODE_RATE_LIMITED:
        raise RateLimited(ZOHO, "call limit reached", retry_after=rate_limit_reset(response))
    if code == CODE_INTERNAL:
        raise UpstreamUnavailable(ZOHO, "the service failed", status=status)
    # A 200 with a non-zero code is still a refusal; Zoho does that for some
    # validation failures.
    raise UpstreamRejected(ZOHO, f"the request was refused (code {code})", status=status)


def held_tasks(project_id: str) -> Callable[[bytes], list[HeldItem]]:
    """The tasks a page of ``GET /projects/{id}/tasks`` shows, each as ``GET
    /projects/{id}/tasks/{task_id}`` answers it: the list's task objects are the ones
    the single-task read returns under ``task``, in the same envelope. [doc]"""

    def held(body: bytes) -> list[HeldItem]:
        data = orjson.loads(body)
        rows = data.get("tasks") if isinstance(data, dict) else None
        if not isinstance(rows, list) or data.get("code") != CODE_SUCCESS:
            return []
        return [
            HeldItem(
                item_named(PROJECT_TASK_TYPE, f"{project_id}/{row['task_id']}"),
                f"projects/{project_id}/tasks/{row['task_id']}",
                orjson.dumps({"code": CODE_SUCCESS, "message": "success", "task": row}),
            )
            for row in rows
            if isinstance(row, dict) and isinstance(row.get("task_id"), str) and row["task_id"]
        ]

    return held
