"""The circuit breaker per vendor, through the gateway, for every vendor.

After GATEWAY_BREAKER_FAILURES consecutive vendor faults the vendor is not
called for GATEWAY_BREAKER_COOLDOWN seconds; then one probe decides. The
breakers' clocks are replaced, so nothing here sleeps through a cool-down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.upstream.breaker import CircuitBreaker
from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_adapter_contract import CASES, VendorCase

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

FAILURES = 3
COOLDOWN = 30.0

Respond = Callable[[httpx.Request], httpx.Response]


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


VENDOR_FAULTS: dict[str, Respond] = {
    "500": lambda r: httpx.Response(500, text="down"),
    "503": lambda r: httpx.Response(503, text="down"),
    "timeout": _timeout,
    "refused": _refused,
}


class VendorCalls:
    """Counts every call to one vendor and answers for it while ``respond`` is set."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        self.respond: Respond | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.startswith(self.prefix):
            return None
        self.count += 1
        return self.respond(request) if self.respond else None


class Harness:
    def __init__(self, gateway: Gateway, app: Starlette, case: VendorCase) -> None:
        self.gateway = gateway
        self.case = case
        self.calls = VendorCalls(case.prefix)
        gateway.inject(self.calls)
        self.now = 1000.0
        breaker = app.state.adapters.of(case.plugin).upstream.breaker
        assert isinstance(breaker, CircuitBreaker)
        self.breaker = breaker
        self.breaker.clock = lambda: self.now

    async def query(self) -> dict[str, Any]:
        return await self.gateway.execute(self.case.query)

    async def fail_until_open(self, respond: Respond) -> None:
        self.calls.respond = respond
        # Some queries make more than one call; count calls, not queries.
        for _ in range(FAILURES):
            body = await self.query()
            assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
            if self.calls.count >= FAILURES:
                break
        assert self.calls.count == FAILURES

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        response = await self.gateway.client.get("/readyz")
        body: dict[str, Any] = response.json()
        return response.status_code, body


