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
