"""Fakturoid's OAuth 2 client-credentials grant: one cached bearer token per adapter.

Wire facts (VENDORS.md): ``POST oauth/token`` with ``Authorization: Basic
base64(client_id:client_secret)`` and the JSON body ``{"grant_type":
"client_credentials"}`` answers ``{"access_token", "token_type": "Bearer",
"expires_in": 7200}``. There is no refresh token: a new grant replaces an expiring one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from gateway.core.errors import UpstreamAuthError, UpstreamBadResponse, UpstreamRejected
from gateway.state.storage.tokens import Granted, SharedToken
from gateway.upstream.client import Upstream
from gateway.upstream.credentials import RefusedCredentials
from gateway.upstream.responses import json_body
from gateway.upstream.single_flight import SingleFlight

from .status import raise_for_fakturoid
from .vendor import FAKTUROID

TOKEN_PATH = "oauth/token"
# Renew this long before the announced expiry, so a token never dies in flight
# (the official clients also renew a little early).
RENEW_MARGIN = 60.0
DEFAULT_LIFETIME = 7200.0


class TokenCache:
    """Hands out a valid access token, fetching a new one only when needed.

    Grants are single-flight: requests that find the token stale while a grant is
    running wait for that grant and share its outcome, token or failure. With a
    ``shared`` token (``GATEWAY_REDIS_URL``) one process grants for all of them.
    ``clock`` is monotonic by default; tests point it at the sandbox's clock.
    """

    def __init__(
        self,
        upstream: Upstream,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedToken | None = None,
    ) -> None:
        self._upstream = upstream
        self._shared = shared
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self.clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._grants = SingleFlight[str]()
        self._refusals = RefusedCredentials(FAKTUROID, clock=lambda: self.clock())

    def _current(self) -> str | None:
        if self._token is not None and self.clock() < self._renew_at:
            return self._token
        return None

    async def get(self) -> str:
        stale = self._token
        return self._current() or await self._grants.run(lambda: self._fetch(stale))

    async def renew(self, refused: str) -> str:
        """A fresh token after ``refused`` got a 401, unless another request already has one."""
        token = self._current()
        if token is not None and token != refused:
            return token
        if self._shared is not None and self._token == refused:
            await self._shared.forget(refused)
        # A grant already in flight is joined: it is the renewal this request wants.
        return await self._grants.run(lambda: self._fetch(refused))

    async def _fetch(self, unlike: str | None) -> str:
        if self._shared is None:
            return await self._refusals.guard(self._grant_token)
        # ``unlike``: the token this process already judged stale or saw refused.
        granted = await self._shared.obtain(self._granted, unlike=unlike)
        self._token, self._renew_at = granted.token, self.clock() + granted.valid_for
        return granted.token

    async def _granted(self) -> Granted:
        token = await self._refusals.guard(self._grant_token)
        return Granted(token, self._renew_at - self.clock())

    async def _grant_token(self) -> str:
        self._token = None
        # The lifetime runs from when the server issued the token, so start counting before.
        requested_at = self.clock()
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
        token, lifetime = _parse_grant(json_body(FAKTUROID, response))
        self._token = token
        self._renew_at = requested_at + lifetime - min(RENEW_MARGIN, lifetime / 2)
        return token


def _parse_grant(body: Any) -> tuple[str, float]:
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
    return token, float(lifetime)
