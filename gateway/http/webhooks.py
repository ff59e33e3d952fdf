"""``POST /webhooks/<vendor>``: vendors' signed change events, onto the app's ChangeBus.

The signature (or, for a vendor that signs nothing, the shared secret in a header the
operator set up) is the credential: no client credential is asked for, and the CSRF rule
(which guards `/graphql` only) does not apply. Everything a stranger can send is refused
before any work that costs: an unknown vendor, a vendor without documented webhooks and
one whose secret is unset all answer 404 alike (the endpoint does not exist for them); a
body over ``MAX_BODY_BYTES`` is refused by its declared length before it is read (the
HTTP guard caps every body at ``GATEWAY_MAX_BODY_BYTES`` as it arrives); a bad signature
(or secret) answers 401. None of them calls a vendor, touches the shared store or publishes. A
verified event is published once: its vendor's event id is remembered in the shared
store (this process's memory, or Redis with ``GATEWAY_REDIS_URL``) for ``SEEN_FOR``
seconds, longer than any vendor retries, and a duplicate is acknowledged and dropped.
Neither the body nor the secret is ever logged.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.config import Settings
from gateway.plugin import MalformedWebhook, VendorWebhooks
from gateway.state.changes import ChangeBus
from gateway.state.storage import SharedStore

logger = logging.getLogger("gateway.webhooks")

WEBHOOK_PATH = "/webhooks/{vendor}"
# A task event is a few kilobytes; this leaves room for any documented event.
MAX_BODY_BYTES = 256 * 1024
# Invoiced retries for two days (Zoho for less [guess]); a week covers them and any manual
# retry from a vendor's dashboard.
SEEN_FOR = 7 * 24 * 3600.0
SEEN_KEY = "webhook-seen:{vendor}:{event}"


class Receivers:
    """Each vendor with a webhook receiver and a secret: its verifier, decoder and secret."""

    def __init__(self, settings: Settings) -> None:
        self.by_vendor: dict[str, tuple[VendorWebhooks, bytes]] = {}
        for plugin in settings.plugins:
            if plugin.webhooks is None:
                continue
            receiver = plugin.webhooks()
            secret = receiver.secret(settings.section(plugin))
            if secret:
                self.by_vendor[plugin.vendor.value] = (receiver, secret)


def _answer(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _too_large() -> Response:
    return _answer(413, f"A webhook body is at most {MAX_BODY_BYTES} bytes.")


def webhook_routes(settings: Settings, store: SharedStore, changes: ChangeBus) -> list[BaseRoute]:
    receivers = Receivers(settings)

    async def receive(request: Request) -> Response:
        vendor = request.path_params["vendor"]
        found = receivers.by_vendor.get(vendor)
        if found is None:
            return _answer(404, "No webhook endpoint here.")
        receiver, secret = found
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _too_large()
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        if not receiver.verify(body, request.headers, secret):
            # Debug only: anyone can send these, and must not be able to flood the logs.
            logger.debug("A %s webhook with a bad signature was refused.", vendor)
            return _answer(401, "The signature or token does not match.")
        try:
            delivery = receiver.decode(body)
        except MalformedWebhook:
            logger.warning("A signed %s webhook was not in the vendor's format.", vendor)
            return _answer(400, "Not an event this endpoint understands.")
        key = SEEN_KEY.format(vendor=vendor, event=delivery.event_id)
        if delivery.change is not None and await store.add(key, b"1", ttl=SEEN_FOR):
            await changes.publish_all((delivery.change, *delivery.more))
        return Response(status_code=204)

    return [Route(WEBHOOK_PATH, receive, methods=["POST"])]
