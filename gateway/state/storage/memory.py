"""The in-process store: the default, and a Redis store's fallback while Redis is away."""

from __future__ import annotations

import time
from collections.abc import Callable

# Expired keys are swept on writes once this many are held, so an idle key never
# stays for ever and a busy store does not scan on every write.
SWEEP_AT = 10_000


class MemoryStore:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[bytes, float]] = {}

    async def get(self, key: str) -> bytes | None:
        held = self._values.get(key)
        if held is None:
            return None
        if held[1] <= self._clock():
            del self._values[key]
            return None
        return held[0]

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        if len(self._values) >= SWEEP_AT:
            self._sweep()
        self._values[key] = (value, self._clock() + ttl)

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl=ttl)
        return True

    async def replace(self, key: str, expected: bytes, value: bytes, *, ttl: float) -> bool:
        if await self.get(key) != expected:
            return False
        await self.set(key, value, ttl=ttl)
        return True

    async def delete(self, key: str, *, expected: bytes | None = None) -> None:
        if expected is None or await self.get(key) == expected:
            self._values.pop(key, None)

    async def aclose(self) -> None:
        self._values.clear()

    def _sweep(self) -> None:
        now = self._clock()
        for key in [key for key, (_, expires) in self._values.items() if expires <= now]:
            del self._values[key]
