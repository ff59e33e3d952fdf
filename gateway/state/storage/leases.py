"""Short leases in the shared store, renewed while their holder lives.

A write that other processes must wait for (a running idempotent write, a write
to one item) holds a lease: a key with a short time to live that a heartbeat
task renews every third of it. A holder that dies (SIGKILL, a lost host) stops
renewing, so the others see its lease gone within about one lease period --
instead of waiting for a long, fixed expiry such as the operation's time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from gateway.state.storage.base import SharedStore

logger = logging.getLogger("gateway.storage")

POLL_INTERVAL = 0.02


def new_owner() -> str:
    return secrets.token_hex(8)


class Leases:
    def __init__(self, store: SharedStore, *, period: float) -> None:
        self.store, self.period = store, period
        # Strong references to the heartbeats: the loop keeps only weak ones.
        self._beats: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def take(self, name: str, owner: str) -> None:
        """Hold ``name`` for ``owner`` (set outright: the name is the owner's own)."""
        await self.store.set(name, owner.encode(), ttl=self.period)
        self._keep(name, owner)

    async def try_take(self, name: str, owner: str) -> bool:
        """Hold ``name`` for ``owner`` if nobody holds it."""
        if not await self.store.add(name, owner.encode(), ttl=self.period):
            return False
        self._keep(name, owner)
        return True

    async def held(self, name: str) -> bool:
        return await self.store.get(name) is not None

    async def give_up(self, name: str, owner: str) -> None:
        beat = self._beats.pop((name, owner), None)
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        await self.store.delete(name, expected=owner.encode())

    def _keep(self, name: str, owner: str) -> None:
        task = asyncio.get_running_loop().create_task(self._beat(name, owner))
        self._beats[(name, owner)] = task

    async def _beat(self, name: str, owner: str) -> None:
        value = owner.encode()
        while True:
            await asyncio.sleep(self.period / 3)
            if not await self.store.replace(name, value, value, ttl=self.period):
                # Stalled past a whole period: another may have taken over meanwhile.
                logger.warning("A write lease lapsed before its holder finished.")
                return
