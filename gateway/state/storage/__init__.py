"""Where state that several gateway processes must agree on is kept.

``SharedStore`` is a small key-value seam with expiry and an atomic
set-if-absent (enough for locks); ``MemoryStore`` keeps it in this process (the
default for `demo` and a single `serve`), ``RedisStore`` in Redis
(``GATEWAY_REDIS_URL``) so every process sees the same tokens and replays.
"""

from __future__ import annotations

from gateway.state.storage.base import SharedStore
from gateway.state.storage.memory import MemoryStore

__all__ = ["MemoryStore", "SharedStore", "open_store"]


def open_store(redis_url: str | None, *, timeout: float) -> SharedStore:
    """The store the settings ask for: Redis when a URL is given (each command within
    ``timeout`` seconds), else this process."""
    if not redis_url:
        return MemoryStore()
    from gateway.state.storage.redis_store import RedisStore  # redis-py only when asked for

    return RedisStore.from_url(redis_url, timeout=timeout)
