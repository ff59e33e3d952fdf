"""Fakturoid's OAuth 2 client-credentials grant; the token it gives is kept and
renewed by ``gateway.upstream.credentials.OAuthToken``.

Wire facts (VENDORS.md): ``POST oauth/token`` with ``Authorization: Basic
base64(client_id:client_secret)`` and the JSON body ``{"grant_type":
"client_credentials"}`` answers ``{"access_token", "token_type": "Bearer",
"expires_in": 7200}``. There is no refresh token: a new grant replaces an expiring one.
"""

from __future__ import annotations

from typing import Any

import httpx

from gateway.core.errors import UpstreamAuthError, UpstreamBadResponse, UpstreamRejected
from gateway.state.storage.tokens import SharedToken
from gateway.upstream.client import Upstream
from gateway.upstream.credentials import Issued, OAuthToken
from gateway.upstream.responses import json_body

from .status import raise_for_fakturoid
from .vendor import FAKTUROID

TOKEN_PATH = "oauth/token"
DEFAULT_LIFETIME = 7200.0
# Renewal starts at most this share of a token's life early (the official clients
# also renew a little early); with 7200 s tokens the one-minute margin applies.
MARGIN_SHARE = 0.5


def token_cache(
    upstream: Upstream, client_id: str, client_secret: str, *, shared: SharedToken | None = None
) -> OAuthToken:
    """The adapter's bearer token, granted with its client credentials."""
    grant = ClientCredentialsGrant(upstream, client_id, client_secret)
    return OAuthToken(FAKTUROID, grant, margin_share=MARGIN_SHARE, shared=shared)


class ClientCredentialsGrant:
    """One client-credentials grant per call: the token and how long it lives."""

    def __init__(self, upstream: Upstream, client_id: str, client_secret: str) -> None:
        self._upstream = upstream
        self._auth = httpx.BasicAuth(client_id, client_secret)

    async def __call__(self) -> Issued:
        response = await self._upstream.send(
            "POST",
            TOKEN_PATH,
            json={"grant_type": "client_credentials"},
            auth=self._auth,
            grant=True,
        )
        # The response body is never repeated: it may echo what was sent.
        if response.status_code in (401, 403):
            raise UpstreamAuthError(FAKTUROID, "the client credentials were refused")
        if response.status_code == 400:
            raise UpstreamAuthError(FAKTUROID, "the token request was refused")
        if response.status_code == 404:
            raise UpstreamRejected(
                FAKTUROID, "the token endpoint was not found (check the API URL)"
            )
        raise_for_fakturoid(response)
        return _parse_grant(json_body(FAKTUROID, response))


def _parse_grant(body: Any) -> Issued:
    if not isinstance(body, dict):
        raise UpstreamBadResponse(FAKTUROID, "the token response was not an object")
    token = body.get("access_token")
    token_type = body.get("token_type", "Bearer")
    lifetime = body.get("expires_in", DEFAULT_LIFETIME)
    if not isinstance(token, str) or not token:
        raise UpstreamBadResponse(FAKTUROID, "the token response had no access token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise UpstreamBadResponse(FAKTUROID, "the token response was not a bearer token")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        raise UpstreamBadResponse(FAKTUROID, "the token response had no usable lifetime")
    return Issued(token, float(lifetime))
