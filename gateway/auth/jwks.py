"""The signing keys of an identity provider, read from its JWKS URL and cached.

Keys are fetched on first use and again after ``ttl`` seconds; a token signed
with a key id the cache does not hold refetches at once (the provider rotated
its keys), but not more than once per ``refetch_interval``, so tokens with
made-up key ids cannot make the gateway hammer the provider. One fetch is in
flight at a time. When a refetch fails, the keys already held keep working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

logger = logging.getLogger("gateway.auth")

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


class JwksUnavailable(Exception):
    """The provider's keys could not be read and none are cached."""


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        ttl: float = 300.0,
        refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._ttl, self._refetch_interval, self._clock = ttl, refetch_interval, clock
        self._transport = transport
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, key_id: str | None) -> jwt.PyJWK | None:
        """The key with ``key_id`` (the only key when the token names none), or None."""
        if self._stale():
            await self._refresh(force=False)
        found = self._find(key_id)
        if found is None and self._may_refetch():
            await self._refresh(force=True)
            found = self._find(key_id)
        return found

    def _find(self, key_id: str | None) -> jwt.PyJWK | None:
        if key_id is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(key_id)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or (
            self._clock() - self._fetched_at >= self._refetch_interval
        )

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if not (self._may_refetch() if force else self._stale()):
                return
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                # Retried no sooner than the refetch interval.
                self._fetched_at = self._clock() - self._ttl + self._refetch_interval
                logger.warning("The JWKS at %s could not be read: %s", self.url, type(exc).__name__)
                if not self._keys:
                    raise JwksUnavailable from None
                return
            self._keys = keys
            self._fetched_at = self._clock()

    async def _fetch(self) -> dict[str | None, jwt.PyJWK]:
        self.fetches += 1
        async with httpx.AsyncClient(
            timeout=5.0, transport=self._transport, follow_redirects=False
        ) as client:
            response = await client.get(self.url)
        response.raise_for_status()
        document: Any = response.json()
        if not isinstance(document, dict):
            raise ValueError("a JWKS is a JSON object")
        # PyJWT skips keys it cannot use; shared-secret ("oct") keys are dropped here, so
        # a public document can never supply an HMAC secret.
        key_set = jwt.PyJWKSet.from_dict(document)
        return {
            key.key_id: key for key in key_set.keys if key.algorithm_name in ASYMMETRIC_ALGORITHMS
        }
