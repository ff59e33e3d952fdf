"""Many keys of the shared store at once: one round trip to Redis, not one a key.

For state written a record at a time by the dozen (every todo of a list page): a
Redis store runs a short script over all the keys; any other store (this process's
memory) takes them one by one, which costs nothing there. While Redis is away, the
Redis store's own in-process fallback holds them, as for single keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.state.storage.base import SharedStore
from gateway.state.storage.redis_store import RedisStore, ms

_SET_MANY = """
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS
"""
_GET_MANY = "return redis.call('MGET', unpack(KEYS))"
_DELETE_MANY = "return redis.call('DEL', unpack(KEYS))"


async def set_many(store: SharedStore, values: Mapping[str, bytes], *, ttl: float) -> None:
    if not values:
        return
    if isinstance(store, RedisStore):
        local = store.fallback

        async def each() -> int:
            await _set_each(local, values, ttl)
            return len(values)

        await store.run_script(_SET_MANY, list(values), [ms(ttl), *values.values()], each)
        return
    await _set_each(store, values, ttl)


async def get_many(store: SharedStore, keys: Sequence[str]) -> list[bytes | None]:
    if not keys:
        return []
    if isinstance(store, RedisStore):
        local = store.fallback

        async def each() -> list[Any]:
            return [await local.get(key) for key in keys]

        found: list[Any] = await store.run_script(_GET_MANY, list(keys), [], each)
        return [bytes(value) if value is not None else None for value in found]
    return [await store.get(key) for key in keys]


async def delete_many(store: SharedStore, keys: Sequence[str]) -> None:
    if not keys:
        return
    if isinstance(store, RedisStore):
        local = store.fallback

        async def each() -> int:
            for key in keys:
                await local.delete(key)
            return len(keys)

        await store.run_script(_DELETE_MANY, list(keys), [], each)
        return
    for key in keys:
        await store.delete(key)


async def _set_each(store: SharedStore, values: Mapping[str, bytes], ttl: float) -> None:
    for key, value in values.items():
        await store.set(key, value, ttl=ttl)
