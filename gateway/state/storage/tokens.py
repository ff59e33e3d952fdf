"""One OAuth grant across every process that shares a store.

A vendor that locks out clients after a few token grants (Zoho: more than ten in
ten minutes) must not see one grant per process. A process that needs a token
first looks for one another process granted; if there is none it takes the
grant lock, and only the holder asks the vendor, then publishes the token. The
others wait for it and reuse it. A holder that fails publishes nothing and
releases the lock, so the next process to look tries its own grant.

The in-process SingleFlight in front of this keeps it to one caller per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.state.storage.base import SharedStore

# Longer than a grant can take (the upstream timeout, 10 s by default): a lock
# whose holder died expires on its own and the next process grants.
LOCK_TTL = 30.0
POLL_INTERVAL = 0.02


@dataclass(frozen=True, slots=True)
class Granted:
    token: str
    # Seconds until the token should be renewed (not until it expires).
    valid_for: float


def credentials_key(vendor: str, *identity: str) -> str:
    """A key per vendor and set of credentials, without the credentials in it."""
    digest = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:24]
    return f"token:{vendor}:{digest}"


class SharedToken:
    def __init__(
        self,
        store: SharedStore,
        key: str,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._key = key
        self._lock_key = key + ":grant-lock"
        self._wall_clock = wall_clock

    async def published(self, unlike: str | None = None) -> Granted | None:
        """The token another process granted, if it is still good and not ``unlike``
        (the one this process holds, already judged stale or refused)."""
        raw = await self._store.get(self._key)
        token, renew_at = _parse(raw)
        if token is None:
            return None
        valid_for = renew_at - self._wall_clock()
        if token == unlike or valid_for <= 0:
            return None
        return Granted(token, valid_for)

    async def obtain(
        self, grant: Callable[[], Awaitable[Granted]], *, unlike: str | None = None
    ) -> Granted:
        """A published token other than ``unlike``, else one grant under the lock."""
        owner = secrets.token_hex(8).encode()
        deadline = asyncio.get_running_loop().time() + LOCK_TTL
        while True:
            found = await self.published(unlike)
            if found is not None:
                return found
            if await self._store.add(self._lock_key, owner, ttl=LOCK_TTL):
                break
            if asyncio.get_running_loop().time() > deadline:
                break  # the holder is stuck past its lock's life: grant anyway
            await asyncio.sleep(POLL_INTERVAL)
        try:
            granted = await grant()
            await self._publish(granted)
            return granted
        finally:
            await self._store.delete(self._lock_key, expected=owner)

    async def _publish(self, granted: Granted) -> None:
        value = json.dumps(
            {"token": granted.token, "renew_at": self._wall_clock() + granted.valid_for}
        )
        await self._store.set(self._key, value.encode(), ttl=granted.valid_for)

    async def forget(self, token: str) -> None:
        """The vendor refused ``token``: no process should be handed it again."""
        raw = await self._store.get(self._key)
        if raw is not None and _parse(raw)[0] == token:
            await self._store.delete(self._key, expected=raw)


def _parse(raw: bytes | None) -> tuple[str | None, float]:
    if raw is None:
        return None, 0.0
    try:
        data = json.loads(raw)
        return str(data["token"]), float(data["renew_at"])
    except (ValueError, KeyError, TypeError):
        return None, 0.0