@pytest.fixture(params=CASES, ids=lambda c: c.vendor)
async def harness(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    case: VendorCase = request.param
    async with gateway_with(
        monkeypatch,
        GATEWAY_BREAKER_FAILURES=str(FAILURES),
        GATEWAY_BREAKER_COOLDOWN=str(COOLDOWN),
        # Each query its own call: a query sent while an identical probe is out would
        # otherwise wait for the probe's answer instead of meeting the breaker.
        GATEWAY_COLLAPSE_READS="false",
    ) as gateway:
        # A first query gets any OAuth token, so the faults meet the API itself.
        assert "errors" not in await gateway.execute(case.query)
        yield Harness(gateway, gateway.app, case)


@pytest.mark.parametrize("fault", list(VENDOR_FAULTS))
async def test_repeated_vendor_faults_open_the_breaker(harness: Harness, fault: str) -> None:
    await harness.fail_until_open(VENDOR_FAULTS[fault])

    body = await harness.query()
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    extensions = body["errors"][0]["extensions"]
    assert extensions["vendor"] == harness.case.vendor
    assert extensions["retryAfter"] == pytest.approx(COOLDOWN)
    assert harness.calls.count == FAILURES  # failed fast: no upstream call

    harness.now += 10
    body = await harness.query()
    assert body["errors"][0]["extensions"]["retryAfter"] == pytest.approx(COOLDOWN - 10)
    assert harness.calls.count == FAILURES

    # The other vendors are not affected.
    for other in CASES:
        if other is not harness.case:
            assert "errors" not in await harness.gateway.execute(other.query)


async def test_readyz_reports_open_breakers_live_without_probing_again(harness: Harness) -> None:
    status, body = await harness.readyz()
    assert status == 200
    assert body["status"] == "ready"
    assert {name: v["breaker"] for name, v in body["vendors"].items()} == {
        case.vendor: "closed" for case in CASES
    }
    assert harness.calls.count == 1  # the vendor's readiness probe, kept for a few seconds
    harness.calls.count = 0

    await harness.fail_until_open(VENDOR_FAULTS["503"])
    status, body = await harness.readyz()
    assert status == 503
    assert body["status"] == "not_ready"
    assert body["openBreakers"] == [harness.case.vendor]
    report = body["vendors"][harness.case.vendor]
    assert report["breaker"] == "open"
    assert report["ready"] is False
    assert report["reason"] == "UPSTREAM_UNAVAILABLE"
    assert report["retryAfter"] == pytest.approx(COOLDOWN)
    assert harness.calls.count == FAILURES  # breakers are read live; no probe was sent

    harness.now += COOLDOWN
    status, body = await harness.readyz()
    assert status == 200
    assert body["vendors"][harness.case.vendor]["breaker"] == "half_open"
    assert harness.calls.count == FAILURES


async def test_after_the_cooldown_one_probe_closes_it(harness: Harness) -> None:
    await harness.fail_until_open(VENDOR_FAULTS["500"])
    harness.now += COOLDOWN
    harness.calls.respond = None  # the vendor has recovered

    # Hold the probe at the vendor, so other requests arrive while it is out.
    release = asyncio.Event()
    probe_sent = asyncio.Event()
    inner = harness.gateway.transport.inner

    class Held(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith(harness.case.prefix):
                probe_sent.set()
                await release.wait()
            return await inner.handle_async_request(request)

    harness.gateway.transport.inner = Held()
    probe = asyncio.ensure_future(harness.query())
    await asyncio.wait_for(probe_sent.wait(), timeout=5)
    during = await asyncio.wait_for(harness.query(), timeout=5)
    assert codes(during) == ["UPSTREAM_UNAVAILABLE"]
    assert "retryAfter" in during["errors"][0]["extensions"]
    assert harness.calls.count == FAILURES + 1  # the probe only
    release.set()
    assert "errors" not in await probe

    assert harness.breaker.state == "closed"
    before = harness.calls.count
    assert "errors" not in await harness.query()
    assert harness.calls.count > before
    status, _ = await harness.readyz()
    assert status == 200


async def test_a_failed_probe_opens_it_again(harness: Harness) -> None:
    await harness.fail_until_open(VENDOR_FAULTS["timeout"])
    harness.now += COOLDOWN
    body = await harness.query()  # the probe, still timing out
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert harness.calls.count == FAILURES + 1

    body = await harness.query()
    assert body["errors"][0]["extensions"]["retryAfter"] == pytest.approx(COOLDOWN)
    assert harness.calls.count == FAILURES + 1
    status, _ = await harness.readyz()
    assert status == 503


@pytest.mark.parametrize(
    "respond",
    [
        lambda r: httpx.Response(429, headers={"Retry-After": "5"}, text="slow down"),
        lambda r: httpx.Response(400, json={"error": "bad request"}),
        lambda r: httpx.Response(404, json={"error": "not found"}),
    ],
    ids=["429", "400", "404"],
)
async def test_client_errors_and_rate_limits_do_not_open_it(
    harness: Harness, respond: Respond
) -> None:
    harness.calls.respond = respond
    for attempt in range(1, FAILURES * 2 + 1):
        body = await harness.query()
        assert codes(body)  # refused, each in the vendor's own way (ReadyDesk: 404 is
        # a wrong API URL), but never for the breaker: every query reached the vendor.
        assert harness.calls.count >= attempt
    assert harness.breaker.state == "closed"
    harness.calls.respond = None  # answering again: ready, since the breaker never opened
    status, _ = await harness.readyz()
    assert status == 200


async def test_an_answer_resets_the_failure_streak(harness: Harness) -> None:
    for _ in range(3):
        harness.calls.respond = VENDOR_FAULTS["500"]
        before = harness.calls.count
        for _ in range(FAILURES - 1):
            if harness.calls.count - before < FAILURES - 1:
                await harness.query()
        assert harness.calls.count - before == FAILURES - 1
        harness.calls.respond = None
        assert "errors" not in await harness.query()
    assert harness.breaker.state == "closed"
