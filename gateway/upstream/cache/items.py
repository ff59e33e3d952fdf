"""How the read cache names one item: as its global id does, so that the adapters'
reads and writes, change events and webhooks name the same item the same way."""

from __future__ import annotations

from gateway.core.errors import BadUserInput
from gateway.core.ids import decode_id


def item_named(type_name: str, key: object) -> str:
    """How an adapter names the one item a call reads or writes (``Upstream.send(item=)``):
    the type and key of its global id."""
    return f"{type_name}:{key}"


def item_of(global_id: str) -> str:
    """The item a change event names (its global id), as adapters name what they read."""
    try:
        decoded = decode_id(global_id)
    except BadUserInput:
        return global_id  # not an id of ours: a name of its own, superseding no item read
    return item_named(decoded.type_name, decoded.key)
