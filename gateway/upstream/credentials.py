"""Refused credentials, remembered: one guard every vendor's token grant passes through."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from gateway.core.errors import UpstreamAuthError
from gateway.core.types import Vendor
from gateway.observability.telemetry import observed_token_grant, token_grant_held


class RefusedCredentials:
    """Remembers that a vendor refused the gateway's credentials for a token.

    For ``hold`` seconds afterwards token requests fail at once instead of each
    asking the vendor again: credentials rarely fix themselves in seconds, and
    vendors lock out clients that keep presenting refused ones.
    """

    def __init__(
        self, vendor: Vendor, *, clock: Callable[[], float] = time.monotonic, hold: float = 30.0
    ) -> None:
        self._vendor, self._clock, self._hold = vendor, clock, hold
        self._refused_at: float | None = None

    async def guard(self, grant: Callable[[], Awaitable[str]]) -> str:
        """Run a token ``grant`` unless credentials were just refused; remember the outcome."""
        try:
            self._check()
        except UpstreamAuthError:
            token_grant_held(self._vendor)
            raise
        # Every vendor's grant passes here: the one place grants are counted and traced.
        with observed_token_grant(self._vendor):
            try:
                token = await grant()
            except UpstreamAuthError:
                self._refused_at = self._clock()
                raise
        self._refused_at = None
        return token

    def _check(self) -> None:
        if self._refused_at is None:
            return
        remaining = self._hold - (self._clock() - self._refused_at)
        if remaining > 0:
            raise UpstreamAuthError(
                self._vendor,
                "the credentials were refused moments ago; not asking again yet",
                retryAfter=round(remaining, 1),
            )
        self._refused_at = None
