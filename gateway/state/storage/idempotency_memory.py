"""Idempotency slots in this process: the default without a shared store.

Duplicates wait on an in-process event, woken at once. A crash loses the slots
with the process, so a retry after it runs anew, as the vendor's state allows.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.core.errors import BadUserInput
from gateway.state.idempotency import DEFAULT_MAX_ENTRIES, KEY_FIELD, Claimed, Replay, Slot


class _State(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    IN_DOUBT = "in doubt"


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    state: _State = _State.RUNNING
    answer: object = None
    intent: object | None = None
    # The running attempt is a retry of one in doubt: its failure keeps the doubt.
    inherited: bool = False
    expires_at: float = float("inf")
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryIdempotencyStore:
    """Slots in this process, for ``window`` seconds after they settle and at most
    ``max_entries`` of them: past that the oldest settled slots are dropped first."""

    def __init__(
        self,
        *,
        window: float,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window, self._max_entries, self._clock = window, max_entries, clock
        self._entries: dict[Slot, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, slot: Slot, fingerprint: str) -> Replay | Claimed:
        while True:
            entry = self._live(slot)
            if entry is None:
                self._make_room()
                self._entries[slot] = _Entry(fingerprint)
                return Claimed(None)
            if entry.fingerprint != fingerprint:
                raise BadUserInput(
                    f"`{KEY_FIELD}` was already used for a {slot.mutation} with different "
                    "input; use a new key for a new write.",
                    field=KEY_FIELD,
                )
            if entry.state is _State.DONE:
                return Replay(entry.answer)
            if entry.state is _State.IN_DOUBT:
                entry.state, entry.inherited = _State.RUNNING, True
                entry.expires_at, entry.settled = float("inf"), asyncio.Event()
                return Claimed(entry.intent)
            await entry.settled.wait()

    async def record_intent(self, slot: Slot, intent: object) -> None:
        entry = self._entries.get(slot)
        if entry is not None and entry.state is _State.RUNNING:
            entry.intent = intent

    async def finish(self, slot: Slot, answer: object) -> None:
        entry = self._entries.get(slot)
        if entry is None:
            return  # dropped to make room while running; nothing to replay then
        entry.state, entry.answer = _State.DONE, answer
        self._settle(entry)

    async def release(self, slot: Slot, *, maybe_applied: bool) -> None:
        entry = self._entries.get(slot)
        if entry is None:
            return
        if maybe_applied or entry.inherited:
            entry.state = _State.IN_DOUBT
            self._settle(entry)
        else:
            del self._entries[slot]
            entry.settled.set()

    def _settle(self, entry: _Entry) -> None:
        entry.expires_at = self._clock() + self._window
        entry.settled.set()

    def _live(self, slot: Slot) -> _Entry | None:
        entry = self._entries.get(slot)
        if entry is not None and entry.expires_at <= self._clock():
            del self._entries[slot]
            return None
        return entry

    def _make_room(self) -> None:
        if len(self._entries) < self._max_entries:
            return
        now = self._clock()
        for slot in [slot for slot, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[slot]
        # Dicts keep insertion order: the oldest settled slots go first. A running
        # slot is dropped only if nothing else can be; its waiters then run anew.
        while len(self._entries) >= self._max_entries:
            victim = next(
                (s for s, e in self._entries.items() if e.state is not _State.RUNNING),
                next(iter(self._entries)),
            )
            self._entries.pop(victim).settled.set()
