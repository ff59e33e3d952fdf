"""The change a mutation's answer reports, for the app's change bus
(gateway.state.changes)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime

from gateway.core.errors import BadUserInput
from gateway.core.ids import decode_id
from gateway.state.changes import ChangeEvent


def change_of(mutation: str, payload: object, now: datetime | None = None) -> ChangeEvent | None:
    """The change a mutation's answer reports: its ``deleted_id``, or the id of the
    object it carries (created when the mutation's name says so)."""
    if payload is None or not is_dataclass(payload):
        return None
    for item in fields(payload):
        value = getattr(payload, item.name)
        if item.name == "deleted_id":
            return _event(value, "deleted", now)
        global_id = getattr(value, "id", None)
        if isinstance(global_id, str):
            kind = "created" if mutation.startswith("create") else "updated"
            return _event(global_id, kind, now)
    return None


def _event(global_id: object, kind: str, now: datetime | None) -> ChangeEvent | None:
    if not isinstance(global_id, str):
        return None
    try:
        decoded = decode_id(global_id)
    except BadUserInput:
        return None
    at = now or datetime.now(UTC)
    return ChangeEvent(decoded.vendor, decoded.type_name, global_id, kind, at)
