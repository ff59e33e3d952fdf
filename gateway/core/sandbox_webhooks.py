"""What every sandbox that sends webhooks shares: delivering a body to one URL in the
background, retried on any answer but a 2xx at the vendor's documented pace.

Each vendor's sender (in its sandbox package) decides the body and the headers, which
are its wire format; the delivery and its retries are vendor-neutral.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx

logger = logging.getLogger("gateway.sandbox.webhooks")

Sleep = Callable[[float], Awaitable[None]]


class SandboxWebhookSender:
    """Delivers bodies to one URL, each in its own task, so no sandbox answer waits on one.

    ``headers(body)`` gives a delivery's headers (a vendor's signature or shared secret);
    anything but a 2xx within ``timeout`` seconds is retried every ``retry_every`` seconds,
    ``attempts`` times in all; ``sleep`` and ``transport`` are for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        retry_every: float,
        attempts: int,
        timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url, self.timeout = url, timeout
        self.retry_every, self.attempts, self.sleep = retry_every, attempts, sleep
        self.transport = transport
        # Held so a delivery in flight is not garbage-collected; tests wait on them.
        self.deliveries: set[asyncio.Task[None]] = set()

    def headers(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def send(self, body: bytes) -> None:
        """Deliver ``body`` in the background."""
        delivery = asyncio.get_running_loop().create_task(self.deliver(body))
        self.deliveries.add(delivery)
        delivery.add_done_callback(self.deliveries.discard)

    async def deliver(self, body: bytes) -> None:
        headers = self.headers(body)
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
            for attempt in range(1, self.attempts + 1):
                try:
                    answer = await client.post(self.url, content=body, headers=headers)
                    if answer.is_success:
                        return
                except httpx.HTTPError:
                    pass
                if attempt < self.attempts:
                    await self.sleep(self.retry_every)
        logger.warning("A webhook was not accepted after %d attempts; giving up.", self.attempts)

    async def drained(self) -> None:
        """Until every delivery started so far has ended."""
        while self.deliveries:
            await asyncio.gather(*self.deliveries)
