"""The upstream deadline must never wedge httpx's connection pool.

httpcore 1.0.9 leaks a pool slot when a request is cancelled while it waits for
a connection that the pool has just created for it (encode/httpcore#1093): the
new connection stays "CONNECTING" forever. Cancelling upstream calls from
outside (a deadline around the whole call, a client going away) used to leave
the vendor unreachable until restart. These tests use real sockets: a local
HTTP server that answers slowly, then quickly, and a real httpx pool in front.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.core.errors import UpstreamUnavailable
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.upstream.breaker import BreakerState, CircuitBreaker
from gateway.upstream.client import Upstream, create_client
from gateway.vendors.invoiced import INVOICED
from tests.conftest import codes, gateway_settings
from tests.servers import SlowVendor, slow_vendor

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

TASK: dict[str, object] = {"id": 7, "name": "Call customer", "action": "phone", "complete": False}


@pytest.fixture
async def vendor() -> AsyncIterator[SlowVendor]:
    async with slow_vendor(delay=1.5, answer=TASK) as slow:
        yield slow


async def test_callers_cancelled_from_outside_leave_the_pool_usable(vendor: SlowVendor) -> None:
    client = httpx.AsyncClient(
        base_url=vendor.url,
        timeout=httpx.Timeout(5.0),
        limits=httpx.Limits(max_connections=3, max_keepalive_connections=3),
    )
    upstream = Upstream(INVOICED, client)
    try:
        # Many more callers than connections, abandoned one by one (clients going
        # away) while the first few are being answered and the rest are queued.
        callers = [asyncio.ensure_future(upstream.send("GET", "tasks/7")) for _ in range(60)]
        await asyncio.sleep(0.3)
        for caller in callers:
            caller.cancel()
            await asyncio.sleep(0)
        await asyncio.gather(*callers, return_exceptions=True)

        vendor.delay = 0
        started = time.monotonic()
        response = await asyncio.wait_for(upstream.send("GET", "tasks/7"), timeout=10)
        assert response.status_code == 200
        assert response.json() == TASK
        # Generous guard: the abandoned calls drain in at most 20 x 1.5 s on 3
        # connections; a wedged pool would never answer at all.
        assert time.monotonic() - started < 9
    finally:
        await upstream.aclose()


async def test_callers_cancelled_on_the_production_transport_abandon_their_calls(
    vendor: SlowVendor,
) -> None:
    # The production pool straight from the caller's task: a cancelled caller's call ends
    # with it, giving back its connection or its place in the queue.
    upstream = Upstream(INVOICED, create_client(vendor.url, timeout=5, max_connections=3))
    try:
        callers = [asyncio.ensure_future(upstream.send("GET", "tasks/7")) for _ in range(60)]
        await asyncio.wait_for(vendor.received(3), timeout=10)
        for caller in callers:
            caller.cancel()
        await asyncio.gather(*callers, return_exceptions=True)

        vendor.delay = 0
        response = await asyncio.wait_for(upstream.send("GET", "tasks/7"), timeout=10)
        assert response.json() == TASK
        # The 57 queued calls never reached the vendor, and the next one went first.
        assert vendor.requests == 4
    finally:
        await upstream.aclose()


async def test_an_abandoned_probe_leaves_the_breaker_to_the_next_call(vendor: SlowVendor) -> None:
    clock = [0.0]
    breaker = CircuitBreaker(INVOICED, failures=1, cooldown=30.0, clock=lambda: clock[0])
    upstream = Upstream(INVOICED, create_client(vendor.url, timeout=5), breaker=breaker)
    try:
        breaker.record(healthy=False, probe=False)
        clock[0] = 31.0  # half-open: the next call is the probe
        probe = asyncio.ensure_future(upstream.send("GET", "tasks/7"))
        await asyncio.wait_for(vendor.received(1), timeout=10)
        probe.cancel()
        await asyncio.gather(probe, return_exceptions=True)

        # Neither a failure (open again) nor a probe still in flight (refused).
        vendor.delay = 0
        response = await asyncio.wait_for(upstream.send("GET", "tasks/7"), timeout=10)
        assert response.json() == TASK
        assert breaker.state is BreakerState.CLOSED
    finally:
        await upstream.aclose()


async def test_a_body_trickling_on_the_production_transport_is_cut_off_at_the_deadline() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(1000):  # 50 s of body, were it allowed
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.05)
        writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    # Each byte comes well within the read timeout; only the deadline ends the call.
    upstream = Upstream(INVOICED, create_client(url, timeout=0.5))
    try:
        with pytest.raises(UpstreamUnavailable) as caught:
            await asyncio.wait_for(upstream.send("GET", "tasks/7"), timeout=10)
        assert "timed out" in str(caught.value)
    finally:
        await upstream.aclose()
        server.close()


async def test_calls_past_the_deadline_leave_the_vendor_reachable(
    monkeypatch: pytest.MonkeyPatch, vendor: SlowVendor
) -> None:
    settings = gateway_settings(
        monkeypatch,
        INVOICED_API_URL=vendor.url,
        GATEWAY_UPSTREAM_TIMEOUT="0.5",
        GATEWAY_BREAKER_FAILURES="1000",
    )
    app = create_app(settings)  # real httpx transports: a real pool of 20 connections
    query = "query($id: ID!) { task(id: $id) { name } }"
    variables = {"id": encode_id(INVOICED, "Task", 7)}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:

            async def ask() -> dict[str, object]:
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                body: dict[str, object] = response.json()
                return body

            # 100 clients against a vendor answering in 1.5 s with a 0.5 s timeout.
            answers = await asyncio.gather(*(ask() for _ in range(100)))
            assert {tuple(codes(answer)) for answer in answers} == {("UPSTREAM_UNAVAILABLE",)}

            vendor.delay = 0
            # The abandoned calls run out within the pool timeout; then the vendor
            # must answer again (a wedged pool answers "timed out" forever).
            deadline = time.monotonic() + 8
            while True:
                answer = await ask()
                if "errors" not in answer or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert answer["data"] == {"task": {"name": "Call customer"}}
    finally:
        await app.state.adapters.aclose()


async def test_a_refused_connection_is_unreachable_not_a_timeout() -> None:
    # Real sockets through the default transport: nothing listens on the port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    upstream = Upstream(INVOICED, create_client(f"http://127.0.0.1:{port}", timeout=5))
    try:
        with pytest.raises(UpstreamUnavailable) as caught:
            await upstream.send("GET", "tasks")
        assert "could not be reached" in str(caught.value)
    finally:
        await upstream.aclose()
