"""Writes that happen once: a write retried with the same idempotency key is not repeated.

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

Keys are scoped by the client (its principal's key): another client sending the
same key with the same input gets its own write, never the first client's answer.

A slot's life::

    (none) ──claim──▶ RUNNING ──finish──▶ DONE       replayed until the window ends
                        │  ├──release(maybe applied)──▶ IN_DOUBT ──claim──▶ RUNNING (a retry)
                        │  ├──release(not applied)───▶ (none), or back to IN_DOUBT for a retry
                        │  └──owner died (its lease lapsed)──claim──▶ RUNNING (a retry, in doubt)
                        └── duplicates with the same input wait; other input is refused

A retry in doubt gets the recorded intent and resolves it against the vendor's own
state before anything is sent again; where the vendor cannot tell, the write
answers OUTCOME_UNKNOWN rather than risk a second write. Writes to one item also
run one at a time (gateway.state.storage.item_locks), and every read a write makes goes
to the vendor, not to the read cache (gateway.upstream.cache.vendor_state).

Every vendor's toggle and set-state mutations are written once, here: a ``TwoStates``
says how the vendor reads the item and sets (or only flips) its state, and
``Idempotency.toggle`` and ``Idempotency.set_state`` run it.

``IdempotencyStore`` is the seam for keeping slots: in this process
(gateway.state.storage.idempotency_memory) or in the shared store, where an intent
outlives the process that recorded it (gateway.state.storage.idempotency).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from gateway.core.errors import (
    BadUserInput,
    GatewayError,
    NotFound,
    OperationTooComplex,
    OutcomeUnknown,
    RateLimited,
    UpstreamAuthError,
    UpstreamRejected,
    VendorNotConfigured,
)
from gateway.core.types import Vendor
from gateway.observability.scope import current_request
from gateway.state.idempotency import IdempotencyStore, Replay, Slot, fingerprint, validate_key
from gateway.state.storage.item_locks import ItemLocks
from gateway.upstream.cache.scope import vendor_state

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

# Failures that already say what became of the write: passed on as they are.
SETTLED: tuple[type[Exception], ...] = (*NOT_APPLIED, OutcomeUnknown)

T = TypeVar("T")


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
        recorded, else the opposite of ``current()`` (read from the vendor, never a
        cache), recorded before writing. So a retry of an attempt that may have
        landed sets that state again instead of flipping it back."""
        if isinstance(self.intent, bool):
            return self.intent
        with vendor_state():
            target = not await current()
        await self.intend(target)
        return target


async def _no_record(intent: object) -> None:
    del intent


def writes_sent() -> int | None:
    """Calls other than reads this operation has sent so far (its call log keeps
    failed ones too); None without a call log, when nothing can be told."""
    state = current_request.get()
    if state is None:
        return None
    return sum(call.method != "GET" and not call.grant for call in state.calls.calls)


def sent_since(before: int | None) -> bool:
    """Whether a write may have gone out since ``before``: a failure with none sent
    certainly changed nothing. A token grant is no write: it changes no vendor data."""
    now = writes_sent()
    return before is None or now is None or now > before


def _unknown(error: Exception, vendor: Vendor, mutation: str, *, keyed: bool) -> OutcomeUnknown:
    then = (
        "Retry with the same `idempotencyKey`: the gateway checks what the vendor applied "
        "and completes the write without repeating it."
        if keyed
        else "Check the vendor's state (read the item, or list by the values sent) before "
        "sending it again; with an `idempotencyKey` a retry does that check itself."
    )
    reason = error.message if isinstance(error, GatewayError) else "the write failed"
    return OutcomeUnknown(
        vendor,
        f"`{mutation}` was sent but may or may not have been applied ({reason}). {then}",
        mutation=mutation,
    )


@dataclass(frozen=True, slots=True)
class TwoStates(Generic[T]):
    """An item with a two-valued state (complete or open, active or inactive) and how
    its vendor reads and changes it; what ``Idempotency.toggle`` and ``set_state`` run."""

    vendor: Vendor
    item: object
    # The item as the vendor has it now (never a cache); NOT_FOUND if it is gone.
    read: Callable[[], Awaitable[T]]
    state_of: Callable[[T], bool]
    # Sets a state (repeating it is harmless), or None for a vendor that can only ``flip``.
    set: Callable[[bool], Awaitable[T]] | None = None
    flip: Callable[[], Awaitable[T]] | None = None
    # Whether ``set_state`` reads first and leaves an item already in that state unwritten.
    set_reads_first: bool = True

    async def change(self, target: bool) -> T:
        """Write ``target``: a set, or for a vendor that can only flip, a flip (called
        once a read showed the item in the other state)."""
        if self.set is not None:
            return await self.set(target)
        if self.flip is not None:
            return await self.flip()
        raise ValueError("TwoStates needs a way to write: set or flip")


