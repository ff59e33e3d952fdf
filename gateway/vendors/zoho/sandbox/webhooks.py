"""The sandbox's workflow webhooks: a project's details POSTed to a configured URL every
time the sandbox writes the project or one of its tasks (through its API or
``_admin/changes``), as a workflow rule on projects, "Created or Edited", with the default
payload and the gateway's token in a custom header sends them.

Format (see gateway.vendors.zoho.webhooks for the labels): ``{"project": <the project as
GET /projects/{id} shows it, tasks and all>}`` with ``Content-Type: application/json`` and
``X-Gateway-Webhook-Token: <secret>``. A delivery runs in the background, never holding up
the sandbox's answer; anything but a 2xx within ``TIMEOUT`` seconds is retried every
``RETRY_EVERY`` seconds, ``ATTEMPTS`` times in all [guess: Zoho documents retry policies
for workflow actions without a default schedule; a few retries a quarter of an hour
apart, well inside the gateway's week of remembered deliveries].
"""

from __future__ import annotations

import asyncio
import os

import httpx
import orjson

from gateway.core.sandbox_webhooks import SandboxWebhookSender, Sleep

from .store import Project
from .wire import project_detail

URL_ENV = "ZOHO_SANDBOX_WEBHOOK_URL"
SECRET_ENV = "ZOHO_SANDBOX_WEBHOOK_SECRET"
# The demo's secret, known like the sandbox's refresh token: the sandbox sends it unless
# ZOHO_SANDBOX_WEBHOOK_SECRET says otherwise, and its env() hands it to the gateway.
DEMO_SECRET = "sandbox_zoho_webhook_secret"
TOKEN_HEADER = "X-Gateway-Webhook-Token"
TIMEOUT = 30.0
RETRY_EVERY = 900.0
ATTEMPTS = 5


class WebhookSender(SandboxWebhookSender):
    """A workflow webhook on projects, with the shared secret in its custom header."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            url,
            retry_every=RETRY_EVERY,
            attempts=ATTEMPTS,
            timeout=TIMEOUT,
            sleep=sleep,
            transport=transport,
        )
        self.secret = secret

    def headers(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", TOKEN_HEADER: self.secret}

    def project_changed(self, project: Project) -> None:
        """Deliver the project as it is now, in the background."""
        self.send(orjson.dumps({"project": project_detail(project)}))


def from_env(url: str | None = None, secret: str | None = None) -> WebhookSender | None:
    """A sender to ``url`` (else ``ZOHO_SANDBOX_WEBHOOK_URL``), or None when unset."""
    url = url or os.environ.get(URL_ENV)
    if not url:
        return None
    return WebhookSender(url, secret or os.environ.get(SECRET_ENV) or DEMO_SECRET)
