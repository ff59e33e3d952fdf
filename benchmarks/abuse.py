"""What hostile operations cost: time and upstream calls, with the limits on and off.

Run with `make bench`. Each case is sent to an in-process gateway wired to the
sandboxes through a transport that counts every upstream request. "limits off"
raises every operation limit out of the way, to show what the case would cost
the vendors without them; cases too costly to run that way say so.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from benchmarks.settings import settings_with
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS

LIMITS_OFF = {
    "GATEWAY_MAX_DEPTH": "1000",
    "GATEWAY_MAX_ALIASES": "100000",
    "GATEWAY_MAX_TOKENS": "10000000",
    "GATEWAY_MAX_FIELDS": "1000000000",
    "GATEWAY_MAX_UPSTREAM_CALLS": "1000000",
}


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


@dataclass
class Outcome:
    status: int
    code: str
    seconds: float
    upstream: int


Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def measure(send: Send, *, limits: bool) -> Outcome:
    settings = settings_with({} if limits else LIMITS_OFF)
    counter = CountingTransport(httpx.ASGITransport(app=create_sandbox_app()))
    app = create_app(settings, transports=dict.fromkeys(VENDORS, counter))
    # An unhandled error must show as the 500 a real server would send.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        started = time.perf_counter()
        response = await send(client)
        seconds = time.perf_counter() - started
    await app.state.adapters.aclose()
    try:
        errors = response.json().get("errors") or []
        code = errors[0].get("extensions", {}).get("code", "-") if errors else "ok"
    except ValueError:
        code = "(not JSON)"
    return Outcome(response.status_code, code, seconds, counter.requests)


def post(query: str, **extra: object) -> Send:
    async def send(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/graphql", json={"query": query, **extra}, timeout=300)

    return send


def post_raw(body: bytes, content_type: str = "application/json") -> Send:
    async def send(client: httpx.AsyncClient) -> httpx.Response:
        headers = {"content-type": content_type}
        return await client.post("/graphql", content=body, headers=headers, timeout=300)

    return send


def cross_site_get(query: str) -> Send:
    async def send(client: httpx.AsyncClient) -> httpx.Response:
        # What an <img src> sends: a plain GET with no preflight-forcing header.
        return await client.get("/graphql", params={"query": query})

    return send


def aliases(count: int, field: str) -> str:
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


def entities(count: int) -> str:
    ids = ", ".join(f'{{__typename: "Task", id: "{_task_id(i)}"}}' for i in range(count))
    return f"{{ _entities(representations: [{ids}]) {{ ... on Task {{ id }} }} }}"


def _task_id(index: int) -> str:
    raw = f"invoiced:Task:{700 + index}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NESTED = (
    "{ projects(first: 100) { nodes { tasks(first: 100) { nodes { project { "
    "tasks(first: 100) { nodes { project { tasks(first: 100) { nodes { id } } } } } } } } } } }"
)


def doubling_fragments(levels: int) -> str:
    """Under a kilobyte for 23 levels: each fragment spreads the previous one twice,
    so the document stands for 2**levels fields once expanded."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [
        f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)
    ]
    return f"{{ ...F{levels} }} " + " ".join(fragments)


def deep_json(levels: int) -> bytes:
    return b'{"query": "{ __typename }", "variables": ' + b"[" * levels + b"]" * levels + b"}"


CASES: list[tuple[str, Send, bool]] = [
    (
        "1,000 aliases of tasks(first: 1) { totalCount }",
        post(aliases(1000, "tasks(first: 1) { totalCount }")),
        True,
    ),
    (
        "1,000 aliases of invoices(first: 1) { totalCount }",
        post(aliases(1000, "invoices(first: 1) { totalCount }")),
        True,
    ),
    ("_entities with 200 representations", post(entities(200)), True),
    ("7-level Project -> tasks -> project nesting", post(NESTED), False),
    (
        f"23 fragments each spreading the previous twice ({len(doubling_fragments(23))} bytes)",
        post(doubling_fragments(23)),
        True,
    ),
    ("50 MiB body", post_raw(b'{"query": "' + b" " * (50 << 20) + b'{ __typename }"}'), False),
    ("JSON nested 10,000 deep", post_raw(deep_json(10_000)), False),
    ('a JSON body that is "x"', post_raw(b'"x"'), False),
    ("non-UTF-8 body", post_raw(b'{"query": "\xff\xfe"}'), False),
    ("cross-site GET (an <img>)", cross_site_get("{ tasks(first: 1) { totalCount } }"), False),
]


def line(label: str, outcome: Outcome) -> str:
    return (
        f"  {label:<11} HTTP {outcome.status} {outcome.code:<22} "
        f"{outcome.seconds * 1000:8.1f} ms  {outcome.upstream:5d} upstream calls"
    )


async def main() -> None:
    print("Hostile operations (in-process sandboxes; upstream calls counted at the transport):")
    for name, send, compare in CASES:
        print(name)
        print(line("limits on", await measure(send, limits=True)))
        if compare:
            print(line("limits off", await measure(send, limits=False)))


if __name__ == "__main__":
    asyncio.run(main())
