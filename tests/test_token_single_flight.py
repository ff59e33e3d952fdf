"""Both OAuth vendors grant tokens single-flight, sharing success and failure.

Requests that need a token while a grant is running wait for that grant and
get its outcome. Before, Fakturoid queued them behind a lock, so while the
token endpoint hung each request in turn made its own grant and waited a full
timeout: four requests answered after 1, 2, 3 and 4 timeouts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from gateway.config import Settings
from tests.conftest import Gateway, codes, gateway_settings

TIMEOUT = 0.5
CONCURRENT = 4


@dataclass(frozen=True)
class OAuthVendor:
    name: str
    query: str
    token_path: str


VENDORS = [
    OAuthVendor("zoho", "{ projects(first: 2) { nodes { id } } }", "/oauth/v2/token"),
    OAuthVendor("fakturoid", "{ todos(first: 2) { nodes { id } } }", "/oauth/token"),
]


class HeldTokenEndpoint(httpx.AsyncBaseTransport):
    """Holds every token request until ``release`` is set, counting them; then
    passes it on, or answers ``refusal`` instead when one is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport, token_path: str) -> None:
        self.inner = inner
        self.token_path = token_path
        self.release = asyncio.Event()
        self.first_request = asyncio.Event()
        self.token_requests = 0
        self.refusal: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.token_path):
            self.token_requests += 1
            self.first_request.set()
            await self.release.wait()
            if self.refusal is not None:
                return self.refusal
        return await self.inner.handle_async_request(request)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    return gateway_settings(monkeypatch, GATEWAY_UPSTREAM_TIMEOUT=str(TIMEOUT))


def hold_token_endpoint(gateway: Gateway, vendor: OAuthVendor) -> HeldTokenEndpoint:
    held = HeldTokenEndpoint(gateway.transport.inner, vendor.token_path)
    gateway.transport.inner = held
    return held


async def wait_for_first_grant(held: HeldTokenEndpoint) -> None:
    await asyncio.wait_for(held.first_request.wait(), timeout=5)
    # Let every other request reach the point where it needs the token.
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.name)
async def test_a_hanging_token_endpoint_gets_one_grant_and_all_fail_together(
    gateway: Gateway, vendor: OAuthVendor
) -> None:
    held = hold_token_endpoint(gateway, vendor)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        bodies = await asyncio.gather(*(gateway.execute(vendor.query) for _ in range(CONCURRENT)))
    finally:
        held.release.set()
    assert [codes(body) for body in bodies] == [["UPSTREAM_UNAVAILABLE"]] * CONCURRENT
    assert {body["errors"][0]["extensions"]["vendor"] for body in bodies} == {vendor.name}
    assert held.token_requests == 1
    # Generous guard: together after one timeout, not one after another.
    assert loop.time() - started < TIMEOUT * CONCURRENT


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.name)
async def test_a_refused_grant_is_shared_by_every_waiting_request(
    gateway: Gateway, vendor: OAuthVendor
) -> None:
    held = hold_token_endpoint(gateway, vendor)
    held.refusal = httpx.Response(401, json={"error": "invalid_client"})
    requests = asyncio.gather(*(gateway.execute(vendor.query) for _ in range(CONCURRENT)))
    await wait_for_first_grant(held)
    held.release.set()
    bodies = await requests
    assert [codes(body) for body in bodies] == [["UPSTREAM_AUTH"]] * CONCURRENT
    assert held.token_requests == 1


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.name)
async def test_concurrent_requests_share_one_working_grant(
    gateway: Gateway, vendor: OAuthVendor
) -> None:
    held = hold_token_endpoint(gateway, vendor)
    requests = asyncio.gather(*(gateway.execute(vendor.query) for _ in range(CONCURRENT)))
    await wait_for_first_grant(held)
    held.release.set()
    bodies = await requests
    assert all("errors" not in body for body in bodies), bodies
    assert held.token_requests == 1
    # The token is reused afterwards too.
    assert "errors" not in await gateway.execute(vendor.query)
    assert held.token_requests == 1
