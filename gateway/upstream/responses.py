"""Reading vendor responses alike for every vendor: unsuccessful statuses onto the
error hierarchy (with gateway-written text), Retry-After, and JSON bodies."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from gateway.core.errors import (
    NotFound,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.core.types import Vendor

# Headers that describe the bytes as they came over the wire (compressed, framed): an
# answer kept or handed on holds its body decoded, so they no longer apply to it.
WIRE_HEADERS = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


def decoded_headers(response: httpx.Response) -> tuple[tuple[bytes, bytes], ...]:
    """``response``'s headers for a copy that holds its decoded body: without them, httpx
    would decode that body a second time (a gzip vendor's answer would not read)."""
    return tuple(
        (name, value) for name, value in response.headers.raw if name.lower() not in WIRE_HEADERS
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def raise_for_status(vendor: Vendor, response: httpx.Response, *, what: str = "item") -> None:
    """Map an unsuccessful status to the error hierarchy, with gateway-written text."""
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise UpstreamAuthError(vendor, "the credentials were refused", status=status)
    if status == 404:
        raise NotFound(f"{vendor.label}: no such {what}", vendor=vendor)
    if status == 429:
        raise RateLimited(vendor, "rate limit reached", retry_after=retry_after_seconds(response))
    if status >= 500:
        raise UpstreamUnavailable(vendor, "the service failed", status=status)
    raise UpstreamRejected(vendor, "the request was refused", status=status)


def json_body(vendor: Vendor, response: httpx.Response) -> Any:
    try:
        # orjson: several times faster than the standard library on every list page.
        return orjson.loads(response.content)
    except ValueError as exc:
        raise UpstreamBadResponse(vendor, "the response was not valid JSON") from exc
