"""Idempotency slots in a shared store, so a retry that lands on another process
replays the first answer (or completes the write it was doing) there too.

The slot's life is gateway.state.idempotency's; here each step is one atomic store
operation (add a running slot, compare-and-set its next state), and a duplicate
waits by polling rather than on an in-process event.

A slot, intent included, lives for the whole window: it outlives the process that
runs the write. Whether that process still lives is told by its lease (one per
owner, see gateway.state.storage.leases), taken before the slot and renewed while it
runs. A retry that finds a running slot whose owner's lease has lapsed takes the
slot over as a retry in doubt: it gets the intent and resolves it against the
vendor -- about a lease period after the owner died, not after a long expiry.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.core.errors import BadUserInput
from gateway.core.settings import GatewaySettings
from gateway.state.idempotency import KEY_FIELD, Claimed, IdempotencyStore, Replay, Slot
from gateway.state.storage.base import SharedStore
from gateway.state.storage.codec import NotSerialisable, decode, encode
from gateway.state.storage.idempotency_memory import MemoryIdempotencyStore
from gateway.state.storage.item_locks import ItemLocks
from gateway.state.storage.leases import POLL_INTERVAL, Leases, new_owner

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
    # The client's key is hashed: it names a principal, which has no place in key names.
    client = hashlib.sha256(slot.client.encode()).hexdigest()[:24]
    return f"idempotency:{client}:{slot.mutation}:{slot.key}"


def _lease(key: str, owner: str) -> str:
    return f"{key}:lease:{owner}"


class SharedIdempotencyStore:
    def __init__(self, store: SharedStore, *, window: float, lease: float) -> None:
        self._store, self._window = store, window
        self._leases = Leases(store, period=lease)
        # The owner mark of each slot this process is running.
        self._owned: dict[Slot, str] = {}

    async def claim(self, slot: Slot, fingerprint: str) -> Replay | Claimed:
        key = _key(slot)
        while True:
            raw = await self._store.get(key)
            if raw is None:
                owner = new_owner()
                # The lease first: a slot is never seen running without a live owner.
                await self._leases.take(_lease(key, owner), owner)
                running = _Entry(fingerprint, RUNNING, owner)
                if await self._store.add(key, running.dump(), ttl=self._window):
                    self._owned[slot] = owner
                    return Claimed(None)
                await self._leases.give_up(_lease(key, owner), owner)
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
            owner_gone = entry.state == RUNNING and not await self._leases.held(
                _lease(key, entry.owner)
            )
            if entry.state == IN_DOUBT or owner_gone:
                owner = new_owner()
                await self._leases.take(_lease(key, owner), owner)
                retry = _Entry(fingerprint, RUNNING, owner, intent=entry.intent, inherited=True)
                if await self._store.replace(key, raw, retry.dump(), ttl=self._window):
                    self._owned[slot] = owner
                    intent = decode(entry.intent) if entry.intent is not None else None
                    return Claimed(intent)
                await self._leases.give_up(_lease(key, owner), owner)
                continue
            await asyncio.sleep(POLL_INTERVAL)

    async def record_intent(self, slot: Slot, intent: object) -> None:
        await self._update(slot, lambda entry: _with(entry, intent=encode(intent)))

    async def finish(self, slot: Slot, answer: object) -> None:
        try:
            kept = encode(answer)
        except NotSerialisable:
            # Nothing to replay: the key is freed rather than answering a retry wrongly.
            logger.warning("An idempotent %s answer cannot be kept for replay.", slot.mutation)
            await self._drop(slot)
            return
        await self._update(slot, lambda entry: _with(entry, state=DONE, answer=kept))
        await self._end_lease(slot, self._owned.pop(slot, None))

    async def release(self, slot: Slot, *, maybe_applied: bool) -> None:
        key = _key(slot)
        raw = await self._store.get(key)
        owner = self._owned.pop(slot, None)
        try:
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
        finally:
            await self._end_lease(slot, owner)

    async def _update(self, slot: Slot, change: Any) -> None:
        key = _key(slot)
        owner = self._owned.get(slot)
        raw = await self._store.get(key)
        if raw is None or owner is None:
            return  # dropped while running: nothing to replay then
        entry = _Entry.load(raw)
        if entry.owner != owner or entry.state != RUNNING:
            return
        new: _Entry = change(entry)
        await self._store.replace(key, raw, new.dump(), ttl=self._window)

    async def _end_lease(self, slot: Slot, owner: str | None) -> None:
        if owner is not None:
            await self._leases.give_up(_lease(_key(slot), owner), owner)

    async def _drop(self, slot: Slot) -> None:
        owner = self._owned.pop(slot, None)
        raw = await self._store.get(_key(slot))
        if raw is not None and owner is not None and _Entry.load(raw).owner == owner:
            await self._store.delete(_key(slot), expected=raw)
        await self._end_lease(slot, owner)


def _with(entry: _Entry, **changes: Any) -> _Entry:
    return _Entry(
        fingerprint=entry.fingerprint,
        state=changes.get("state", entry.state),
        owner=entry.owner,
        answer=changes.get("answer", entry.answer),
        intent=changes.get("intent", entry.intent),
        inherited=entry.inherited,
    )


def _lease_period(settings: GatewaySettings) -> float:
    # Never longer than a write's deadline: a lock outliving it would hold the next
    # writer for nothing.
    return min(settings.write_lease, settings.operation_timeout)


def idempotency_store(settings: GatewaySettings, store: SharedStore) -> IdempotencyStore:
    """Slots in the shared store when the gateway shares state (GATEWAY_REDIS_URL), else
    in this process, where waiting duplicates are woken at once instead of polling."""
    window = settings.idempotency_window
    if settings.redis_url is None:
        return MemoryIdempotencyStore(window=window)
    return SharedIdempotencyStore(store, window=window, lease=_lease_period(settings))


def item_locks(settings: GatewaySettings, store: SharedStore) -> ItemLocks:
    """Per-item write locks: in this process, and across processes through the
    shared store when there is one."""
    if settings.redis_url is None:
        return ItemLocks(None)
    return ItemLocks(Leases(store, period=_lease_period(settings)))
