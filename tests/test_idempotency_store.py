"""The in-process idempotency store on its own: the window, the bound, the doubt."""

from __future__ import annotations

import asyncio

import pytest

from gateway.api.writes import Attempt, Idempotency
from gateway.core.errors import BadUserInput, OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from gateway.state.idempotency import Claimed, Replay, Slot, fingerprint
from gateway.state.storage.idempotency_memory import MemoryIdempotencyStore
from gateway.vendors.zoho import ZOHO


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_answer_is_replayed_within_the_window_only() -> None:
    clock = Clock()
    store = MemoryIdempotencyStore(window=60, clock=clock)
    slot = Slot("client", "createTask", "key-0001")
    assert await store.claim(slot, "input") == Claimed(None)
    await store.finish(slot, "answer")
    clock.now += 59
    assert await store.claim(slot, "input") == Replay("answer")
    clock.now += 2
    assert await store.claim(slot, "other input") == Claimed(None)


async def test_the_store_is_bounded_and_drops_the_oldest_settled_slots_first() -> None:
    store = MemoryIdempotencyStore(window=60, max_entries=3, clock=Clock())
    running = Slot("client", "createTask", "running-01")
    await store.claim(running, "input")
    for number in range(5):
        slot = Slot("client", "createTask", f"settled-{number:02}")
        await store.claim(slot, "input")
        await store.finish(slot, number)
    assert len(store) == 3
    assert await store.claim(Slot("client", "createTask", "settled-04"), "input") == Replay(4)
    assert await store.claim(Slot("client", "createTask", "settled-00"), "input") == Claimed(None)
    with pytest.raises(BadUserInput):  # the running slot survived the evictions
        await store.claim(running, "other input")


async def test_intent_survives_an_ambiguous_failure_but_not_a_definite_one() -> None:
    idempotency = Idempotency(MemoryIdempotencyStore(window=60))
    seen: list[object | None] = []

    def failing(error: Exception) -> object:
        async def write(attempt: Attempt) -> str:
            seen.append(attempt.intent)
            await attempt.intend("target")
            raise error

        return write

    rejected = UpstreamRejected(ZOHO, "no")
    timed_out = UpstreamUnavailable(ZOHO, "timed out")
    for error in (rejected, rejected, timed_out, rejected, timed_out):
        # A write that may have landed answers that its outcome is unknown.
        expected = OutcomeUnknown if error is timed_out else type(error)
        with pytest.raises(expected):
            write = failing(error)
            await idempotency.run(
                "toggle",
                "key-0001",
                "input",
                write,  # type: ignore[arg-type]
                vendor=ZOHO,
                client="client",
            )
    # Refusals forget the attempt; once in doubt, the doubt stays until a success.
    assert seen == [None, None, None, "target", "target"]


async def test_concurrent_duplicates_wait_for_the_first() -> None:
    idempotency = Idempotency(MemoryIdempotencyStore(window=60))
    release = asyncio.Event()
    runs = 0

    async def write(attempt: Attempt) -> int:
        nonlocal runs
        runs += 1
        await release.wait()
        return 42

    waiting = [
        asyncio.create_task(
            idempotency.run(
                "createTask", "key-0001", fingerprint(1), write, vendor=ZOHO, client="client"
            )
        )
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42, 42, 42]
    assert runs == 1
