"""The simulated dashboard users, in a process of their own so the gateway's CPU is its own.

`python -m benchmarks.capacity.users --url U --keys F --targets T --duration S --out O`:
each user, with its own API key, starts at a random moment in its first period and then
every ``PERIOD`` seconds reads the first page of ``workItems`` by due date and one item by
id. A share of them also hold a ``workItemChanged`` subscription (graphql-transport-ws).
The users share one HTTP connection pool, each request with its user's key. What every
answer showed is kept per item (``Seen``) for the staleness figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

from benchmarks.capacity.targets import BY_ID, FIRST_PAGE, Targets

PERIOD = 15.0
SUBSCRIBE = '{"query": "subscription { workItemChanged { id vendor kind } }"}'
# An item's state as a poller sees it: [seconds since the epoch, title, completed].
Sample = list[Any]


class Seen:
    """What the users saw: latencies, errors by code, item states and subscriber events."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.items: dict[str, list[Sample]] = {}
        self.events: dict[str, list[float]] = {}
        self.subscribed = 0

    def item(self, node: dict[str, Any], at: float) -> None:
        samples = self.items.setdefault(node["id"], [])
        state = [node["title"], node["completed"]]
        # A sample when the state differs from the last one kept, or a quarter second on:
        # the first sighting of any state stays within 0.25 s, in bounded memory.
        if not samples or samples[-1][1:] != state or at - samples[-1][0] >= 0.25:
            samples.append([at, *state])

    def event(self, global_id: str, at: float) -> None:
        times = self.events.setdefault(global_id, [])
        if not times or at - times[-1] >= 0.25:
            times.append(at)

    def answer(self, response: httpx.Response, started: float) -> dict[str, Any]:
        self.latencies_ms.append((time.monotonic() - started) * 1000)
        try:
            body: dict[str, Any] = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = {}
        for error in body.get("errors") or []:
            extensions = error.get("extensions") or {}
            # A vendor's error names it: RATE_LIMITED from Zoho is not the client's own.
            vendor = f" ({extensions['vendor']})" if "vendor" in extensions else ""
            self.errors[extensions.get("code", "NO_CODE") + vendor] += 1
        if response.status_code != 200 and not body.get("errors"):
            self.errors[f"HTTP {response.status_code}"] += 1
        return body.get("data") or {}


async def user(client: httpx.AsyncClient, url: str, key: str, pool: list[str],
               seen: Seen, until: float) -> None:  # fmt: skip
    headers = {"x-api-key": key, "content-type": "application/json"}
    await asyncio.sleep(random.uniform(0, min(PERIOD, until - time.time())))
    turn = random.randrange(len(pool))
    while time.time() < until:
        cycle = time.monotonic()
        for query, variables in ((FIRST_PAGE, {}), (BY_ID, {"id": pool[turn % len(pool)]})):
            started = time.monotonic()
            try:
                response = await client.post(url, headers=headers, content=orjson.dumps(
                    {"query": query, "variables": variables}))  # fmt: skip
            except httpx.HTTPError as error:
                seen.errors[type(error).__name__] += 1
                continue
            data = seen.answer(response, started)
            nodes = (data.get("workItems") or {}).get("nodes") or [data.get("node")]
            for node in nodes:
                if node and "title" in node:
                    seen.item(node, time.time())
        turn += 1
        pause = min(PERIOD - (time.monotonic() - cycle), until - time.time())
        await asyncio.sleep(max(0.0, pause))


async def subscriber(url: str, key: str, seen: Seen, until: float) -> None:
    await asyncio.sleep(random.uniform(0, min(PERIOD, until - time.time())))
    try:
        async with connect(url.replace("http://", "ws://"),
                           subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]  # fmt: skip
            init = {"type": "connection_init", "payload": {"X-API-Key": key}}
            await socket.send(orjson.dumps(init).decode())
            if orjson.loads(await socket.recv())["type"] != "connection_ack":
                seen.errors["WS_NOT_ACKNOWLEDGED"] += 1
                return
            subscribe = f'{{"id": "1", "type": "subscribe", "payload": {SUBSCRIBE}}}'
            await socket.send(subscribe)
            seen.subscribed += 1
            while (left := until - time.time()) > 0:
                try:
                    message = orjson.loads(await asyncio.wait_for(socket.recv(), left))
                except TimeoutError:
                    return
                if message.get("type") == "next":
                    change = (message["payload"].get("data") or {}).get("workItemChanged")
                    if change:
                        seen.event(change["id"], time.time())
                elif message.get("type") == "error":
                    for error in message.get("payload") or []:
                        seen.errors[(error.get("extensions") or {}).get("code", "WS_ERROR")] += 1
                    return
    except Exception as error:  # refused or dropped connections, websockets' closed errors
        seen.errors[f"WS {type(error).__name__}"] += 1


async def run(url: str, keys: list[str], targets: Targets, duration: float,
              subscribers: float) -> Seen:  # fmt: skip
    seen, until, pool = Seen(), time.time() + duration, targets.pool()
    limits = httpx.Limits(max_connections=min(len(keys), 200), max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tasks = [user(client, url, key, pool, seen, until) for key in keys]
        tasks += [subscriber(url, key, seen, until)
                  for key in keys[: round(len(keys) * subscribers)]]  # fmt: skip
        await asyncio.gather(*tasks)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--keys", type=Path, required=True, help="a JSON list of user keys")
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--subscribers", type=float, default=0.1, help="share of users")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    keys = orjson.loads(args.keys.read_bytes())
    seen = asyncio.run(run(args.url, keys, Targets.load(args.targets), args.duration,
                           args.subscribers))  # fmt: skip
    args.out.write_bytes(orjson.dumps(vars(seen)))


if __name__ == "__main__":
    main()
