"""Figures for the gateway's speed claims: fan-out concurrency, batching, overhead.

Run with `make bench`. Everything is in-process (gateway and sandboxes over
httpx ASGI transports), so the numbers show the gateway's own behaviour.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx

from benchmarks.settings import UNPROTECTED
from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from gateway.registry import VENDORS

SLOW_VENDOR_DELAY = 0.3
# Every vendor's added latency in the fan-out latency section, and its runs per sort.
FAN_OUT_DELAY = 0.1
FAN_OUT_RUNS = int(os.environ.get("BENCH_FANOUT_RUNS", "20"))


class DelayedTransport(httpx.AsyncBaseTransport):
    """Adds latency to the requests of one sandbox prefix."""

    def __init__(self, inner: httpx.AsyncBaseTransport, prefix: str, delay: float) -> None:
        self.inner, self.prefix, self.delay = inner, prefix, delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(self.prefix):
            await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)


def gateway_client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    os.environ.update({**sandbox_env("http://sandbox"), **UNPROTECTED})
    app = create_app(Settings(), transports=dict.fromkeys(VENDORS, transport))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def execute(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"X-Upstream-Accounting": "1"}
    )
    body: dict[str, Any] = response.json()
    # A figure from a failed or partial answer would flatter the gateway.
    if "errors" in body:
        raise SystemExit(f"benchmark query failed: {body['errors']}")
    return body


async def fan_out() -> None:
    # By title every vendor's items can reach the page, so every vendor is asked.
    query = "{ workItems(first: 20, sort: {field: TITLE}) { missingVendors nodes { title } } }"
    for prefix in ("/invoiced", "/zoho", "/fakturoid"):
        sandbox = httpx.ASGITransport(app=create_sandbox_app())
        async with gateway_client(DelayedTransport(sandbox, prefix, SLOW_VENDOR_DELAY)) as client:
            await execute(client, query)  # warm: tokens fetched, connections made
            started = time.perf_counter()
            body = await execute(client, query)
            elapsed = time.perf_counter() - started
        calls = body["extensions"]["upstreamCalls"]
        slow_calls = sum(1 for c in calls["calls"] if c["vendor"] == prefix.strip("/"))
        print(
            f"workItems by title, {prefix[1:]} +{SLOW_VENDOR_DELAY * 1000:.0f} ms per call: "
            f"{elapsed * 1000:.0f} ms for {calls['total']} upstream calls "
            f"({slow_calls} to the slow vendor, whose own calls alone take "
            f"{slow_calls * SLOW_VENDOR_DELAY * 1000:.0f} ms; no delay added elsewhere)"
        )


class TimedCalls(httpx.AsyncBaseTransport):
    """Adds ``delay`` to every upstream call and logs when each one ran."""

    def __init__(self, inner: httpx.AsyncBaseTransport, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.spans: list[tuple[float, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        await asyncio.sleep(self.delay)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.spans.append((started, time.perf_counter()))


def sequential_rounds(spans: list[tuple[float, float]]) -> int:
    """Calls that overlap in time are one round; the rest follow one another."""
    rounds, round_end = 0, float("-inf")
    for started, ended in sorted(spans):
        if started >= round_end:
            rounds += 1
            round_end = ended
        else:
            round_end = max(round_end, ended)
    return rounds


async def fan_out_latency(runs: int = FAN_OUT_RUNS) -> None:
    """workItems(first: 50) with every vendor slowed: p50 against rounds x delay."""
    delay_ms = FAN_OUT_DELAY * 1000
    print(f"workItems(first: 50), every vendor +{delay_ms:.0f} ms per call, p50 of {runs} runs:")
    sorts = {
        "DUE_AT": "{field: DUE_AT}",
        "CREATED_AT desc": "{field: CREATED_AT, descending: true}",
        "TITLE": "{field: TITLE}",
    }
    for label, sort in sorts.items():
        query = f"{{ workItems(first: 50, sort: {sort}) {{ missingVendors nodes {{ id }} }} }}"
        sandbox = create_sandbox_app()
        # Many runs a minute: lift the emulated per-minute quotas, not what is measured.
        sandbox.state.sandboxes["/zoho"].state.store.rate_limit = 1_000_000
        timed = TimedCalls(httpx.ASGITransport(app=sandbox), FAN_OUT_DELAY)
        samples: list[float] = []
        rounds: list[int] = []
        calls: list[int] = []
        async with gateway_client(timed) as client:
            await execute(client, query)  # warm: tokens fetched, connections made
            for _ in range(runs):
                timed.spans.clear()
                started = time.perf_counter()
                await execute(client, query)
                samples.append(time.perf_counter() - started)
                rounds.append(sequential_rounds(timed.spans))
                calls.append(len(timed.spans))
        p50 = statistics.median(samples) * 1000
        ideal = statistics.median(rounds) * delay_ms
        print(
            f"  {label:>15}: p50 {p50:.0f} ms, ideal {ideal:.0f} ms "
            f"({statistics.median(rounds):.0f} rounds), {statistics.median(calls):.0f} "
            f"upstream calls, {p50 / ideal:.2f}x ideal"
        )


async def batching() -> None:
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    async with gateway_client(sandbox) as client:
        listing = await execute(client, "{ tasks(first: 3) { nodes { id } } }")
        ids = [n["id"] for n in listing["data"]["tasks"]["nodes"]]
        aliased = " ".join(f'a{i}: node(id: "{ids[i % 3]}") {{ id }}' for i in range(12))
        body = await execute(
            client, f"{{ {aliased} nodes(ids: {ids * 3}) {{ id }} }}".replace("'", '"')
        )
        total = body["extensions"]["upstreamCalls"]["total"]
        print(f"21 node lookups of 3 distinct tasks: {total} upstream calls")


async def overhead(rounds: int = 50) -> None:
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    query = (
        "{ tasks(first: 36) { totalCount nodes { id name action dueDate complete title vendor } } }"
    )
    async with gateway_client(sandbox) as client:
        await execute(client, query)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            await execute(client, query)
            samples.append(time.perf_counter() - started)
    median = statistics.median(samples) * 1000
    print(f"tasks(first: 36) x 7 fields, in-process: median {median:.1f} ms over {rounds} runs")


class PageReads(httpx.AsyncBaseTransport):
    """Records which upstream list pages (path and query) the gateway asks for."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.pages: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.pages.append((request.url.path.split("/")[1], str(request.url)))
        return await self.inner.handle_async_request(request)


