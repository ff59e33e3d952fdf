"""Invoiced's webhooks, as the gateway receives them at ``POST /webhooks/invoiced``.

What Invoiced documents (its Webhooks guide) [doc]: every event is POSTed as the JSON
Event object (``{"id", "type", "timestamp", "data": {"object", "previous"}}``) with an
``X-Invoiced-Signature`` header, the HMAC-SHA256 of the raw body keyed with the webhook
secret (Settings -> Developers -> Webhooks); a ``2xx`` within 30 seconds is success,
anything else is retried every hour, up to 48 times, and the same event may arrive more
than once, so receivers should drop duplicates by event id. No timestamp is signed, so
there is no replay window to enforce: a replayed event is a duplicate, dropped by its id.
The digest is hex-encoded [seen: Invoiced's open-source webhook sender signs with PHP's
``hash_hmac('sha256', ...)``, lower-case hex]. Task events are named ``task.created``,
``task.updated``, ``task.deleted`` (and ``task.completed``) [guess: Invoiced's event
list names objects ``<object>.<verb>``]; every other event is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.core.ids import encode_id
from gateway.plugin import MalformedWebhook, VendorWebhooks, WebhookDelivery
from gateway.state.changes import ChangeEvent

from .settings import InvoicedSettings
from .vendor import INVOICED, TASK_TYPE

SIGNATURE_HEADER = "X-Invoiced-Signature"
TASK_EVENT_PREFIX = "task."
_KINDS = {"task.created": "created", "task.deleted": "deleted"}  # any other task.*: updated


def sign(body: bytes, secret: bytes) -> str:
    """The ``X-Invoiced-Signature`` of ``body``: hex HMAC-SHA256 keyed with the secret."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, headers: Mapping[str, str], secret: bytes) -> bool:
    given = headers.get(SIGNATURE_HEADER.lower(), "").strip().lower()
    # compare_digest: the time taken says nothing about how much of a forgery matched.
    return bool(given) and hmac.compare_digest(given.encode(), sign(body, secret).encode())


def _secret(settings: InvoicedSettings) -> bytes | None:
    secret = settings.webhook_secret
    return secret.get_secret_value().encode() if secret and secret.get_secret_value() else None


def decode(body: bytes) -> WebhookDelivery:
    try:
        event: Any = orjson.loads(body)
        event_id, event_type = event["id"], event["type"]
        at = datetime.fromtimestamp(int(event["timestamp"]), UTC)
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, OverflowError):
        raise MalformedWebhook("not an Invoiced event") from None
    if not isinstance(event_type, str) or isinstance(event_id, (dict, list, bool)):
        raise MalformedWebhook("not an Invoiced event")
    if not event_type.startswith(TASK_EVENT_PREFIX):
        return WebhookDelivery(str(event_id), None)
    task = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    task_id = task.get("id") if isinstance(task, dict) else None
    if not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 1:
        raise MalformedWebhook("a task event without a task id")
    kind = _KINDS.get(event_type, "updated")
    change = ChangeEvent(INVOICED, TASK_TYPE, encode_id(INVOICED, TASK_TYPE, task_id), kind, at)
    return WebhookDelivery(str(event_id), change)


WEBHOOKS = VendorWebhooks(secret=_secret, verify=verify, decode=decode)
