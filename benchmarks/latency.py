"""The sandboxes as if they were across a network: a fixed delay on every vendor call.

`python -m benchmarks.latency --port P --latency-ms 50` serves ``create_sandbox_app()``
unchanged behind :class:`Delayed`, an ASGI wrapper that waits half the latency before the
sandbox sees a call and half after it answered (the two legs of a round trip to the vendor).
Not a byte of any answer changes, and the sandboxes' own quotas count only the time a call
spends in the sandbox, as a vendor counts calls in flight on its side.

The delay can change while the server runs, so one upstream (and its data) serves every
latency a benchmark measures: ``POST /_bench/latency?ms=200`` sets it; both it and ``GET``
answer the delay, the vendor calls answered so far and the seconds they took, from the
wrapper's first to its last byte (the vendor's answer time: the delay and the sandbox's
own), so a benchmark can tell how many upstream calls each request cost and how long a
vendor connection was held for each; ``GET /_bench/calls`` answers them by vendor and status
(``{"zoho 200": 41, "zoho 429": 2}``), for the capacity benchmark's quota figures.
Admin calls (``/_admin/``) and ``/_bench/`` are the benchmark's own traffic: neither
delayed nor counted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Settings
from gateway.http import server
from gateway.http.sandboxes import create_sandbox_app

LATENCY_PATH = "/_bench/latency"
CALLS_PATH = "/_bench/calls"
ROUTES_PATH = "/_bench/routes"


def route_of(method: str, path: str) -> str:
    """``"<vendor> <METHOD> <path>"`` with each path segment holding a digit as ``{id}``:
    which kind of read or write a call was, not which item."""
    segments = ["{id}" if any(c.isdigit() for c in part) else part
                for part in path.strip("/").split("/")]  # fmt: skip
    return f"{segments[0]} {method} /{'/'.join(segments[1:])}"


class Delayed:
    """``app`` with ``latency_ms`` milliseconds around each vendor call."""

    def __init__(self, app: ASGIApp, latency_ms: float) -> None:
        self.app = app
        self.latency_ms = latency_ms
        self.calls = 0
        # Seconds the answered calls took here, delay and sandbox together.
        self.call_seconds = 0.0
        # "<vendor> <status>" -> calls, e.g. "zoho 200", "zoho 429".
        self.by_status: Counter[str] = Counter()
        # route_of(...) -> calls: where a vendor's calls go.
        self.by_route: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or "/_admin/" in path:
            await self.app(scope, receive, send)
            return
        if path == LATENCY_PATH:
            await self._latency(scope, send)
            return
        if path == CALLS_PATH:
            await _json(send, 200, dict(self.by_status))
            return
        if path == ROUTES_PATH:
            await _json(send, 200, dict(self.by_route))
            return
        self.calls += 1
        started = time.perf_counter()
        half = self.latency_ms / 2000
        status = 0

        async def late_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if half:
                    await asyncio.sleep(half)
            await send(message)

        if half:
            await asyncio.sleep(half)
        try:
            await self.app(scope, receive, late_send)
        finally:
            vendor = path.strip("/").split("/", 1)[0]
            self.by_status[f"{vendor} {status}"] += 1
            self.by_route[route_of(scope["method"], path)] += 1
            self.call_seconds += time.perf_counter() - started

    async def _latency(self, scope: Scope, send: Send) -> None:
        if scope["method"] == "POST":
            query = dict(
                pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if pair
            )
            try:
                wanted = float(query["ms"])
            except (KeyError, ValueError):
                await _json(send, 400, {"error": "POST ?ms=<milliseconds>"})
                return
            if wanted < 0:
                await _json(send, 400, {"error": "ms must not be negative"})
                return
            self.latency_ms = wanted
        answer = {"ms": self.latency_ms, "calls": self.calls, "seconds": self.call_seconds}
        await _json(send, 200, answer)


async def _json(send: Send, status: int, body: object) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


def set_latency(base_url: str, latency_ms: float) -> None:
    """Set the delay of the server at ``base_url`` (its root, not a vendor's prefix)."""
    response = httpx.post(f"{base_url}{LATENCY_PATH}", params={"ms": f"{latency_ms:g}"})
    response.raise_for_status()


def vendor_calls(base_url: str) -> int:
    """Vendor calls the server at ``base_url`` has answered so far."""
    return vendor_answers(base_url)[0]


def vendor_answers(base_url: str) -> tuple[int, float]:
    """Vendor calls the server at ``base_url`` has answered so far, and the seconds they
    took there."""
    response = httpx.get(f"{base_url}{LATENCY_PATH}", timeout=10)
    response.raise_for_status()
    body = response.json()
    return int(body["calls"]), float(body["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="initial delay (0)")
    args = parser.parse_args()
    if args.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    gateway = Settings().gateway
    app = Delayed(create_sandbox_app(), args.latency_ms)
    # As `task-gateway sandbox` serves: uvloop, httptools, no access log.
    config = server.server_config(
        app,
        host=args.host,
        port=args.port,
        header_timeout=gateway.header_timeout,
        access_log=False,
        log_level="warning",
    )
    server.run(config)


if __name__ == "__main__":
    main()