async def _settle(subject: TwoStates[T], target: bool) -> T:
    """``subject`` in ``target``, decided by a fresh read: written only if it is not
    there yet. The caller holds the item's lock, so no other write slips in between."""
    current = await subject.read()
    if subject.state_of(current) is target:
        return current
    return await subject.change(target)


class Idempotency:
    """What mutations use: validate the key, then run a write at most once per
    (client, mutation, key), one write at a time per item."""

    def __init__(self, store: IdempotencyStore, locks: ItemLocks | None = None) -> None:
        self.store = store
        self.locks = locks or ItemLocks(None)

    @contextlib.asynccontextmanager
    async def deciding(self, vendor: Vendor, item: object) -> AsyncIterator[None]:
        """For a write decided by a read of ``item`` (set-state): the item's lock, and
        reads from the vendor itself, so concurrent writes see each other's results."""
        async with self.locks.hold(vendor, item):
            with vendor_state():
                yield

    async def run(
        self,
        mutation: str,
        key: str | None,
        input_fingerprint: str,
        write: Callable[[Attempt], Awaitable[T]],
        *,
        vendor: Vendor,
        client: str,
        item: object | None = None,
    ) -> T:
        """``write`` under the key (if any) and, given ``item``, that item's lock.
        Every read inside goes to the vendor: it decides the write."""
        key = validate_key(key)
        lock = self.locks.hold(vendor, item) if item is not None else contextlib.nullcontext()
        sent_before = writes_sent()
        if key is None:
            try:
                async with lock:
                    with vendor_state():
                        return await write(Attempt(keyed=False, intent=None, _record=_no_record))
            except SETTLED:
                raise
            except Exception as exc:
                if sent_since(sent_before):
                    raise _unknown(exc, vendor, mutation, keyed=False) from exc
                raise
        slot = Slot(client, mutation, key)
        claim = await self.store.claim(slot, input_fingerprint)
        if isinstance(claim, Replay):
            return cast(T, claim.answer)

        async def record(intent: object) -> None:
            await self.store.record_intent(slot, intent)

        try:
            async with lock:
                with vendor_state():
                    answer = await write(Attempt(keyed=True, intent=claim.intent, _record=record))
        except NOT_APPLIED:
            await self.store.release(slot, maybe_applied=False)
            raise
        except OutcomeUnknown:
            await self.store.release(slot, maybe_applied=True)
            raise
        except Exception as exc:
            # Timeouts, 5xx, unreadable answers after a write went out: it may have landed.
            sent = sent_since(sent_before)
            await self.store.release(slot, maybe_applied=sent)
            if sent:
                raise _unknown(exc, vendor, mutation, keyed=True) from exc
            raise
        except BaseException:
            # Cancelled (time limit, client gone): kept in doubt, the retry resolves it.
            await asyncio.shield(self.store.release(slot, maybe_applied=True))
            raise
        await self.store.finish(slot, answer)
        return answer

    async def toggle(
        self, mutation: str, key: str | None, subject: TwoStates[T], *, client: str
    ) -> T:
        """Flip ``subject`` once per key: the state aimed for is recorded before the
        write, so a retry of an attempt that may have landed does not flip it back."""

        async def state() -> bool:
            return subject.state_of(await subject.read())

        async def write(attempt: Attempt) -> T:
            if subject.set is not None:
                return await subject.set(await attempt.toggled_state(state))
            if subject.flip is not None and not attempt.keyed:
                # Without a key there is nothing to retry safely, so no read first.
                return await subject.flip()
            # A flip decided by a fresh read: flipping blind could undo an earlier
            # attempt under this key that landed.
            return await _settle(subject, await attempt.toggled_state(state))

        return await self.run(
            mutation,
            key,
            fingerprint(subject.item),
            write,
            vendor=subject.vendor,
            client=client,
            item=subject.item,
        )

    async def set_state(self, subject: TwoStates[T], wanted: bool) -> T:
        """``subject`` in the state ``wanted``; safe to repeat without a key, since a
        set (or a flip decided by a fresh read under the item's lock) never undoes itself."""
        if subject.set is not None and not subject.set_reads_first:
            return await subject.set(wanted)
        async with self.deciding(subject.vendor, subject.item):
            return await _settle(subject, wanted)
