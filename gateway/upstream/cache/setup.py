"""The read cache the settings ask for: none, this process's, or this process's
with writes told to the others through Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.core.settings import GatewaySettings
from gateway.upstream.cache.reads import ReadCache

if TYPE_CHECKING:
    from gateway.upstream.cache.broadcast import Broadcast


def open_read_cache(settings: GatewaySettings) -> tuple[ReadCache | None, Broadcast | None]:
    if not settings.cache:
        return None, None
    cache = ReadCache(max_entries=settings.cache_max_entries)
    if settings.redis_url is None:
        return cache, None
    from gateway.upstream.cache.broadcast import Broadcast  # redis-py only when asked for

    return cache, Broadcast(cache, settings.redis_url.get_secret_value())
