"""Freshness of shared vendor reads: client -> gateway -> adapter -> sandbox, with the
read cache's clock injected.

Past its fresh window an entry is answered at once and refreshed by one background
call; a client's `Cache-Control: no-cache` makes its reads fresh; every answer says how
old each vendor's part is (the `freshness` extension, and `Age` and `max-age` on GET);
and a failing vendor is stood in for by its last entry within the stale-if-error bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.state.changes import ChangeEvent
from gateway.upstream.cache import ReadCache
from gateway.upstream.cache.entries import MemoryEntries
from gateway.upstream.cache.reads import ECHO_WINDOW
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_idempotent_writes import CREATE_TASK, total_calls
from tests.test_shared_state import NEW_TASK

TASK_NAMES = "{ tasks(first: 100) { nodes { name } } }"
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
# Invoiced's default windows (gateway/vendors/invoiced/settings.py).
FRESH, REVALIDATE, IF_ERROR = 10.0, 20.0, 300.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def cached(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with gateway_with(monkeypatch, GATEWAY_BREAKER_FAILURES="2") as gateway:
        yield gateway


@pytest.fixture
def clock(cached: Gateway) -> Clock:
    clock = Clock()
    read_cache_of(cached).clock = clock
    return clock


def read_cache_of(gateway: Gateway) -> ReadCache:
    cache: ReadCache | None = gateway.app.state.adapters.read_cache
    assert cache is not None
    return cache


def freshness(body: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = body["extensions"]["freshness"]
    return part


async def test_past_fresh_the_entry_answers_and_one_background_call_refreshes_it(
    cached: Gateway, clock: Clock
) -> None:
    first = await cached.execute(TASK_NAMES)
    assert freshness(first) == {"INVOICED": {"age": 0, "stale": False}}
    vendor_calls = cached.record("/invoiced")

    clock.now += FRESH + 1
    # Two clients at once past the fresh window: both answered from the entry, at once,
    # neither charged a call; one refresh between them.
    stale = await asyncio.gather(*(cached.execute(TASK_NAMES, accounting=True) for _ in "ab"))
    for body in stale:
        assert total_calls(body) == 0
        assert body["data"] == first["data"]
        assert freshness(body) == {"INVOICED": {"age": 11, "stale": True}}
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    assert len(vendor_calls) == 1

    refreshed = await cached.execute(TASK_NAMES, accounting=True)
    assert total_calls(refreshed) == 0
    assert freshness(refreshed) == {"INVOICED": {"age": 0, "stale": False}}


async def test_no_cache_from_the_client_makes_a_fresh_read_that_refreshes_the_entry(
    cached: Gateway, clock: Clock
) -> None:
    await cached.execute(TASK_NAMES)
    clock.now += 4
    headers = {"X-Upstream-Accounting": "1"}
    for directive in ("no-cache", "no-store", "max-age=0"):
        forced = await cached.client.post(
            "/graphql",
            json={"query": TASK_NAMES},
            headers={**headers, "Cache-Control": directive},
        )
        assert total_calls(forced.json()) == 1
        assert freshness(forced.json()) == {"INVOICED": {"age": 0, "stale": False}}
    clock.now += 4
    after = await cached.execute(TASK_NAMES, accounting=True)
    assert total_calls(after) == 0
    assert freshness(after) == {"INVOICED": {"age": 4, "stale": False}}


async def test_get_answers_say_their_age_and_what_is_left_of_the_fresh_window(
    cached: Gateway, clock: Clock
) -> None:
    params = {"query": TASK_NAMES}
    first = await cached.client.get("/graphql", params=params, headers=PREFLIGHT)
    assert first.headers["age"] == "0"
    assert first.headers["cache-control"] == "private, max-age=10"
    clock.now += 3
    later = await cached.client.get("/graphql", params=params, headers=PREFLIGHT)
    assert later.headers["age"] == "3"
    assert later.headers["cache-control"] == "private, max-age=7"
    assert freshness(later.json()) == {"INVOICED": {"age": 3, "stale": False}}
    clock.now += FRESH
    stale = await cached.client.get("/graphql", params=params, headers=PREFLIGHT)
    assert stale.headers["age"] == "13"
    assert stale.headers["cache-control"] == "private, no-cache"

    # POST answers and mutations carry the extension, and are never kept.
    posted = await cached.client.post("/graphql", json={"query": TASK_NAMES})
    assert posted.headers["cache-control"] == "no-store"
    assert "INVOICED" in freshness(posted.json())
    written = await cached.client.post(
        "/graphql", json={"query": CREATE_TASK, "variables": {"input": NEW_TASK}}
    )
    assert codes(written.json()) == []
    assert written.headers["cache-control"] == "no-store"
    assert freshness(written.json()) == {"INVOICED": {"age": 0, "stale": False}}


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


def refused(request: httpx.Request) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": "30"})


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (unavailable, "UPSTREAM_UNAVAILABLE"),
        (refused, "RATE_LIMITED"),
        (unreachable, "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_a_failing_vendor_is_stood_in_for_within_the_bound_and_not_beyond(
    cached: Gateway, clock: Clock, fault: Any, code: str
) -> None:
    first = await cached.execute(TASK_NAMES)
    cached.inject(fault)
    clock.now += FRESH + REVALIDATE + 1  # past the SWR window: a call is needed
    # The vendor's failures; for a 5xx or no answer, the breaker opens after 2 and refuses
    # the third call itself.
    for _ in range(3):
        stood_in = await cached.execute(TASK_NAMES)
        assert codes(stood_in) == []
        assert stood_in["data"] == first["data"]
        assert freshness(stood_in) == {"INVOICED": {"age": 31, "stale": True}}

    clock.now += IF_ERROR  # now past the stale-if-error bound
    failed = await cached.execute(TASK_NAMES)
    assert codes(failed) == [code]
    assert failed["data"] == {"tasks": None}


async def test_the_gateways_own_quota_refusal_is_stood_in_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    todos = "{ todos(first: 2) { nodes { fakturoidId } } }"
    async with gateway_with(
        monkeypatch, FAKTUROID_REQUESTS_PER_MINUTE="4", GATEWAY_QUOTA_RESERVE="0"
    ) as gateway:
        clock = Clock()
        read_cache_of(gateway).clock = clock
        first = await gateway.execute(todos)
        assert codes(first) == []
        # Fresh reads spend the rest of the gateway's share of Fakturoid's minute.
        for _ in range(10):
            forced = await gateway.client.post(
                "/graphql", json={"query": todos}, headers={"Cache-Control": "no-cache"}
            )
            if codes(forced.json()) == ["RATE_LIMITED"]:
                break
        else:
            pytest.fail("the gateway's share of Fakturoid's quota was never spent")

        clock.now += 15 + 45 + 1  # past Fakturoid's SWR window: a call is needed
        stood_in = await gateway.execute(todos)
        assert codes(stood_in) == []
        assert stood_in["data"] == first["data"]
        assert freshness(stood_in) == {"FAKTUROID": {"age": 61, "stale": True}}


async def test_after_a_change_the_last_answer_stands_in_for_a_failing_vendor(
    cached: Gateway, clock: Clock
) -> None:
    """A change makes the kept answer superseded: it no longer answers while fresh, but
    it is still the vendor's last known answer for a call that fails."""
    first = await cached.execute(TASK_NAMES)
    event = ChangeEvent(INVOICED, "Task", "some-task", "updated", datetime.now(UTC))
    await cached.app.state.changes.publish(event)
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    clock.now += 1  # still inside the fresh window
    cached.inject(unavailable)
    stood_in = await cached.execute(TASK_NAMES, accounting=True)
    assert total_calls(stood_in) == 1  # the vendor was asked first
    assert codes(stood_in) == []
    assert stood_in["data"] == first["data"]
    assert freshness(stood_in) == {"INVOICED": {"age": 1, "stale": True}}


