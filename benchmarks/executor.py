"""CPU per request with each executor (GATEWAY_EXECUTOR), in process.

The sandboxes answer each distinct upstream request once; afterwards their recorded
answers are replayed, so the figure is the gateway's own work (HTTP in and out, the
adapter, execution, serialisation) and not the emulators'. Run with
`python -m benchmarks.executor` (about 20 s)."""

from __future__ import annotations

import asyncio
import os
import time

import httpx

from benchmarks.settings import settings_with
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS

ROUNDS = int(os.environ.get("BENCH_EXECUTOR_ROUNDS", "400"))
CASES = {
    "tasks(first: 10) x 5 fields": (
        "{ tasks(first: 10) { nodes { id name action dueDate complete } } }"
    ),
    "tasks(first: 100) x 12 fields": (
        "{ tasks(first: 100) { nodes { id name action dueDate complete title vendor "
        "completed customerId userId createdAt updatedAt } } }"
    ),
}


class Replay(httpx.AsyncBaseTransport):
    """Each distinct request goes to the sandbox once; its answer is replayed after."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.answers: dict[tuple[str, str], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        if key not in self.answers:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            headers = [
                (name, value)
                for name, value in response.headers.raw
                if name.lower() not in (b"content-encoding", b"content-length")
            ]
            self.answers[key] = (response.status_code, headers, body)
        status, headers, body = self.answers[key]
        return httpx.Response(status, headers=headers, content=body)


async def cpu_per_request(executor: str, query: str) -> float:
    settings = settings_with({"GATEWAY_EXECUTOR": executor})
    replay = Replay(httpx.ASGITransport(app=create_sandbox_app(settings.plugins)))
    app = create_app(settings, transports=dict.fromkeys(VENDORS, replay))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for _ in range(20):  # warm: plans, caches, the replayed answers
            response = await client.post("/graphql", json={"query": query})
            assert "errors" not in response.json(), response.text
        started = time.process_time()
        for _ in range(ROUNDS):
            await client.post("/graphql", json={"query": query})
        spent = time.process_time() - started
    await app.state.adapters.aclose()
    return spent / ROUNDS * 1e6


async def main() -> None:
    for case, query in CASES.items():
        figures = {ex: await cpu_per_request(ex, query) for ex in ("graphql-core", "compiled")}
        core, compiled = figures["graphql-core"], figures["compiled"]
        print(
            f"{case}: graphql-core {core:,.0f} µs CPU per request, compiled {compiled:,.0f} µs "
            f"({core / compiled:.2f}x)"
        )


if __name__ == "__main__":
    asyncio.run(main())
