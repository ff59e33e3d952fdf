"""Idempotency slots in a shared store, so a retry that lands on another process
replays the first answer (or completes the write it was doing) there too.

The slot's life is gateway.idempotency's; here each step is one atomic store
operation (add a running slot, compare-and-set its next state), and a duplicate
waits by polling rather than on an in-process event. A running slot expires
after ``running_ttl``, so a process that died mid-write does not block its key
for ever: the next attempt with that key then runs (as after a dropped slot).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.config import GatewaySettings
from gateway.errors import BadUserInput
from gateway.idempotency import (
    KEY_FIELD,
    Claimed,
    IdempotencyStore,
    MemoryIdempotencyStore,
    Replay,
    Slot,
)
from gateway.storage.base import SharedStore
from gateway.storage.codec import NotSerialisable, decode, encode

POLL_INTERVAL = 0.02
RUNNING, DONE, IN_DOUBT = "running", "done", "in doubt"

logger = logging.getLogger("gateway.idempotency")


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    state: str
    owner: str
    answer: bytes | None = None
    intent: bytes | None = None
    inherited: bool = False

    def dump(self) -> bytes:
        return orjson.dumps(
            {
                "fingerprint": self.fingerprint,
                "state": self.state,
                "owner": self.owner,
                "answer": self.answer.decode() if self.answer is not None else None,
                "intent": self.intent.decode() if self.intent is not None else None,
                "inherited": self.inherited,
            }
        )

    @classmethod
    def load(cls, raw: bytes) -> _Entry:
        data: dict[str, Any] = orjson.loads(raw)
        answer, intent = data.get("answer"), data.get("intent")
        return cls(
            fingerprint=str(data["fingerprint"]),
            state=str(data["state"]),
            owner=str(data["owner"]),
            answer=answer.encode() if isinstance(answer, str) else None,
            intent=intent.encode() if isinstance(intent, str) else None,
            inherited=bool(data.get("inherited")),
        )


def _key(slot: Slot) -> str:
    return f"idempotency:{slot.mutation}:{slot.key}"


class SharedIdempotencyStore:
    def __init__(self, store: SharedStore, *, window: float, running_ttl: float) -> None:
        self._store, self._window, self._running_ttl = store, window, running_ttl
        # The owner mark of each slot this process is running.
        self._owned: dict[Slot, str] = {}

    async def claim(self, slot: Slot, fingerprint: str) -> Replay | Claimed:
        key = _key(slot)
        while True:
            raw = await self._store.get(key)
            if raw is None:
                owner = secrets.token_hex(8)
                running = _Entry(fingerprint, RUNNING, owner)
                if await self._store.add(key, running.dump(), ttl=self._running_ttl):
                    self._owned[slot] = owner
                    return Claimed(None)
                continue
            entry = _Entry.load(raw)
            if entry.fingerprint != fingerprint:
                raise BadUserInput(
                    f"`{KEY_FIELD}` was already used for a {slot.mutation} with different "
                    "input; use a new key for a new write.",
                    field=KEY_FIELD,
                )
            if entry.state == DONE and entry.answer is not None:
                return Replay(decode(entry.answer))
            if entry.state == IN_DOUBT:
                owner = secrets.token_hex(8)
                retry = _Entry(fingerprint, RUNNING, owner, intent=entry.intent, inherited=True)
                if await self._store.replace(key, raw, retry.dump(), ttl=self._running_ttl):
                    self._owned[slot] = owner
                    intent = decode(entry.intent) if entry.intent is not None else None
                    return Claimed(intent)
                continue
            await asyncio.sleep(POLL_INTERVAL)

    async def record_intent(self, slot: Slot, intent: object) -> None:
        await self._update(slot, lambda entry: _with(entry, intent=encode(intent)), None)

    async def finish(self, slot: Slot, answer: object) -> None:
        try:
            kept = encode(answer)
        except NotSerialisable:
            # Nothing to replay: the key is freed rather than answering a retry wrongly.
            logger.warning("An idempotent %s answer cannot be kept for replay.", slot.mutation)
            await self._drop(slot)
            return
        await self._update(slot, lambda entry: _with(entry, state=DONE, answer=kept), self._window)
        self._owned.pop(slot, None)

    async def release(self, slot: Slot, *, maybe_applied: bool) -> None:
        key = _key(slot)
        raw = await self._store.get(key)
        owner = self._owned.pop(slot, None)
        if raw is None or owner is None:
            return
        entry = _Entry.load(raw)
        if entry.owner != owner:
            return
        if maybe_applied or entry.inherited:
            await self._store.replace(
                key, raw, _with(entry, state=IN_DOUBT).dump(), ttl=self._window
            )
        else:
            await self._store.delete(key, expected=raw)

    async def _update(self, slot: Slot, change: Any, ttl: float | None) -> None:
        key = _key(slot)
        owner = self._owned.get(slot)
        raw = await self._store.get(key)
        if raw is None or owner is None:
            return  # expired while running: nothing to replay then
        entry = _Entry.load(raw)
        if entry.owner != owner or entry.state != RUNNING:
            return
        new: _Entry = change(entry)
        await self._store.replace(key, raw, new.dump(), ttl=ttl or self._running_ttl)

    async def _drop(self, slot: Slot) -> None:
        owner = self._owned.pop(slot, None)
        raw = await self._store.get(_key(slot))
        if raw is not None and owner is not None and _Entry.load(raw).owner == owner:
            await self._store.delete(_key(slot), expected=raw)


def _with(entry: _Entry, **changes: Any) -> _Entry:
    return _Entry(
        fingerprint=entry.fingerprint,
        state=changes.get("state", entry.state),
        owner=entry.owner,
        answer=changes.get("answer", entry.answer),
        intent=changes.get("intent", entry.intent),
        inherited=entry.inherited,
    )


def idempotency_store(settings: GatewaySettings, store: SharedStore) -> IdempotencyStore:
    """Slots in the shared store when the gateway shares state (GATEWAY_REDIS_URL), else
    in this process, where waiting duplicates are woken at once instead of polling."""
    window = settings.idempotency_window
    if settings.redis_url is None:
        return MemoryIdempotencyStore(window=window)
    # A write runs within its operation's time limit; past that its slot is abandoned.
    return SharedIdempotencyStore(store, window=window, running_ttl=settings.operation_timeout + 5)
