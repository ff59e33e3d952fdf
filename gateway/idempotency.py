"""Idempotent writes: a write retried with the same idempotency key happens once.

A client whose write timed out cannot tell whether the vendor applied it. With an
idempotency key it can simply retry: the gateway keeps its answer per (mutation,
key) for ``GATEWAY_IDEMPOTENCY_WINDOW`` seconds and replays it without calling the
vendor; a duplicate that arrives while the first is still running waits for it; the
same key with different input is refused (BAD_USER_INPUT on ``idempotencyKey``).

The hard case is the first attempt failing *ambiguously* (a timeout after the vendor
applied it). Before writing, an attempt records its *intent*: what it is about to do,
in terms that stay true after it happened (a toggle records the state it aims for, a
create what it needs to recognise its own write). A retry receives that intent and
completes the same write instead of repeating it, so a toggle cannot flip back and a
create cannot duplicate. Failures that certainly changed nothing upstream (input or
auth refused, not found, rate limited) are forgotten, so the key can be used again.

A slot's life::

    (none) ──claim──▶ RUNNING ──finish──▶ DONE       replayed until the window ends
                        │  ├──release(maybe applied)──▶ IN_DOUBT ──claim──▶ RUNNING (a retry)
                        │  └──release(not applied)───▶ (none), or back to IN_DOUBT for a retry
                        └── duplicates with the same input wait; other input is refused

``IdempotencyStore`` is the seam for keeping slots elsewhere (e.g. Redis); the
in-process ``MemoryIdempotencyStore`` is bounded in entries and in time.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, cast

from gateway.errors import (
    BadUserInput,
    NotFound,
    OperationTooComplex,
    RateLimited,
    UpstreamAuthError,
    UpstreamRejected,
    VendorNotConfigured,
)

KEY_FIELD = "idempotencyKey"
KEY_MIN_LENGTH = 6
KEY_MAX_LENGTH = 64  # a vendor's own Idempotency-Key bounds: the key may be sent on
DEFAULT_MAX_ENTRIES = 10_000
# What the API tells clients about the key, wherever a write takes one.
KEY_DESCRIPTION = (
    "Optional, 6-64 visible ASCII characters. A retry with the same key within the "
    "idempotency window replays the first answer without writing again; after a "
    "timeout it completes the same write and never undoes it. Another input with the "
    "same key is refused."
)

# Failures that prove the vendor changed nothing, so the attempt is simply forgotten.
NOT_APPLIED: tuple[type[Exception], ...] = (
    BadUserInput,
    NotFound,
    OperationTooComplex,
    RateLimited,
    UpstreamAuthError,
    UpstreamRejected,
    VendorNotConfigured,
)

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a write is told when it runs under a key."""

    keyed: bool
    # What an earlier, possibly applied attempt was doing; None on a fresh start.
    intent: object | None
    _record: Callable[[object], Awaitable[None]]

    async def intend(self, intent: object) -> None:
        """Record what this attempt is about to write; call it before writing."""
        await self._record(intent)

    async def toggled_state(self, current: Callable[[], Awaitable[bool]]) -> bool:
        """The state a toggle aims for: the one an earlier attempt under this key
        recorded, else the opposite of ``current()``, recorded before writing. So a
        retry of an attempt that may have landed sets that state again instead of
        flipping it back."""
        if isinstance(self.intent, bool):
            return self.intent
        target = not await current()
        await self.intend(target)
        return target


async def _no_record(intent: object) -> None:
    del intent


class Idempotency:
    """What mutations use: validate the key, then run a write at most once per key."""

    def __init__(self, store: IdempotencyStore) -> None:
        self.store = store

    async def run(
        self,
        mutation: str,
        key: str | None,
        input_fingerprint: str,
        write: Callable[[Attempt], Awaitable[T]],
    ) -> T:
        key = validate_key(key)
        if key is None:
            return await write(Attempt(keyed=False, intent=None, _record=_no_record))
        slot = Slot(mutation, key)
        claim = await self.store.claim(slot, input_fingerprint)
        if isinstance(claim, Replay):
            return cast(T, claim.answer)

        async def record(intent: object) -> None:
            await self.store.record_intent(slot, intent)

        try:
            answer = await write(Attempt(keyed=True, intent=claim.intent, _record=record))
        except NOT_APPLIED:
            await self.store.release(slot, maybe_applied=False)
            raise
        except BaseException:
            # Timeouts, 5xx, unreadable answers, cancellation: the write may have landed.
            await self.store.release(slot, maybe_applied=True)
            raise
        await self.store.finish(slot, answer)
        return answer
