"""OAuth access tokens, one state machine for every vendor that grants them.

``OAuthToken`` holds a vendor's bearer token and renews it a little before it
expires. What differs between vendors is only the grant itself (the request sent
and how its answer is read); each vendor's ``auth.py`` passes that in as a
function returning an ``Issued`` token. Everything else is here, once:

- one grant in flight per process (``SingleFlight``): requests that need a token
  while a grant runs wait for that grant and share its outcome, token or failure;
- with a shared store, one grant across processes (gateway.state.storage.tokens);
- a refused grant is remembered for a while (``RefusedCredentials``), so the
  vendor is not asked again at once with credentials it just refused.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.core.errors import UpstreamAuthError
from gateway.core.types import Vendor
from gateway.observability.telemetry import observed_token_grant, token_grant_held
from gateway.state.storage.tokens import Granted, SharedToken
from gateway.upstream.single_flight import SingleFlight

T = TypeVar("T")

# Renew this long before the announced expiry, so a token never dies in flight
# between the check and the vendor reading it.
RENEW_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class Issued:
    """A token as the vendor's grant answered it."""

    token: str
    # Seconds the vendor says the token lives, counted from when it was requested.
    lifetime: float


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

    async def guard(self, grant: Callable[[], Awaitable[T]]) -> T:
        """Run a token ``grant`` unless credentials were just refused; remember the outcome."""
        try:
            self._check()
        except UpstreamAuthError:
            token_grant_held(self._vendor)
            raise
        # Every vendor's grant passes here: the one place grants are counted and traced.
        with observed_token_grant(self._vendor):
            try:
                issued = await grant()
            except UpstreamAuthError:
                self._refused_at = self._clock()
                raise
        self._refused_at = None
        return issued

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


class OAuthToken:
    """Hands out a valid access token, asking the vendor (``grant``) only when needed.

    A token is renewed ``RENEW_MARGIN`` seconds before it expires, or sooner for
    short-lived tokens: at most ``margin_share`` of their lifetime. With a ``shared``
    token (a shared store) one process grants and the others reuse its token.
    ``clock`` is monotonic by default; tests point it at a sandbox's clock.
    """

    def __init__(
        self,
        vendor: Vendor,
        grant: Callable[[], Awaitable[Issued]],
        *,
        margin_share: float,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedToken | None = None,
    ) -> None:
        self._grant = grant
        self._margin_share = margin_share
        self._shared = shared
        self.clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._grants = SingleFlight[str]()
        # Through a lambda: a test that swaps ``clock`` moves the refusal hold too.
        self._refusals = RefusedCredentials(vendor, clock=lambda: self.clock())

    def _current(self) -> str | None:
        if self._token is not None and self.clock() < self._renew_at:
            return self._token
        return None

    async def token(self) -> str:
        return self._current() or await self._obtain(unlike=self._token)

    async def renew(self, refused: str) -> str:
        """A fresh token after ``refused`` got a 401, unless another request already has one."""
        current = self._current()
        if current is not None and current != refused:
            return current
        if self._token == refused:
            # No request of this process, nor of another, is handed it again.
            self._token = None
            if self._shared is not None:
                await self._shared.forget(refused)
        return await self._obtain(unlike=refused)

    async def _obtain(self, *, unlike: str | None) -> str:
        # A grant already in flight is joined: it is the one this request wants.
        return await self._grants.run(lambda: self._fetch(unlike))

    async def _fetch(self, unlike: str | None) -> str:
        if self._shared is None:
            return (await self._granted()).token
        # ``unlike``: the token this process already judged stale or saw refused.
        granted = await self._shared.obtain(self._granted, unlike=unlike)
        self._token, self._renew_at = granted.token, self.clock() + granted.valid_for
        return granted.token

    async def _granted(self) -> Granted:
        # The lifetime runs from when the vendor issued the token: start counting before.
        requested_at = self.clock()
        issued = await self._refusals.guard(self._grant)
        margin = min(RENEW_MARGIN, issued.lifetime * self._margin_share)
        self._token, self._renew_at = issued.token, requested_at + issued.lifetime - margin
        return Granted(issued.token, self._renew_at - self.clock())
