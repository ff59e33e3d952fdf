"""Changes the users should come to see: behind the gateway's back and through it.

`python -m benchmarks.capacity.changer --url U --vendors V --key K --targets T --duration S
--out O`: every ``BEHIND_EVERY`` seconds one change through a sandbox's
``POST <prefix>/_admin/changes`` (round robin over Invoiced, Zoho and Fakturoid, the
vendors of ``workItems``), and every ``THROUGH_EVERY`` seconds a mutation through the
gateway (Invoiced and Zoho in turn). Each change is made detectable: a title gets a
marker no item had, a Fakturoid todo (whose one editable field is ``completed``) is ticked
off or unticked. Each is kept with the moment its maker had it confirmed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.capacity.targets import Targets, vendor_of

BEHIND_EVERY = 5.0
THROUGH_EVERY = 10.0
UPDATE_TASK = (
    "mutation Rename($id: ID!, $name: String!) "
    "{ updateTask(input: {id: $id, name: $name}) { task { id } } }"
)
UPDATE_PROJECT_TASK = (
    "mutation Rename($id: ID!, $name: String!) "
    "{ updateProjectTask(input: {id: $id, name: $name}) { projectTask { id } } }"
)


class Changer:
    def __init__(self, client: httpx.AsyncClient, targets: Targets, args: argparse.Namespace):
        self.client, self.args = client, args
        self.marks = itertools.count(1)
        self.made: list[dict[str, Any]] = []
        self.failed: Counter[str] = Counter()  # why a change was not made, by reason
        # Behind the back and through the gateway change different items (alternate ones),
        # so an event caused by one is never taken for news of the other.
        page, zoho = targets.first_page, targets.by_id.get("zoho", [])
        todos = targets.by_id.get("fakturoid", [])
        self.behind = itertools.cycle(
            [("invoiced", page[0::2]), ("zoho", zoho[0::2]), ("fakturoid", todos)]
        )
        self.through = itertools.cycle([("invoiced", page[1::2]), ("zoho", zoho[1::2])])
        self.turns: dict[tuple[str, str], itertools.cycle[str]] = {}
        self.completed = dict(targets.completed)

    def _next(self, how: str, vendor: str, ids: list[str]) -> str:
        # Each vendor's items in turn, so a change is not undone before anyone saw it.
        return next(self.turns.setdefault((how, vendor), itertools.cycle(ids)))

    async def behind_the_back(self) -> None:
        vendor, ids = next(self.behind)
        if not ids:
            return
        global_id = self._next("behind", vendor, ids)
        _, vendor_id = vendor_of(global_id)
        mark = f"[bench {next(self.marks)}]"
        value: str | bool
        if vendor == "invoiced":
            change = {"type": "task", "id": int(vendor_id), "set": {"name": f"Task {mark}"}}
            field, value = "title", f"Task {mark}"
        elif vendor == "zoho":
            task_id = vendor_id.rsplit("/", 1)[-1]
            change = {"type": "task", "id": task_id, "set": {"task_name": f"Task {mark}"}}
            field, value = "title", f"Task {mark}"
        else:
            completed = not self.completed.get(global_id, False)
            change = {"type": "todo", "id": int(vendor_id), "set": {"completed": completed}}
            field, value = "completed", completed
        sent = time.time()
        answer = await self._post(f"{self.args.vendors}/{vendor}/_admin/changes", change)
        if answer is None:
            return
        if vendor == "fakturoid":
            self.completed[global_id] = bool(value)
        self._keep("behind", vendor, global_id, field, value, sent)

    async def through_the_gateway(self) -> None:
        vendor, ids = next(self.through)
        if not ids:
            return
        global_id = self._next("through", vendor, ids)
        title = f"Task [bench {next(self.marks)}]"
        query = UPDATE_TASK if vendor == "invoiced" else UPDATE_PROJECT_TASK
        sent = time.time()
        variables = {"id": global_id, "name": title}
        body = {"query": query, "variables": variables}
        answer = await self._post(self.args.url, body, {"x-api-key": self.args.key})
        if answer is None:
            return
        self._keep("through", vendor, global_id, "title", title, sent)

    async def _post(
        self, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        """The answer, or None with the reason counted when the change was not made."""
        try:
            answer = await self.client.post(url, json=body, headers=headers)
        except httpx.HTTPError as failure:
            self.failed[type(failure).__name__] += 1
            return None
        try:
            parsed: dict[str, Any] = answer.json()
        except ValueError:
            parsed = {}
        errors = parsed.get("errors") or []
        for error in errors:
            extensions = error.get("extensions") or {}
            vendor = f" ({extensions['vendor']})" if "vendor" in extensions else ""
            self.failed[extensions.get("code", "NO_CODE") + vendor] += 1
        if answer.status_code != 200 and not errors:
            self.failed[f"HTTP {answer.status_code}"] += 1
        return parsed if answer.status_code == 200 and not errors else None

    def _keep(self, how: str, vendor: str, global_id: str, field: str, value: object,
              sent: float) -> None:  # fmt: skip
        self.made.append({"how": how, "vendor": vendor, "id": global_id, "field": field,
                          "value": value, "sent": sent, "at": time.time()})  # fmt: skip


async def every(seconds: float, until: float, step: Any) -> None:
    next_at = time.monotonic() + seconds / 2
    while time.time() < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if time.time() < until:
            await step()
        next_at += seconds


async def run(targets: Targets, args: argparse.Namespace) -> Changer:
    until = time.time() + args.duration
    # A change every 5 s on a connection the server closes after 5 s idle (uvicorn's
    # keep-alive) races the close and fails now and then with ReadError: connections are
    # not reused past 2 s, so each change is sent on a connection the server still holds.
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        changer = Changer(client, targets, args)
        await asyncio.gather(every(BEHIND_EVERY, until, changer.behind_the_back),
                             every(THROUGH_EVERY, until, changer.through_the_gateway))  # fmt: skip
    return changer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--url", "--vendors", "--key"):
        parser.add_argument(name, required=True)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    changer = asyncio.run(run(Targets.load(args.targets), args))
    args.out.write_bytes(orjson.dumps({"made": changer.made, "failed": changer.failed}))


if __name__ == "__main__":
    main()
