"""Idempotency keys and the slots they claim: the vocabulary of idempotent writes
and the seam (``IdempotencyStore``) where their answers and intents are kept.

A slot is (client, mutation, key): keys are scoped by the client (its principal's
key), so another client sending the same key gets its own write. A slot's life::

    (none) ──claim──▶ RUNNING ──finish──▶ DONE       replayed until the window ends
                        │  ├──release(maybe applied)──▶ IN_DOUBT ──claim──▶ RUNNING (a retry)
                        │  ├──release(not applied)───▶ (none), or back to IN_DOUBT for a retry
                        │  └──owner died (its lease lapsed)──claim──▶ RUNNING (a retry, in doubt)
                        └── duplicates with the same input wait; other input is refused

Slots are kept in this process (gateway.state.storage.idempotency_memory) or in the
shared store, where an intent outlives the process that recorded it
(gateway.state.storage.idempotency). What runs a write under a slot is
``gateway.api.writes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from gateway.core.errors import (
    BadUserInput,
)

KEY_FIELD = "idempotencyKey"
KEY_MIN_LENGTH = 6
KEY_MAX_LENGTH = 64  # a vendor's own Idempotency-Key bounds: the key may be sent on
DEFAULT_MAX_ENTRIES = 10_000
# What the API tells clients about the key, wherever a write takes one.
KEY_DESCRIPTION = (
    "Optional, 6-64 visible ASCII characters, scoped to the client that sends it. A "
    "retry with the same key within the idempotency window replays the first answer "
    "without writing again; after a timeout it completes the same write and never undoes "
    "it, or answers OUTCOME_UNKNOWN when the vendor cannot tell. Another input with the "
    "same key is refused."
)


def validate_key(key: str | None) -> str | None:
    """The key as given, or BAD_USER_INPUT: keys travel in HTTP headers, so only
    visible ASCII is accepted (no spaces, CR/LF or other control characters)."""
    if key is None:
        return None
    if not KEY_MIN_LENGTH <= len(key) <= KEY_MAX_LENGTH:
        raise BadUserInput(
            f"`{KEY_FIELD}` must be {KEY_MIN_LENGTH} to {KEY_MAX_LENGTH} characters.",
            field=KEY_FIELD,
        )
    if not all("!" <= char <= "~" for char in key):
        raise BadUserInput(
            f"`{KEY_FIELD}` may contain only visible ASCII characters "
            "(no spaces, line breaks or other control characters).",
            field=KEY_FIELD,
        )
    return key


def fingerprint(*parts: object) -> str:
    """A digest of a write's validated input: equal input, equal digest. Only the
    digest is kept, so a store never holds client data beyond the answer."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Slot:
    # The principal's key: one client's key never reaches another client's slot.
    client: str
    mutation: str
    key: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The slot already holds an answer: return it, call no vendor."""

    answer: object


@dataclass(frozen=True, slots=True)
class Claimed:
    """This caller runs the write. ``intent`` is what an earlier attempt that may
    have been applied was doing; None when no earlier attempt wrote anything."""

    intent: object | None


class IdempotencyStore(Protocol):
    async def claim(self, slot: Slot, fingerprint: str) -> Replay | Claimed:
        """Replay a settled answer, or hand the slot to the caller; waits while another
        attempt runs; BAD_USER_INPUT when the slot was claimed with other input."""
        ...

    async def record_intent(self, slot: Slot, intent: object) -> None:
        """Remember what the running attempt is about to write, before it writes."""
        ...

    async def finish(self, slot: Slot, answer: object) -> None:
        """Keep the answer for replay until the window ends."""
        ...

    async def release(self, slot: Slot, *, maybe_applied: bool) -> None:
        """The attempt failed: keep the slot in doubt if the write may have landed."""
        ...