async def work_walk(pages: int = 10, first: int = 15) -> None:
    """Upstream calls of a 10-page workItems walk against the upstream pages it consumes."""
    query = (
        "query($first: Int!, $after: String, $sort: WorkItemSort) { workItems(first: $first, "
        "after: $after, sort: $sort) { pageInfo { hasNextPage endCursor } nodes { id } } }"
    )
    for sort in ({"field": "DUE_AT"}, {"field": "CREATED_AT", "descending": True}):
        reads = PageReads(httpx.ASGITransport(app=create_sandbox_app()))
        per_page: dict[str, list[int]] = {v: [] for v in ("invoiced", "zoho", "fakturoid")}
        after, items, cursor_sizes, grants = None, 0, [], 0
        async with gateway_client(reads) as client:
            for _ in range(pages):
                response = await client.post(
                    "/graphql",
                    json={
                        "query": query,
                        "variables": {"first": first, "after": after, "sort": sort},
                    },
                    headers={"X-Upstream-Accounting": "1"},
                )
                body = response.json()
                if "errors" in body:
                    raise SystemExit(f"benchmark query failed: {body['errors']}")
                calls = body["extensions"]["upstreamCalls"]["calls"]
                for vendor, reads_per_page in per_page.items():
                    # GETs are list pages (or a project's tasks); token grants are POSTs.
                    reads_per_page.append(
                        sum(1 for c in calls if c["vendor"] == vendor and c["method"] == "GET")
                    )
                grants += sum(1 for c in calls if c["method"] != "GET")
                connection = body["data"]["workItems"]
                items += len(connection["nodes"])
                after = connection["pageInfo"]["endCursor"]
                cursor_sizes.append(len(after or ""))
                if not connection["pageInfo"]["hasNextPage"]:
                    break
        label = str(sort["field"]) + (" desc" if sort.get("descending") else "")
        print(
            f"workItems walk by {label}, first: {first}: {len(cursor_sizes)} pages, "
            f"{items} items, cursor at most {max(cursor_sizes)} characters, "
            f"{grants} token grants"
        )
        for vendor, reads_per_page in per_page.items():
            consumed = len({url for v, url in reads.pages if v == vendor})
            print(
                f"  {vendor}: upstream calls per page {reads_per_page} = "
                f"{sum(reads_per_page)}; upstream pages consumed {consumed}"
            )


async def main() -> None:
    await fan_out()
    await fan_out_latency()
    await batching()
    await overhead()
    await work_walk()


if __name__ == "__main__":
    asyncio.run(main())
