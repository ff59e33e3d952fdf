"""Zoho OAuth access tokens: a fixed one, or one refreshed from a refresh token.

The refresh grant is ``POST <accounts>/oauth/v2/token`` with ``refresh_token``,
``client_id``, ``client_secret`` and ``grant_type=refresh_token``; the answer is
``{"access_token", "api_domain", "token_type", "expires_in": 3600}``. The
accounts server reports refusals with HTTP 200 and an ``error`` field, so the
body is what decides, not the status.

The refreshed token is kept and renewed by ``gateway.upstream.credentials.OAuthToken``:
one token for the whole process (for every process, with a shared store), renewed a
little before it expires, at most one refresh in flight.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from gateway.core.errors import (
    RateLimited,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamUnavailable,
)
from gateway.state.storage.tokens import SharedToken
from gateway.upstream.client import Upstream
from gateway.upstream.credentials import Issued, OAuthToken
from gateway.upstream.responses import retry_after_seconds

from .vendor import ZOHO

TOKEN_PATH = "/oauth/v2/token"
DEFAULT_LIFETIME = 3600.0
# Short-lived tokens are renewed at most this share of their life early.
MARGIN_SHARE = 0.1

logger = logging.getLogger("gateway.vendors.zoho")

# Gateway-written explanations for the accounts server's error names. [seen]
_REFUSALS = {
    "invalid_client": "the client ID or client secret was refused",
    "invalid_code": "the refresh token was refused",
    "invalid_grant": "the refresh token was refused",
    "unsupported_grant_type": "the refresh grant was not accepted",
    "Access Denied": "too many token requests",
}


class TokenSource(Protocol):
    async def token(self) -> str: ...

    async def renew(self, rejected: str) -> str | None:
        """A token to retry with after ``rejected`` was refused, or None if none."""
        ...


class StaticToken:
    """``ZOHO_ACCESS_TOKEN``: used as given; when it expires the operator replaces it."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    async def renew(self, rejected: str) -> str | None:
        return None


def refreshing_token(
    grant: RefreshGrant,
    *,
    clock: Callable[[], float] = time.monotonic,
    shared: SharedToken | None = None,
) -> OAuthToken:
    """An access token refreshed with ``grant`` whenever it is due."""
    return OAuthToken(ZOHO, grant, margin_share=MARGIN_SHARE, clock=clock, shared=shared)


class RefreshGrant:
    """One refresh-token grant per call: the token and how long it lives."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
    ) -> None:
        self._upstream = upstream
        self._url = accounts_url.rstrip("/") + TOKEN_PATH
        self._grant = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }

    async def __call__(self) -> Issued:
        # A form body rather than Zoho's query-string examples: secrets in a URL
        # end up in proxy and server logs.
        response = await self._upstream.send("POST", self._url, data=self._grant, grant=True)
        body = _token_body(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamBadResponse(ZOHO, "the token response had no access token")
        lifetime = _lifetime(body)
        logger.info("zoho: access token refreshed, valid for %.0f s", lifetime)
        return Issued(token, lifetime)


def _token_body(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status >= 500:
        raise UpstreamUnavailable(ZOHO, "the accounts server failed", status=status)
    if status == 429:
        raise RateLimited(
            ZOHO, "too many token requests", retry_after=retry_after_seconds(response)
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if status >= 400:
            raise UpstreamAuthError(ZOHO, "the token refresh was refused", status=status)
        raise UpstreamBadResponse(ZOHO, "the token response was not JSON")
    error = body.get("error")
    if error is not None or status >= 400:
        reason = "the token refresh was refused"
        if isinstance(error, str):
            reason = _REFUSALS.get(error, reason)
        raise UpstreamAuthError(ZOHO, f"OAuth refresh failed: {reason}")
    return body


def _lifetime(body: dict[str, Any]) -> float:
    # Older accounts servers sent `expires_in` in milliseconds next to
    # `expires_in_sec`; the seconds field wins when present. [seen]
    for name in ("expires_in_sec", "expires_in"):
        value = body.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return DEFAULT_LIFETIME
