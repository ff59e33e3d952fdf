"""Writes told to every gateway process through Redis pub/sub, so each drops its
cached reads of the vendor written to.

Pub/sub rather than a shared cache in Redis: reads stay in-process (no network
hop on a hit) and only the rare write crosses the wire. Redis going away never
fails a request: publishing is given up with one warning, and the listener keeps
reconnecting; meanwhile other processes' entries age out within their TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.types import Vendor
from gateway.state.storage.redis_store import KEY_PREFIX, SOCKET_TIMEOUT
from gateway.upstream.cache.reads import ReadCache

CHANNEL = KEY_PREFIX + "cache-invalidations"
RECONNECT_DELAY = 1.0

logger = logging.getLogger("gateway.cache")


class Broadcast:
    def __init__(self, cache: ReadCache, url: str) -> None:
        self.cache = cache
        # Our own messages are skipped: this process dropped its entries already.
        self.sender = uuid.uuid4().hex
        self._publisher: Redis = Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
        # No read timeout: the subscription idles until someone writes.
        self._subscriber: Redis = Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT)
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self._warned = False
        cache.publisher = self.publish
        cache.start_listening = self.start

    def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def publish(self, vendor: Vendor) -> None:
        self.start()
        message = orjson.dumps({"sender": self.sender, "vendor": vendor.value})
        try:
            await self._publisher.publish(CHANNEL, message)
        except (RedisError, OSError, TimeoutError) as exc:
            self._warn(exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.subscribed.set()
                    if self._warned:
                        self._warned = False
                        logger.info("Redis answers again: writes invalidate every process's cache.")
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._received(message["data"])
            except (RedisError, OSError, TimeoutError) as exc:
                self.subscribed.clear()
                self._warn(exc)
                await asyncio.sleep(RECONNECT_DELAY)

    def _received(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
            vendor = Vendor.named(message["vendor"])
        except (ValueError, KeyError, TypeError):
            return  # not ours: nothing to drop
        if message.get("sender") != self.sender:
            self.cache.dropped_elsewhere(vendor)

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            # The exception's class only: its text may carry the URL and password.
            logger.warning(
                "Redis is unreachable (%s): writes invalidate cached reads in this process "
                "only; other processes' entries expire within their TTL.",
                type(exc).__name__,
            )

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
        for client in (self._publisher, self._subscriber):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()
