"""How Fakturoid's error statuses map onto the gateway's error hierarchy.

Wire facts (VENDORS.md): 402 means the account is blocked (unpaid), 503 that
Fakturoid is in read-only mode, 429 that the rate limit is spent; the limit is
announced as ``X-RateLimit-Policy: default;q=400;w=60`` and ``X-RateLimit:
default;r=398;t=55`` (``t`` = seconds until the window resets).
"""

from __future__ import annotations

import httpx

from gateway.core.errors import (
    NotFound,
    RateLimited,
    UpstreamAuthError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.upstream.responses import raise_for_status, retry_after_seconds

from .vendor import FAKTUROID


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After when sent, else the reset time of the spent X-RateLimit policy."""
    seconds = retry_after_seconds(response)
    if seconds is not None:
        return seconds
    resets: list[tuple[bool, float]] = []
    # Several policies may be listed, comma-separated; each is `name;r=..;t=..`.
    for policy in response.headers.get("X-RateLimit", "").split(","):
        fields: dict[str, str] = {}
        for part in policy.split(";")[1:]:
            key, _, value = part.partition("=")
            fields[key.strip()] = value.strip()
        try:
            resets.append((int(fields.get("r", "1")) <= 0, max(0.0, float(fields["t"]))))
        except (KeyError, ValueError):
            continue
    if not resets:
        return None
    # The spent policy is the one to wait for; without one marked spent, the longest wait.
    spent = [reset for exhausted, reset in resets if exhausted]
    return max(spent or [reset for _, reset in resets])


def raise_for_fakturoid(response: httpx.Response, *, what: str = "todo") -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        raise UpstreamAuthError(FAKTUROID, "the access token was refused")
    if status == 402:
        raise UpstreamRejected(
            FAKTUROID, "the account is blocked until its subscription is paid", status=status
        )
    if status == 404:
        raise NotFound(f"Fakturoid: no such {what}", vendor=FAKTUROID)
    if status == 429:
        raise RateLimited(FAKTUROID, "rate limit reached", retry_after=retry_after(response))
    if status == 503:
        raise UpstreamUnavailable(
            FAKTUROID, "the service is unavailable or in read-only mode", status=status
        )
    raise_for_status(FAKTUROID, response, what=what)
