"""CPU per `/graphql` request, in process: the figure to compare two versions of the
hot path by (run each a few times, alternating: a shared machine is noisy).

The gateway app is driven through httpx's ASGI transport, so no server is timed;
the sandboxes run in a process of their own, reached over loopback HTTP through the
gateway's real upstream transport, so their CPU is not counted. Every
cache and collapse is off, so each request really calls the vendor. The driver's
own cost (httpx building requests and reading answers) is measured against a
trivial ASGI app and reported apart, and subtracted from the gateway's figure.

    .venv/bin/python -m benchmarks.cpu [requests]
    py-spy record --format raw -o profile.txt -- .venv/bin/python -m benchmarks.cpu 20000
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from starlette.types import Receive, Scope, Send

from benchmarks.peer.procs import free_port
from benchmarks.settings import settings_with
from gateway.http.app import create_app
from gateway.http.sandboxes import sandbox_env

QUERY = "{ tasks(first: 10) { nodes { id name action dueDate complete } } }"
# Every read reaches the vendor: no shared cache, no collapsing, no pollers, no auth.
LEAN = {
    "GATEWAY_CACHE": "false",
    "GATEWAY_COLLAPSE_READS": "false",
    "GATEWAY_POLL": "false",
    "GATEWAY_AUTH": "false",
}
WARM_UP = 300


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """The sandboxes served by their own process; yields their base URL."""
    port = free_port()
    command = [sys.executable, "-c", "from gateway.cli import main; main()", "sandbox"]
    command += ["--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base_url + "/", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the sandbox process did not start") from None
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def trivial(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app answering with a fixed JSON body: what driving a request costs."""
    while (await receive()).get("more_body", False):
        pass
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"data":{}}'})


async def cpu_per_request(client: httpx.AsyncClient, requests: int) -> float:
    """Microseconds of this process's CPU per request, after a warm-up."""
    body = {"query": QUERY}
    headers = {"content-type": "application/json"}
    for _ in range(WARM_UP):
        answer = (await client.post("/graphql", json=body, headers=headers)).json()
        # A figure from a failed answer would flatter the gateway.
        if "errors" in answer:
            raise SystemExit(f"benchmark query failed: {answer['errors']}")
    started = time.process_time()
    for _ in range(requests):
        await client.post("/graphql", json=body, headers=headers)
    return (time.process_time() - started) / requests * 1e6


async def main(requests: int) -> None:
    with sandbox_process() as base_url:
        settings = settings_with({**sandbox_env(base_url), **LEAN})
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
        ):
            total = await cpu_per_request(client, requests)
        driver_transport = httpx.ASGITransport(app=trivial)
        async with httpx.AsyncClient(transport=driver_transport, base_url="http://x") as driver:
            driving = await cpu_per_request(driver, requests)
    print(
        f"{QUERY}\n  {requests} requests: {total:.0f} us CPU per request "
        f"(driver {driving:.0f} us), gateway {total - driving:.0f} us"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
