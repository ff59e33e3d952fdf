"""One call across every gateway process for a read asked of several at once.

A process about to make a read takes a short lease on the read's key in the shared
store (set-if-absent, for about the upstream timeout) and makes the call; a process
that finds the lease held waits instead, polling for the owner's answer under a key
of that owner's own. The owner stores a successful answer (status, headers, body)
for a few seconds and then lets the lease go.

What the others get when the owner gets no answer to share:

- the owner failed (an error status, a timeout, any exception): the owner stores a
  failure mark, and each waiting process makes its own fresh attempt at once, in
  parallel -- one call per process, as without a shared store, rather than a queue
  of processes each retrying a failing vendor in turn. Failures are never shared:
  an error's detail (a Retry-After, a vendor error body) belongs to one answer;
- the owner died (its lease lapsed or vanished with nothing stored): one waiter
  takes the lease over and makes the call, the others wait on it in turn;
- the wait ran past its deadline: the waiter makes its own call.

An answer is only ever read by a waiter that saw its owner's lease, so a process
starting a read after an answer was stored makes a call of its own: a shared answer
is never older than the call it waited for (this is not a cache).

Waiters poll rather than subscribe. Measured on a local redis-server with redis-py:
a poll (one GET) costs about 60 µs of CPU, a subscription's subscribe, publish and
unsubscribe about 210 µs -- and publishing would cost every read that nobody waits
for (the common case) a message to every process, where a poll costs only waiters.
The in-process collapse in front of this (``gateway.upstream.collapse``) leaves at
most one waiter per process and key, so a process waiting on a 200 ms call spends
about 1.2 ms of CPU, and is answered within one poll interval of the owner.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import orjson

from gateway.state.storage.base import SharedStore
from gateway.state.storage.leases import new_owner

T = TypeVar("T")

# How often a waiting process looks for the answer: well under a vendor call's time,
# so a waiter is answered within a few ms of the owner.
POLL_INTERVAL = 0.01
# How long an answer (or a failure mark) is kept for the waiters to pick up: several
# polls, so a waiter slowed down by its own event loop still finds it.
ANSWER_TTL = 5.0
# Polls between two looks at the lease (a dead owner is noticed within this many).
LEASE_LOOK_EVERY = 5
FAILED = b"!"
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    """A successful vendor answer as another process made it, its body decoded."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    content: bytes

    def encode(self) -> bytes:
        head = orjson.dumps(
            {"status": self.status, "headers": [[n.hex(), v.hex()] for n, v in self.headers]}
        )
        return _LENGTH.pack(len(head)) + head + self.content

    @classmethod
    def decode(cls, data: bytes) -> SharedAnswer:
        (size,) = _LENGTH.unpack_from(data)
        head = orjson.loads(data[_LENGTH.size : _LENGTH.size + size])
        headers = tuple((bytes.fromhex(n), bytes.fromhex(v)) for n, v in head["headers"])
        return cls(int(head["status"]), headers, data[_LENGTH.size + size :])


class _Retry:
    """The owner died without an answer: try to take the lease over."""


class _OwnCall:
    """The owner failed, or the wait is over: make the call yourself."""


_RETRY, _OWN_CALL = _Retry(), _OwnCall()


class SharedFlights:
    """Reads in flight across processes, by key (a hash: keys never hold credentials)."""

    def __init__(
        self,
        store: SharedStore,
        *,
        poll_interval: float = POLL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.poll_interval, self.clock = store, poll_interval, clock
        # Waits under way and begun, and answers taken from another process (for tests).
        self.waiting = self.waits = 0
        self.shared = 0

    async def run(
        self,
        key: str,
        call: Callable[[], Awaitable[T]],
        answer_of: Callable[[T], SharedAnswer | None],
        *,
        wait: float,
    ) -> T | SharedAnswer:
        """``call``'s outcome, or the answer another process's identical call got.
        ``answer_of`` gives what of an outcome may be shared (None: nothing); ``wait``
        bounds both the lease and the wait for another's answer."""
        lease = f"read-lease:{key}"
        deadline = self.clock() + wait
        while self.clock() < deadline:
            owner = new_owner()
            if await self.store.add(lease, owner.encode(), ttl=wait):
                return await self._own(key, lease, owner, call, answer_of)
            holder = await self.store.get(lease)
            if holder is None:
                continue  # let go between the two looks: try to take it
            outcome = await self._answer_of(key, lease, holder, deadline)
            if isinstance(outcome, SharedAnswer):
                self.shared += 1
                return outcome
            if outcome is _OWN_CALL:
                break
        return await call()

    async def _own(
        self,
        key: str,
        lease: str,
        owner: str,
        call: Callable[[], Awaitable[T]],
        answer_of: Callable[[T], SharedAnswer | None],
    ) -> T:
        stored = FAILED
        try:
            outcome = await call()
            answer = answer_of(outcome)
            if answer is not None:
                stored = answer.encode()
            return outcome
        finally:
            # Shielded: a cancelled owner still tells its waiters not to wait on it.
            await asyncio.shield(self._hand_over(key, lease, owner, stored))

    async def _hand_over(self, key: str, lease: str, owner: str, stored: bytes) -> None:
        # The answer before the lease goes, so a waiter that sees the lease gone finds it.
        await self.store.set(_answer_key(key, owner.encode()), stored, ttl=ANSWER_TTL)
        await self.store.delete(lease, expected=owner.encode())

    async def _answer_of(
        self, key: str, lease: str, holder: bytes, deadline: float
    ) -> SharedAnswer | _Retry | _OwnCall:
        answer_key = _answer_key(key, holder)
        self.waiting += 1
        self.waits += 1
        try:
            polls = 0
            while (left := deadline - self.clock()) > 0:
                await asyncio.sleep(min(self.poll_interval, left))
                found = await self._stored(answer_key)
                if found is not None:
                    return found
                polls += 1
                if polls % LEASE_LOOK_EVERY == 0 and await self.store.get(lease) != holder:
                    # Gone: answered just now (the answer is stored first), or the owner died.
                    return await self._stored(answer_key) or _RETRY
            return _OWN_CALL
        finally:
            self.waiting -= 1

    async def _stored(self, answer_key: str) -> SharedAnswer | _OwnCall | None:
        data = await self.store.get(answer_key)
        if data is None:
            return None
        if data == FAILED:
            return _OWN_CALL
        return SharedAnswer.decode(data)


def _answer_key(key: str, owner: bytes) -> str:
    return f"read-answer:{key}:{owner.decode()}"
