"""One Redis pub/sub channel shared by the gateway's processes: what one process
publishes reaches every other one, and never comes back to itself.

Redis going away never fails a request: publishing is given up with one warning
(until Redis answers again), and the listener keeps reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.state.storage.redis_store import KEY_PREFIX, SOCKET_TIMEOUT

RECONNECT_DELAY = 1.0


class RedisChannel:
    """``channel`` (under the gateway's key prefix) on the Redis at ``url``: JSON objects
    in, each other process's objects out to ``received``. ``unreachable`` and
    ``reachable`` say what a lost or regained Redis means to the channel's owner."""

    def __init__(
        self,
        url: str,
        channel: str,
        received: Callable[[dict[str, Any]], None],
        *,
        logger: logging.Logger,
        unreachable: str,
        reachable: str,
        timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self.channel = KEY_PREFIX + channel
        self.received = received
        self.logger, self.unreachable, self.reachable = logger, unreachable, reachable
        # Our own messages are skipped: this process acted on them already.
        self.sender = uuid.uuid4().hex
        self._publisher: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        # No read timeout: the subscription idles until someone publishes.
        self._subscriber: Redis = Redis.from_url(url, socket_connect_timeout=timeout)
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self._warned = False

    def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def publish(self, payload: dict[str, Any]) -> None:
        self.start()
        message = orjson.dumps({**payload, "sender": self.sender})
        try:
            await self._publisher.publish(self.channel, message)
        except (RedisError, OSError, TimeoutError) as exc:
            self._warn(exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.subscribed.set()
                    if self._warned:
                        self._warned = False
                        self.logger.info(self.reachable)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._deliver(message["data"])
            except (RedisError, OSError, TimeoutError) as exc:
                self.subscribed.clear()
                self._warn(exc)
                await asyncio.sleep(RECONNECT_DELAY)

    def _deliver(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
        except ValueError:
            return  # not ours
        if isinstance(message, dict) and message.get("sender") != self.sender:
            self.received(message)

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            # The exception's class only: its text may carry the URL and password.
            self.logger.warning(
                "Redis is unreachable (%s): %s", type(exc).__name__, self.unreachable
            )

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
        for client in (self._publisher, self._subscriber):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()
