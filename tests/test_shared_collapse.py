"""Identical vendor reads in several gateway processes share one call through a real
Redis (GATEWAY_COLLAPSE_READS with GATEWAY_REDIS_URL): clients -> two gateway apps
(each with its own adapters and store, as two processes have) -> sandbox.

A gate between the gateways and the sandbox holds every vendor call until each
client's read is held there, joined in its process, or waiting on the other
process, so the reads overlap for sure rather than by the scheduler's luck.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from gateway.adapters import Adapters
from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.state.storage.redis_store import KEY_PREFIX
from gateway.vendors.invoiced import PLUGIN as INVOICED
from tests.conftest import FaultyTransport, Gateway, codes, gateway_settings
from tests.redis_server import RedisServer
from tests.test_collapsed_reads import FIRST_PAGE, Gate

# Collapsing is the subject: the shared read cache would answer the reads instead.
pytestmark = pytest.mark.usefixtures("cache_off")

PER_GATEWAY = 5

# Collapsing is the subject: the shared read cache would answer repeated reads.
pytestmark = pytest.mark.usefixtures("cache_off")


class FailsFirst(Gate):
    """A gate whose first call gets a vendor fault (503); later calls pass."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.failing = not self.held
        return await super().handle_async_request(request)


@asynccontextmanager
async def two_gateways(
    settings: Settings, gate_type: type[Gate] = Gate
) -> AsyncIterator[tuple[Gate, list[Gateway]]]:
    """Two gateway apps in front of one set of sandboxes, behind one gate."""
    sandbox = create_sandbox_app(settings.plugins)
    gate = gate_type(httpx.ASGITransport(app=sandbox))
    transport = FaultyTransport(gate)
    vendors = [plugin.vendor for plugin in settings.plugins]
    apps = [create_app(settings, transports=dict.fromkeys(vendors, transport)) for _ in "ab"]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        for app in apps
    ]
    try:
        yield gate, [Gateway(c, sandbox, transport, a) for c, a in zip(clients, apps, strict=True)]
    finally:
        gate.opened.set()
        for client, app in zip(clients, apps, strict=True):
            await client.aclose()
            await app.state.adapters.aclose()


def adapters(gateway: Gateway) -> Adapters:
    found: Adapters = gateway.app.state.adapters
    return found


def joined_here(gateways: list[Gateway]) -> int:
    """Reads that joined a call in flight in their own process."""
    total = 0
    for gateway in gateways:
        collapse = adapters(gateway).of(INVOICED).upstream.collapse
        assert collapse is not None
        total += collapse.flights.joined
    return total


def waiting_elsewhere(gateways: list[Gateway], *, begun: bool = False) -> int:
    """Processes waiting on another process's call (``begun``: waits ever begun)."""
    flights = [adapters(gateway).shared_flights for gateway in gateways]
    return sum(
        (shared.waits if begun else shared.waiting) for shared in flights if shared is not None
    )


async def until(ready: Callable[[], bool], gate: Gate) -> None:
    """Returns once ``ready``; a guard against a hang, not a timing: it takes ms."""
    for _ in range(2000):
        if ready():
            return
        await asyncio.sleep(0.005)
    gate.opened.set()
    raise AssertionError(f"the reads never all arrived: {len(gate.held)} calls held")


def reads_everywhere(gateways: list[Gateway]) -> asyncio.Future[list[dict[str, Any]]]:
    return asyncio.gather(
        *(
            gateway.execute(FIRST_PAGE, accounting=True)
            for gateway in gateways
            for _ in range(PER_GATEWAY)
        )
    )


def task_reads(gateway: Gateway) -> list[httpx.Request]:
    return gateway.record("/invoiced")  # every app shares the transport: one record


