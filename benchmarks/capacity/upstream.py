"""The four sandboxes as the vendors: their own quotas, network latency, every call counted.

`python -m benchmarks.capacity.upstream --port P --latency-ms 80` serves
``create_sandbox_app()`` unchanged behind an ASGI wrapper that waits half the latency before
the sandbox sees a call and half after it answered (the two network legs of a round trip
to the vendor), so the sandboxes' quotas and answers are their own. The wrapper counts
each call by vendor and status; ``GET /_bench/calls`` reads the counts. Admin changes
(``/_admin/``) are the benchmark's own traffic: neither delayed nor counted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

import orjson
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.sandboxes import create_sandbox_app

CALLS_PATH = "/_bench/calls"


class DelayedAndCounted:
    """``app`` with ``latency`` seconds around each vendor call, and the calls counted."""

    def __init__(self, app: ASGIApp, latency: float) -> None:
        self.app, self.half = app, latency / 2
        # "<vendor> <status>" -> calls, e.g. "zoho 200", "zoho 429".
        self.calls: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or "/_admin/" in path:
            await self.app(scope, receive, send)
            return
        if path == CALLS_PATH:
            await _json(send, dict(self.calls))
            return
        vendor = path.strip("/").split("/", 1)[0]
        status = 0

        async def late_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                await asyncio.sleep(self.half)
            await send(message)

        await asyncio.sleep(self.half)
        try:
            await self.app(scope, receive, late_send)
        finally:
            self.calls[f"{vendor} {status}"] += 1


async def _json(send: Send, body: object) -> None:
    raw = orjson.dumps(body)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": raw})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    app = DelayedAndCounted(create_sandbox_app(), args.latency_ms / 1000)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
