"""The storage seam: byte values under string keys, each with a time to live."""

from __future__ import annotations

from typing import Protocol


class SharedStore(Protocol):
    """Every operation is atomic on its own; none raises for an unreachable backend
    (a shared backend falls back to this process's memory instead)."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl: float) -> None: ...

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        """Set ``key`` only if it is absent; True when this call set it (a lock taken)."""
        ...

    async def replace(self, key: str, expected: bytes, value: bytes, *, ttl: float) -> bool:
        """Set ``key`` to ``value`` only while it still holds ``expected``."""
        ...

    async def delete(self, key: str, *, expected: bytes | None = None) -> None:
        """Remove ``key``; with ``expected``, only while it still holds that (a lock's
        owner releasing it, not a later owner's)."""
        ...

    async def aclose(self) -> None: ...