async def test_one_change_reported_by_several_sources_is_applied_once(
    cached: Gateway, clock: Clock
) -> None:
    """The vendor's webhook, the poller and the mutation itself may each report the same
    change: the kept reads are fetched again once, not once per report."""
    await cached.execute(TASK_NAMES)
    vendor_calls = cached.record("/invoiced")
    event = ChangeEvent(INVOICED, "Task", "some-task", "updated", datetime.now(UTC))
    for _ in range(3):
        await cached.app.state.changes.publish(event)
        await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
        await cached.execute(TASK_NAMES)
    assert len(vendor_calls) == 1
    # Another item's change is applied: it is its own report.
    other = ChangeEvent(INVOICED, "Task", "another-task", "updated", datetime.now(UTC))
    await cached.app.state.changes.publish(other)
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    await cached.execute(TASK_NAMES)
    assert len(vendor_calls) == 2


async def test_a_second_change_of_an_item_after_the_echo_window_is_applied(
    cached: Gateway, clock: Clock
) -> None:
    """Reports of one change arrive within moments; a report of the same item some
    seconds later, still inside the fresh window, is another change: the kept reads are
    fetched again at once rather than when they age past the fresh window."""
    store = read_cache_of(cached).store
    assert isinstance(store, MemoryEntries)
    store.clock = clock  # when a change of an item was last applied
    await cached.execute(TASK_NAMES)
    vendor_calls = cached.record("/invoiced")
    event = ChangeEvent(INVOICED, "Task", "some-task", "updated", datetime.now(UTC))
    await cached.app.state.changes.publish(event)
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    await cached.execute(TASK_NAMES)
    assert len(vendor_calls) == 1
    clock.now += ECHO_WINDOW + 1  # still inside Invoiced's fresh window (10 s)
    await cached.app.state.changes.publish(event)
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    await cached.execute(TASK_NAMES)
    assert len(vendor_calls) == 2


TASK_BY_ID = "query($id: ID!) { task(id: $id) { name } }"
TASK_IDS = "{ tasks(first: 2) { nodes { id } } }"


async def _reads(gateway: Gateway, *queries: tuple[str, dict[str, Any]]) -> list[int]:
    """The vendor calls each query costs."""
    return [
        total_calls(await gateway.execute(query, variables, accounting=True))
        for query, variables in queries
    ]


async def test_a_change_of_one_item_leaves_the_other_items_reads_kept(
    cached: Gateway, clock: Clock
) -> None:
    """An item's own read is superseded only by a change of that item; the vendor's
    lists by any change. A change of task A costs A's read and the list again, not B's."""
    a, b = [node["id"] for node in (await cached.execute(TASK_IDS))["data"]["tasks"]["nodes"]]
    reads = [(TASK_BY_ID, {"id": a}), (TASK_BY_ID, {"id": b}), (TASK_IDS, {})]
    await _reads(cached, *reads)
    assert await _reads(cached, *reads) == [0, 0, 0]

    await cached.app.state.changes.publish(
        ChangeEvent(INVOICED, "Task", a, "updated", datetime.now(UTC))
    )
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    assert await _reads(cached, *reads) == [1, 0, 1]

    # A write of B through the gateway: B's read and the list again, not A's.
    toggle = "mutation($id: ID!) { toggleTaskCompletion(id: $id) { task { complete } } }"
    assert codes(await cached.execute(toggle, {"id": b})) == []
    assert await _reads(cached, *reads) == [0, 1, 1]
