"""The read cache the settings ask for: none, this process's memory, or Redis shared by
every process (``GATEWAY_REDIS_URL``)."""

from __future__ import annotations

from gateway.core.settings import GatewaySettings
from gateway.upstream.cache.entries import MemoryEntries
from gateway.upstream.cache.reads import EntryStore, ReadCache


def open_read_cache(settings: GatewaySettings) -> ReadCache | None:
    if not settings.cache:
        return None
    store: EntryStore
    if settings.redis_url is None:
        store = MemoryEntries(settings.cache_max_entries)
    else:
        from gateway.upstream.cache.redis_entries import RedisEntries  # redis-py only when asked

        store = RedisEntries(settings.redis_url.get_secret_value(), timeout=settings.redis_timeout)
    return ReadCache(store)