async def test_identical_reads_in_two_gateways_make_one_vendor_call(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with two_gateways(settings) as (gate, gateways):
        sent = task_reads(gateways[0])
        answers = reads_everywhere(gateways)
        # One call out, four reads joined it in its process, and the other process's
        # one call in flight (its four others joined) waits on it through Redis.
        await until(
            lambda: (
                len(gate.held) == 1
                and joined_here(gateways) == 2 * (PER_GATEWAY - 1)
                and waiting_elsewhere(gateways) == 1
            ),
            gate,
        )
        gate.opened.set()
        done = await answers
    assert len(sent) == 1
    assert all(codes(answer) == [] for answer in done)
    assert len(done[0]["data"]["tasks"]["nodes"]) == 5
    assert all(answer["data"] == done[0]["data"] for answer in done)
    accounts = [answer["extensions"]["upstreamCalls"] for answer in done]
    assert sum(account["total"] for account in accounts) == 1
    assert sum(account["collapsed"] for account in accounts) == 2 * PER_GATEWAY - 1


async def test_a_failing_owner_leaves_the_other_gateway_its_own_attempt(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with two_gateways(settings, FailsFirst) as (gate, gateways):
        sent = task_reads(gateways[0])
        answers = reads_everywhere(gateways)
        await until(lambda: len(gate.held) == 1 and waiting_elsewhere(gateways) == 1, gate)
        # The owner's call fails; the waiting process then calls for itself.
        gate.opened.set()
        done = await answers
    assert len(sent) == 2
    by_gateway = [done[:PER_GATEWAY], done[PER_GATEWAY:]]
    outcomes = sorted({codes(answer)[0] if codes(answer) else "OK" for answer in side}.pop()
                      for side in by_gateway)  # fmt: skip
    assert outcomes == ["OK", "UPSTREAM_UNAVAILABLE"]
    assert all(len({str(codes(a)) for a in side}) == 1 for side in by_gateway)


async def test_a_dead_owners_lease_is_taken_over_by_one_of_the_others(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    client = Redis.from_url(redis.url)
    async with two_gateways(settings) as (gate, gateways):
        gate.opened.set()
        assert codes(await gateways[0].execute(FIRST_PAGE)) == []
        # The read's key, from the answer its owner left for waiters.
        [answer_key] = [key async for key in client.scan_iter(f"{KEY_PREFIX}read-answer:*")]
        read_key = answer_key.decode().removeprefix(f"{KEY_PREFIX}read-answer:").rsplit(":", 1)[0]
        lease = f"{KEY_PREFIX}read-lease:{read_key}"
        # A process took the lease and died: it will never answer nor let it go.
        await client.set(lease, b"a-dead-process", px=60_000)
        gate.opened.clear()
        gate.held.clear()
        sent = task_reads(gateways[0])
        answers = reads_everywhere(gateways)
        await until(lambda: waiting_elsewhere(gateways) == 2, gate)
        # Its lease lapses (as Redis expires it): one waiter calls, the other waits on it.
        await client.delete(lease)
        await until(
            lambda: (
                len(gate.held) == 1
                and waiting_elsewhere(gateways) == 1
                and waiting_elsewhere(gateways, begun=True) == 3
            ),
            gate,
        )
        gate.opened.set()
        done = await answers
    await client.aclose()
    assert len(sent) == 1
    assert all(codes(answer) == [] for answer in done)
    assert all(answer["data"] == done[0]["data"] for answer in done)


async def test_with_redis_gone_reads_still_answer_and_collapse_per_process(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with two_gateways(settings) as (gate, gateways):
        redis.stop()
        sent = task_reads(gateways[0])
        answers = reads_everywhere(gateways)
        await until(lambda: joined_here(gateways) == 2 * (PER_GATEWAY - 1), gate)
        gate.opened.set()
        done = await answers
        again = await gateways[0].execute(FIRST_PAGE)
    assert len(sent) == 3  # one a process for the burst, one for the read after
    assert all(codes(answer) == [] for answer in [*done, again])
    warnings = [
        record
        for record in caplog.records
        if record.name == "gateway.storage" and record.levelname == "WARNING"
    ]
    assert len(warnings) == 2  # one per process, for the whole outage
    assert all(redis.url not in record.getMessage() for record in warnings)
