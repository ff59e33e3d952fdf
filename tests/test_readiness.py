"""`/readyz`: each configured vendor probed by its plugin's cheapest read, concurrently,
bounded by a timeout and reused for GATEWAY_READY_CACHE seconds; 503 with a reason
per vendor (and nothing from upstream) when any configured vendor is not ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.http.readiness import Readiness
from gateway.http.sandboxes import sandbox_env
from gateway.registry import VENDORS
from tests.conftest import SANDBOX_BASE, Gateway, running_gateway
from tests.harness import gateway_with
from tests.test_adapter_contract import CASES, FAULTS, LEAK, VendorCase


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counted:
    """Counts the calls that reach each vendor."""

    def __init__(self) -> None:
        self.by_vendor: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> None:
        vendor = request.url.path.split("/")[1]
        self.by_vendor[vendor] = self.by_vendor.get(vendor, 0) + 1


def readiness_of(gateway: Gateway) -> Readiness:
    readiness: Readiness = gateway.app.state.readiness
    return readiness


async def readyz(gateway: Gateway) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


@pytest.fixture
async def clocked(gateway: Gateway) -> AsyncIterator[tuple[Gateway, Clock]]:
    clock = Clock()
    readiness_of(gateway).clock = clock
    yield gateway, clock


async def test_every_configured_vendor_is_probed_and_ready(
    clocked: tuple[Gateway, Clock],
) -> None:
    gateway, _ = clocked
    calls = Counted()
    gateway.inject(calls)
    status, body = await readyz(gateway)
    assert status == 200
    assert body["status"] == "ready"
    assert body["notConfigured"] == []
    assert body["openBreakers"] == []
    for case in CASES:
        assert body["vendors"][case.vendor] == {
            "ready": True,
            "breaker": "closed",
            "consecutiveFailures": 0,
        }
        assert calls.by_vendor[case.vendor] >= 1  # the probe really reached the vendor


async def test_probes_are_reused_so_readyz_cannot_hammer_vendors(
    clocked: tuple[Gateway, Clock],
) -> None:
    gateway, clock = clocked
    await readyz(gateway)  # tokens are granted here, so later rounds are one call each
    clock.now += 60
    calls = Counted()
    gateway.inject(calls)

    # Twenty at once share one round; ten more within the cache window reuse it.
    answers = await asyncio.gather(*(readyz(gateway) for _ in range(20)))
    for _ in range(10):
        answers.append(await readyz(gateway))
    clock.now += 4.9
    answers.append(await readyz(gateway))
    assert all(status == 200 for status, _ in answers)
    assert calls.by_vendor == {case.vendor: 1 for case in CASES}

    clock.now += 0.2  # past GATEWAY_READY_CACHE (5 s): the next request probes again
    await readyz(gateway)
    assert calls.by_vendor == {case.vendor: 2 for case in CASES}


# A 429 is the vendor up and answering: see the rate-limit test below.
FAILURES = [fault for fault in FAULTS if fault != "429"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.vendor)
@pytest.mark.parametrize("fault", FAILURES, ids=str)
async def test_a_failing_vendor_is_not_ready_with_its_reason_and_nothing_leaked(
    clocked: tuple[Gateway, Clock],
    case: VendorCase,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway, clock = clocked
    assert (await readyz(gateway))[0] == 200  # tokens first, so the fault meets the API
    clock.now += 60
    respond, expected = FAULTS[fault]
    gateway.inject(lambda r: respond(r) if r.url.path.startswith(case.prefix) else None)

    status, body = await readyz(gateway)
    assert status == 503
    assert body["status"] == "not_ready"
    report = body["vendors"][case.vendor]
    assert report["ready"] is False
    assert report["reason"] == expected
    assert report["message"].startswith(case.plugin.vendor.label)
    for other in CASES:
        if other is not case:
            assert body["vendors"][other.vendor]["ready"] is True
    for leaked in ("hunter2", "Traceback", "sandbox", "secret", "key"):
        assert leaked not in str(body).lower()
    assert LEAK not in caplog.text


async def test_a_hanging_vendor_is_not_ready_within_the_probe_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()
    hung = CASES[0]

    class Hanging(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith(hung.prefix):
                await release.wait()
            return await self.inner.handle_async_request(request)

    from gateway.http.sandboxes import create_sandbox_app

    inner = Hanging(httpx.ASGITransport(app=create_sandbox_app()))
    async with gateway_with(monkeypatch, inner, GATEWAY_READY_TIMEOUT="0.2") as gateway:
        try:
            # A guard against hanging for the upstream timeout (10 s), not a speed test.
            status, body = await asyncio.wait_for(readyz(gateway), timeout=5)
        finally:
            release.set()
    assert status == 503
    report = body["vendors"][hung.vendor]
    assert report["reason"] == "UPSTREAM_UNAVAILABLE"
    assert "readiness probe within 0.2 s" in report["message"]
    assert all(body["vendors"][c.vendor]["ready"] for c in CASES if c is not hung)


def _settings_without(monkeypatch: pytest.MonkeyPatch, *names: str) -> Settings:
    env = sandbox_env(SANDBOX_BASE)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in names:
        monkeypatch.delenv(name)
    return Settings()


async def test_an_unconfigured_vendor_is_named_and_does_not_block_readiness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings_without(monkeypatch, "INVOICED_API_KEY")
    async with running_gateway(settings) as gateway:
        status, body = await readyz(gateway)
    assert status == 200
    assert body["notConfigured"] == ["invoiced"]
    assert "invoiced" not in body["vendors"]


async def test_with_no_vendor_configured_it_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings_without(monkeypatch, *sandbox_env(SANDBOX_BASE))
    async with running_gateway(settings) as gateway:
        status, body = await readyz(gateway)
    assert status == 503
    assert body["vendors"] == {}
    assert body["notConfigured"] == [vendor.value for vendor in VENDORS]
    assert body["reason"] == "no vendor is configured"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.vendor)
async def test_a_rate_limited_vendor_stays_ready_and_says_so(
    clocked: tuple[Gateway, Clock], case: VendorCase
) -> None:
    # A spent vendor quota must not take the gateway (every vendor) out of rotation.
    gateway, clock = clocked
    assert (await readyz(gateway))[0] == 200  # tokens first, so the 429 meets the API
    clock.now += 60
    respond, _ = FAULTS["429"]
    gateway.inject(lambda r: respond(r) if r.url.path.startswith(case.prefix) else None)

    status, body = await readyz(gateway)
    assert status == 200
    report = body["vendors"][case.vendor]
    assert report["ready"] is True
    assert report["rateLimited"] is True
    assert report["retryAfter"] == pytest.approx(17)
    assert "reason" not in report
