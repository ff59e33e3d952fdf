"""Changes to vendor data, told to every subscriber of every process.

Whatever learns of a change (a mutation the vendor confirmed, a vendor's webhook,
a poller's delta read) publishes one :class:`ChangeEvent` on the app's
:class:`ChangeBus`; every subscription of this process gets it from there, and
with ``GATEWAY_REDIS_URL`` set, :class:`ChangeRelay` carries it to every other
process through Redis pub/sub (gateway.state.storage.pubsub). Watchers (the read cache)
are told of every event, this process's and relayed ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.errors import TooManySubscriptions
from gateway.core.settings import GatewaySettings
from gateway.core.types import Vendor
from gateway.state.storage.pubsub import RedisChannel
from gateway.state.storage.redis_store import SOCKET_TIMEOUT

logger = logging.getLogger("gateway.changes")

# A subscriber that falls this far behind loses changes rather than hold memory.
QUEUE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    vendor: Vendor
    type_name: str
    id: str  # the global id
    kind: str  # created, updated or deleted
    at: datetime

    def encode(self) -> dict[str, str]:
        return {
            "vendor": self.vendor.value,
            "type": self.type_name,
            "id": self.id,
            "kind": self.kind,
            "at": self.at.isoformat(),
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> ChangeEvent:
        return cls(
            Vendor.named(data["vendor"]),
            str(data["type"]),
            str(data["id"]),
            str(data["kind"]),
            datetime.fromisoformat(data["at"]),
        )


class ChangeBus:
    """The app's subscribers, each a bounded queue; limited per client and in all."""

    def __init__(self, *, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._queues: dict[asyncio.Queue[ChangeEvent], str] = {}
        # Set by ChangeRelay: send to the other processes, and hear theirs.
        self.relay: Callable[[Sequence[ChangeEvent]], Awaitable[None]] | None = None
        self.listen: Callable[[], None] | None = None
        # Told of every event, this process's and relayed ones (the read cache drops
        # the vendor's entries): called at once, never awaited.
        self._watchers: list[Callable[[ChangeEvent, bool], None]] = []

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def watch(self, callback: Callable[[ChangeEvent, bool], None]) -> None:
        """Call ``callback`` with every event published here or relayed from elsewhere,
        and whether it was relayed."""
        self._watchers.append(callback)

    async def publish(self, event: ChangeEvent) -> None:
        await self.publish_all((event,))

    async def publish_all(self, events: Sequence[ChangeEvent]) -> None:
        """``events``, learnt of together (one webhook delivery, one poll), delivered here
        all at once before any is relayed: watchers hear them in one turn of the loop, and
        the read cache applies them as one change."""
        for event in events:
            self.deliver(event)
        if self.relay is not None and events:
            await self.relay(events)

    def deliver(self, event: ChangeEvent, *, relayed: bool = False) -> None:
        for watcher in self._watchers:
            watcher(event, relayed)
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, client: str) -> AsyncIterator[asyncio.Queue[ChangeEvent]]:
        if sum(owner == client for owner in self._queues.values()) >= self.per_client:
            raise TooManySubscriptions(
                f"At most {self.per_client} active subscriptions per client; end one first."
            )
        if len(self._queues) >= self.total:
            raise TooManySubscriptions("This gateway has no room for more subscriptions.")
        if self.listen is not None:
            self.listen()
        queue: asyncio.Queue[ChangeEvent] = asyncio.Queue(QUEUE_SIZE)
        self._queues[queue] = client
        try:
            yield queue
        finally:
            del self._queues[queue]


CHANNEL_SUFFIX = "changes"


class ChangeRelay:
    """The bus's events to and from the other processes, through Redis pub/sub."""

    def __init__(self, bus: ChangeBus, url: str, *, timeout: float = SOCKET_TIMEOUT) -> None:
        self.bus = bus
        self.channel = RedisChannel(
            url,
            CHANNEL_SUFFIX,
            self._received,
            logger=logger,
            unreachable="changes reach this process's subscribers only, and changes made "
            "through other processes are missed.",
            reachable="Redis answers again: changes reach every process's subscribers.",
            timeout=timeout,
        )
        bus.relay = self.publish
        bus.listen = self.channel.start

    @property
    def subscribed(self) -> asyncio.Event:
        return self.channel.subscribed

    async def publish(self, events: Sequence[ChangeEvent]) -> None:
        # One message for what was learnt together: the other processes deliver it in
        # one turn of their loops too.
        await self.channel.publish({"events": [event.encode() for event in events]})

    def _received(self, message: dict[str, Any]) -> None:
        try:
            events = [ChangeEvent.decode(each) for each in message["events"]]
        except (ValueError, KeyError, TypeError):
            return  # not ours
        for event in events:
            self.bus.deliver(event, relayed=True)

    async def aclose(self) -> None:
        await self.channel.aclose()


def open_change_bus(settings: GatewaySettings) -> tuple[ChangeBus, ChangeRelay | None]:
    """The app's bus, and its relay through Redis when ``GATEWAY_REDIS_URL`` is set."""
    bus = ChangeBus(per_client=settings.max_subscriptions, total=settings.max_subscriptions_total)
    if settings.redis_url is None:
        return bus, None
    relay = ChangeRelay(bus, settings.redis_url.get_secret_value(), timeout=settings.redis_timeout)
    return bus, relay
