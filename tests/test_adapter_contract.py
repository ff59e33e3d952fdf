"""One contract, every vendor adapter: the same upstream faults give the same
GraphQL errors, with the vendor named and nothing of the upstream leaked.

Each case runs the whole path (client -> gateway -> adapter -> httpx) with the
fault injected in front of that vendor's sandbox. The vendors are the registry's:
each plugin names its sandbox and a query that reaches it (``probe_query``), so
a new vendor gets every case here and in the breaker suite for free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.plugin import AnyPlugin
from gateway.registry import PLUGINS, VENDORS
from tests.conftest import FaultyTransport, Gateway, codes, gateway_settings

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

LEAK = "db-password=hunter2 Traceback"


@dataclass(frozen=True)
class VendorCase:
    plugin: AnyPlugin

    @property
    def vendor(self) -> str:
        return self.plugin.vendor.value

    @property
    def prefix(self) -> str:
        """Where the vendor's sandbox is mounted: every call to the vendor goes below it."""
        return self.plugin.sandbox().PREFIX + "/"

    @property
    def query(self) -> str:
        return self.plugin.probe_query


CASES = [VendorCase(plugin) for plugin in PLUGINS]


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


FAULTS: dict[str, tuple[Callable[[httpx.Request], httpx.Response], str]] = {
    "500": (lambda r: httpx.Response(500, text=f"<html>{LEAK}</html>"), "UPSTREAM_UNAVAILABLE"),
    "503": (lambda r: httpx.Response(503, text=LEAK), "UPSTREAM_UNAVAILABLE"),
    "timeout": (_timeout, "UPSTREAM_UNAVAILABLE"),
    "refused": (_refused, "UPSTREAM_UNAVAILABLE"),
    "429": (
        lambda r: httpx.Response(429, headers={"Retry-After": "17"}, text=LEAK),
        "RATE_LIMITED",
    ),
    "bad-gzip": (
        lambda r: httpx.Response(
            200,
            content=b"this is not gzip",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        ),
        "UPSTREAM_BAD_RESPONSE",
    ),
    "garbage": (
        lambda r: httpx.Response(
            200, text=f"\x00\x01{LEAK}", headers={"Content-Type": "application/json"}
        ),
        "UPSTREAM_BAD_RESPONSE",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.vendor)
@pytest.mark.parametrize("fault", list(FAULTS), ids=str)
async def test_upstream_faults_map_to_the_same_codes(
    gateway: Gateway, case: VendorCase, fault: str
) -> None:
    await check_fault(gateway, case, fault, CASES)


async def check_fault(
    gateway: Gateway, case: VendorCase, fault: str, cases: list[VendorCase]
) -> None:
    """The contract for one fault: ``cases`` are every vendor the gateway serves."""
    respond, expected = FAULTS[fault]
    # A first query gets any OAuth token, so the fault meets the API itself,
    # not only the token endpoint.
    warm = await gateway.execute(case.query)
    assert "errors" not in warm, warm
    gateway.inject(lambda r: respond(r) if r.url.path.startswith(case.prefix) else None)
    body = await gateway.execute(case.query)
    assert codes(body) == [expected]
    error = body["errors"][0]
    assert error["extensions"]["vendor"] == case.vendor
    assert "hunter2" not in str(body) and "Traceback" not in str(body)
    if fault == "429":
        assert error["extensions"]["retryAfter"] == pytest.approx(17)
    # The server stays up, other vendors keep answering, and so does this one after.
    others = [c for c in cases if c is not case]
    for other in others:
        assert "errors" not in await gateway.execute(other.query)
    gateway.transport.faults.clear()
    assert (await gateway.client.get("/healthz")).status_code == 200
    again = await gateway.execute(case.query)
    assert "errors" not in again, again


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.vendor)
async def test_refused_credentials_are_upstream_auth(gateway: Gateway, case: VendorCase) -> None:
    await check_refused_credentials(gateway, case)


async def check_refused_credentials(gateway: Gateway, case: VendorCase) -> None:
    assert "errors" not in await gateway.execute(case.query)
    gateway.inject(
        lambda r: httpx.Response(401, text=LEAK) if r.url.path.startswith(case.prefix) else None
    )
    body = await gateway.execute(case.query)
    assert codes(body) == ["UPSTREAM_AUTH"]
    assert body["errors"][0]["extensions"]["vendor"] == case.vendor
    assert "hunter2" not in str(body)


class Trickle(httpx.AsyncByteStream):
    """A body that arrives a byte at a time, each within the read timeout."""

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for _ in range(20):
            await asyncio.sleep(0.05)
            yield b" "


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.vendor)
async def test_a_trickling_vendor_is_cut_off_at_the_timeout(
    monkeypatch: pytest.MonkeyPatch, case: VendorCase
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_UPSTREAM_TIMEOUT="0.3")
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    transport = FaultyTransport(sandbox)
    transport.faults.append(
        lambda r: (
            httpx.Response(200, stream=Trickle()) if r.url.path.startswith(case.prefix) else None
        )
    )
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post("/graphql", json={"query": case.query})
    assert codes(response.json()) == ["UPSTREAM_UNAVAILABLE"]
