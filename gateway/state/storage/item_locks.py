"""One write at a time to each vendor item, in this process and across processes.

A set-state or toggle write reads the item's state and then writes: two of them
interleaved both read "open" and both toggle, and the item ends where neither
client asked. So every write to one item waits for the previous one: an asyncio
lock per (vendor, item) in this process, then, when processes share a store, a
lease in it (see gateway.state.storage.leases), renewed while the holder lives and
freed when it ends or, if it died, within a lease period.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.core.types import Vendor
from gateway.state.storage.leases import POLL_INTERVAL, Leases, new_owner


class ItemLocks:
    def __init__(self, leases: Leases | None) -> None:
        # None: this process is the only writer the gateway has (no shared store).
        self._leases = leases
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, vendor: Vendor, item: object) -> AsyncIterator[None]:
        """Run the body as the only gateway write to ``item`` of ``vendor``. Waiting
        is bounded by the operation's time limit, which cancels the wait."""
        name = f"write-lock:{vendor.value}:{item}"
        lock = self._locks.setdefault(name, asyncio.Lock())
        self._users[name] = self._users.get(name, 0) + 1
        try:
            async with lock:
                if self._leases is None:
                    yield
                    return
                owner = new_owner()
                while True:
                    if await self._leases.try_take(name, owner):
                        break
                    await asyncio.sleep(POLL_INTERVAL)
                try:
                    yield
                finally:
                    # Even when cancelled: the next writer should not wait for expiry.
                    await asyncio.shield(self._leases.give_up(name, owner))
        finally:
            self._users[name] -= 1
            if not self._users[name]:
                del self._users[name]
                del self._locks[name]
