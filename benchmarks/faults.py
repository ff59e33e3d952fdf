"""What vendor faults cost clients: a hanging vendor, a hanging token endpoint, and
a burst of timed-out calls that used to wedge the connection pool.

Run with `make bench`. Times are wall-clock on this machine; the point is the
shape (fail fast, one shared grant, a pool that recovers), not the digits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from benchmarks.settings import settings_with
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from gateway.vendors.invoiced import INVOICED
from tests.servers import slow_vendor


class HangingTransport(httpx.AsyncBaseTransport):
    """Requests under ``prefix`` get no answer: each ends in a read timeout after ``hang`` s."""

    def __init__(self, inner: httpx.AsyncBaseTransport, prefix: str, hang: float) -> None:
        self.inner, self.prefix, self.hang = inner, prefix, hang
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith(self.prefix):
            return await self.inner.handle_async_request(request)
        self.requests += 1
        await asyncio.sleep(self.hang)
        raise httpx.ReadTimeout("no answer", request=request)


@asynccontextmanager
async def gateway(
    env: dict[str, str], transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transports = dict.fromkeys(VENDORS, transport) if transport else None
    app: Starlette = create_app(settings_with(env), transports=transports)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=60
    ) as client:
        yield client
    await app.state.adapters.aclose()


async def ask(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


def first_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors") or [{}]
    extensions: dict[str, Any] = errors[0].get("extensions", {})
    return extensions


async def hanging_vendor(requests: int = 10, hang: float = 1.0) -> None:
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    transport = HangingTransport(sandbox, "/invoiced", hang)
    print(f"Invoiced hangs ({hang:.0f} s to a timeout); {requests} requests one after another:")
    env = {"GATEWAY_UPSTREAM_TIMEOUT": str(hang)}
    async with gateway(env, transport) as client:
        for number in range(1, requests + 1):
            before = transport.requests
            started = time.perf_counter()
            error = first_error(await ask(client, "{ tasks(first: 1) { totalCount } }"))
            elapsed = time.perf_counter() - started
            print(
                f"  request {number:2d}: {elapsed * 1000:7.1f} ms  {error.get('code', 'ok'):<21} "
                f"retryAfter={error.get('retryAfter', '-')}  "
                f"{transport.requests - before} upstream calls"
            )


async def hanging_token_endpoint(clients: int = 4, hang: float = 1.0) -> None:
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    transport = HangingTransport(sandbox, "/fakturoid/api/v3/oauth/token", hang)
    print(f"Fakturoid's token endpoint hangs ({hang:.0f} s); {clients} requests at once:")
    async with gateway({"GATEWAY_UPSTREAM_TIMEOUT": str(hang)}, transport) as client:
        started = time.perf_counter()

        async def one() -> tuple[float, str]:
            body = await ask(client, "{ todos(first: 1) { nodes { id } } }")
            return time.perf_counter() - started, first_error(body).get("code", "ok")

        answers = await asyncio.gather(*(one() for _ in range(clients)))
    times = ", ".join(f"{seconds:.2f} s" for seconds, _ in answers)
    codes = sorted({code for _, code in answers})
    print(f"  answered after {times} ({', '.join(codes)}); {transport.requests} token requests")


async def pool_after_a_burst(clients: int = 100) -> None:
    task = {"id": 7, "name": "Call customer", "action": "phone", "complete": False}
    query = "query($id: ID!) { task(id: $id) { name } }"
    task_id = encode_id(INVOICED, "Task", 7)
    async with slow_vendor(delay=1.5, answer=task) as vendor:
        env = {
            "INVOICED_API_URL": vendor.url,
            "GATEWAY_UPSTREAM_TIMEOUT": "0.5",
            "GATEWAY_BREAKER_FAILURES": "1000",  # this case is about the pool, not the breaker
        }
        async with gateway(env) as client:  # real sockets: httpx's pool of 20 connections
            started = time.perf_counter()
            burst = await asyncio.gather(*(ask(client, query, id=task_id) for _ in range(clients)))
            timed_out = sum(1 for body in burst if first_error(body).get("code"))
            burst_seconds = time.perf_counter() - started
            vendor.delay = 0
            started = time.perf_counter()
            attempts = 0
            while True:
                attempts += 1
                body = await ask(client, query, id=task_id)
                if "errors" not in body or time.perf_counter() - started > 10:
                    break
                await asyncio.sleep(0.1)
            recovered = time.perf_counter() - started
    outcome = "answers again" if "errors" not in body else "still unreachable (wedged)"
    print(
        f"{clients} clients against an Invoiced answering in 1.5 s (timeout 0.5 s): "
        f"{timed_out} timed out in {burst_seconds:.2f} s; once it is fast, it {outcome} "
        f"after {recovered:.2f} s ({attempts} tries, while abandoned calls drain)"
    )


async def main() -> None:
    await hanging_vendor()
    await hanging_token_endpoint()
    await pool_after_a_burst()


if __name__ == "__main__":
    asyncio.run(main())
