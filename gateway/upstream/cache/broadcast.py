"""Writes told to every gateway process through Redis pub/sub, so each drops its
cached reads of the vendor written to.

Pub/sub rather than a shared cache in Redis: reads stay in-process (no network
hop on a hit) and only the rare write crosses the wire. Redis going away never
fails a request: publishing is given up with one warning, and the listener keeps
reconnecting; meanwhile other processes' entries age out within their TTL.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.core.types import Vendor
from gateway.state.storage.pubsub import RedisChannel
from gateway.upstream.cache.reads import ReadCache

logger = logging.getLogger("gateway.cache")


class Broadcast:
    def __init__(self, cache: ReadCache, url: str) -> None:
        self.cache = cache
        self.channel = RedisChannel(
            url,
            "cache-invalidations",
            self._received,
            logger=logger,
            unreachable="writes invalidate cached reads in this process only; other "
            "processes' entries expire within their TTL.",
            reachable="Redis answers again: writes invalidate every process's cache.",
        )
        cache.publisher = self.publish
        cache.start_listening = self.channel.start

    @property
    def subscribed(self) -> asyncio.Event:
        return self.channel.subscribed

    async def publish(self, vendor: Vendor) -> None:
        await self.channel.publish({"vendor": vendor.value})

    def _received(self, message: dict[str, Any]) -> None:
        try:
            vendor = Vendor.named(message["vendor"])
        except (ValueError, KeyError, TypeError):
            return  # not ours: nothing to drop
        self.cache.dropped_elsewhere(vendor)

    async def aclose(self) -> None:
        await self.channel.aclose()
