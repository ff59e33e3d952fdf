"""Zoho Invoice's workflow webhooks, as the gateway receives them at ``POST /webhooks/zoho``.

What Zoho documents (Settings -> Automation -> Workflow Actions -> Webhooks, and its
Books API's webhook resource) [doc]: a webhook belongs to one module and fires when a
workflow rule of that module does (a record created, edited, or a field updated); the user
chooses the URL, the method (POST, PUT or DELETE), extra URL parameters, custom
**headers**, and the body: the "default payload" (the record's fields as JSON), form
parameters, or a raw body of their own with placeholders. No signature is documented for
Zoho Invoice's workflow webhooks, so the credential is a shared secret the operator puts
in a custom header, ``X-Gateway-Webhook-Token: <ZOHO_WEBHOOK_SECRET>``, compared here in
constant time. It is a password, not a signature: it proves the sender knows it, not that
the body is unaltered, so the URL must be HTTPS.

What the gateway accepts [guess: Zoho shows no sample of a project's default payload; its
other modules wrap the record in its name, as its API does]: a JSON object that is the
project (``{"project": {...}}``, or its fields flat, ``{"project_id": ..., ...}``) or a
task (``{"task": {...}}``, or flat ``{"task_id": ..., "project_id": ...}``), or the same as
form parameters (flat, or one ``JSONString`` parameter holding the JSON, as Zoho's own API
takes form bodies). A project's change is published for the project and for every task
its payload lists (``tasks``, as the API's project details carry them): a task edited in
Zoho moves its project's ``last_modified_time`` [seen, see ``changes``], so a project rule
on "Edited" stands in for task rules where a plan has none [guess], possibly telling of
more tasks than changed, never fewer. A task needs its ``project_id`` (its global id holds
both); an event naming a project or task without a usable id is refused (400); a payload
about anything else (an invoice, a contact) is acknowledged and ignored.

Zoho sends no event id, so a delivery's id is its entity and the SHA-256 of its body: a
retried delivery repeats its body and is published once, while a later edit changes at
least ``last_modified_time``. A workflow does not say what happened: a record whose
``created_time`` equals its ``last_modified_time`` is reported created, any other updated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from gateway.core.ids import encode_id
from gateway.plugin import MalformedWebhook, VendorWebhooks, WebhookDelivery
from gateway.state.changes import ChangeEvent

from .settings import ZohoSettings
from .vendor import PROJECT_TASK_TYPE, PROJECT_TYPE, ZOHO

TOKEN_HEADER = "X-Gateway-Webhook-Token"
ZOHO_TIME = "%Y-%m-%dT%H:%M:%S%z"  # "2026-03-10T10:25:31+0530"
_NAMES_OURS = ("project", "task", "project_id", "task_id")


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def verify(body: bytes, headers: Mapping[str, str], secret: bytes) -> bool:
    given = headers.get(TOKEN_HEADER.lower(), "").strip().encode()
    # Digests of both, compared in constant time: neither how much of a guess matched nor
    # the secret's length shows in the time taken.
    return bool(given) and hmac.compare_digest(_digest(given), _digest(secret))


def _secret(settings: ZohoSettings) -> bytes | None:
    secret = settings.webhook_secret
    return secret.get_secret_value().encode() if secret and secret.get_secret_value() else None


def _payload(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: JSON itself, or form parameters (one ``JSONString`` or flat)."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise MalformedWebhook("neither JSON nor form parameters") from None
        if "JSONString" not in form:
            return {name: values[-1] for name, values in form.items()}
        try:
            parsed = orjson.loads(form["JSONString"][-1])
        except orjson.JSONDecodeError:
            raise MalformedWebhook("JSONString is not JSON") from None
    if not isinstance(parsed, dict):
        raise MalformedWebhook("not a JSON object")
    return parsed


def _usable_id(value: object) -> str:
    """Zoho's ids are long numbers, sent as strings; a number is taken as well."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise MalformedWebhook("an event without a usable id")


def _moment(record: Mapping[str, Any], field: str) -> datetime | None:
    value = record.get(field)
    try:
        return datetime.strptime(value, ZOHO_TIME) if isinstance(value, str) else None
    except ValueError:
        return None


def _kind_and_time(record: Mapping[str, Any]) -> tuple[str, datetime]:
    modified, created = _moment(record, "last_modified_time"), _moment(record, "created_time")
    kind = "created" if modified is not None and modified == created else "updated"
    return kind, modified or datetime.now(UTC)


def _record(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The wrapped record ``payload[name]``, the flat payload naming ``<name>_id``, or None."""
    wrapped = payload.get(name)
    if wrapped is not None:
        if not isinstance(wrapped, dict):
            raise MalformedWebhook(f"{name} is not an object")
        return wrapped
    return payload if f"{name}_id" in payload else None


def _task_changes(project_id: str, tasks: object, kind: str, at: datetime) -> list[ChangeEvent]:
    if not isinstance(tasks, list):
        return []
    listed = [task["task_id"] for task in tasks if isinstance(task, dict) and "task_id" in task]
    return [
        ChangeEvent(ZOHO, PROJECT_TASK_TYPE, task_id, kind, at)
        for task_id in (
            encode_id(ZOHO, PROJECT_TASK_TYPE, project_id, task) for task in map(_usable_id, listed)
        )
    ]


def _project_delivery(body: bytes, project: dict[str, Any]) -> WebhookDelivery:
    project_id = _usable_id(project.get("project_id"))
    kind, at = _kind_and_time(project)
    change = ChangeEvent(ZOHO, PROJECT_TYPE, encode_id(ZOHO, PROJECT_TYPE, project_id), kind, at)
    # The tasks a project carries changed, if at all, with the project: never "created".
    tasks = _task_changes(project_id, project.get("tasks"), "updated", at)
    event_id = f"project:{project_id}:{hashlib.sha256(body).hexdigest()}"
    return WebhookDelivery(event_id, change, tuple(tasks))


def _task_delivery(body: bytes, payload: dict[str, Any], task: dict[str, Any]) -> WebhookDelivery:
    task_id = _usable_id(task.get("task_id"))
    project_id = _usable_id(task.get("project_id", payload.get("project_id")))
    kind, at = _kind_and_time(task)
    global_id = encode_id(ZOHO, PROJECT_TASK_TYPE, project_id, task_id)
    event_id = f"task:{task_id}:{hashlib.sha256(body).hexdigest()}"
    return WebhookDelivery(event_id, ChangeEvent(ZOHO, PROJECT_TASK_TYPE, global_id, kind, at))


def decode(body: bytes) -> WebhookDelivery:
    payload = _payload(body)
    task = _record(payload, "task")
    if task is not None:
        return _task_delivery(body, payload, task)
    project = _record(payload, "project")
    if project is not None:
        return _project_delivery(body, project)
    if any(name in payload for name in _NAMES_OURS):
        raise MalformedWebhook("a project or task event without a usable id")
    return WebhookDelivery(f"other:{hashlib.sha256(body).hexdigest()}", None)


WEBHOOKS = VendorWebhooks(secret=_secret, verify=verify, decode=decode)
