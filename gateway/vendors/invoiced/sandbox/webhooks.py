"""The sandbox's webhooks: every task it writes (through its API or ``_admin/changes``)
POSTed as an Invoiced Event to a configured URL, signed as Invoiced signs them.

Format (see gateway.vendors.invoiced.webhooks for the labels): a JSON Event object
``{"id", "object": "event", "type", "timestamp", "data": {"object": <task>}}`` with
``Content-Type: application/json``, ``User-Agent: Invoiced/1.0`` and
``X-Invoiced-Signature`` (hex HMAC-SHA256 of the body with the webhook secret). A delivery
runs in the background, never holding up the sandbox's answer; anything but a 2xx within
``TIMEOUT`` seconds is retried every ``retry_every`` seconds (Invoiced: every hour, 48
times) [doc].
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from typing import Any

import httpx
import orjson

from gateway.core.sandbox import Clock
from gateway.core.sandbox_webhooks import SandboxWebhookSender, Sleep

URL_ENV = "INVOICED_SANDBOX_WEBHOOK_URL"
SECRET_ENV = "INVOICED_SANDBOX_WEBHOOK_SECRET"
# The demo's secret, known like the sandbox's API key: the sandbox signs with it unless
# INVOICED_SANDBOX_WEBHOOK_SECRET says otherwise, and its env() hands it to the gateway.
DEMO_SECRET = "sandbox_invoiced_webhook_secret"
TIMEOUT = 30.0
RETRY_EVERY = 3600.0
ATTEMPTS = 48
FIRST_EVENT_ID = 4_000_000


class WebhookSender(SandboxWebhookSender):
    """Invoiced's Events about the sandbox's tasks, signed, to one URL."""

    def __init__(
        self,
        url: str,
        secret: str,
        clock: Clock,
        *,
        retry_every: float = RETRY_EVERY,
        attempts: int = ATTEMPTS,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            url,
            retry_every=retry_every,
            attempts=attempts,
            timeout=TIMEOUT,
            sleep=sleep,
            transport=transport,
        )
        self.secret, self.clock = secret.encode(), clock
        self.next_id = FIRST_EVENT_ID

    def event(self, event_type: str, task: dict[str, Any]) -> bytes:
        self.next_id += 1
        event = {
            "id": self.next_id,
            "object": "event",
            "type": event_type,
            "timestamp": int(self.clock.now()),
            "data": {"object": task},
        }
        return orjson.dumps(event)

    def headers(self, body: bytes) -> dict[str, str]:
        return {
            "User-Agent": "Invoiced/1.0",
            "Content-Type": "application/json",
            "X-Invoiced-Signature": hmac.new(self.secret, body, hashlib.sha256).hexdigest(),
        }

    def task_changed(self, event_type: str, task: dict[str, Any]) -> None:
        """Deliver ``event_type`` about ``task`` in the background."""
        self.send(self.event(event_type, dict(task)))


def from_env(
    clock: Clock, url: str | None = None, secret: str | None = None
) -> WebhookSender | None:
    """A sender to ``url`` (else ``INVOICED_SANDBOX_WEBHOOK_URL``), or None when unset."""
    url = url or os.environ.get(URL_ENV)
    if not url:
        return None
    return WebhookSender(url, secret or os.environ.get(SECRET_ENV) or DEMO_SECRET, clock)
