"""The upstream both gateways share, the two gateways, and the proof that they answer alike.

The upstream is the gateway's own Invoiced sandbox (`task-gateway sandbox`). task-gateway
runs as `task-gateway serve` with only the Invoiced variables that `--print-env` gives.
On the other side, Mesh Compose turns ``invoiced-tasks.openapi.json`` into a supergraph
pointing at the same sandbox, and Hive Gateway serves it.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.peer.procs import Pinned, free_port, pinned, wait_until
from benchmarks.settings import UNPROTECTED

HERE = Path(__file__).resolve().parent
NODE_BIN = HERE / "node_modules" / ".bin"
TASK_GATEWAY = Path(sys.executable).parent / "task-gateway"
PAGE = 10

# One task as both gateways must show it: (id, name, action, due date as Unix time, complete).
Row = tuple[int, str, str, int | None, bool]


@dataclass(frozen=True)
class Contender:
    name: str
    process: Pinned
    url: str
    body: bytes
    rows: Callable[[dict[str, Any]], list[Row]]
    expected_answer: str = ""


def _base_env() -> dict[str, str]:
    # Nothing of the caller's environment (credentials, GATEWAY_* overrides) leaks in.
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


@contextmanager
def sandbox(cpu: int, workdir: Path) -> Iterator[tuple[Pinned, dict[str, str]]]:
    """The sandboxes on a free port, and the Invoiced variables that point at them."""
    port = free_port()
    command = [str(TASK_GATEWAY), "sandbox", "--host", "127.0.0.1", "--port", str(port)]
    printed = subprocess.run(
        [*command, "--print-env"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    variables = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in printed.splitlines()
        if line.startswith("export INVOICED_")
    )
    with pinned("sandbox", command, cpu=cpu, env=_base_env(), log=workdir / "sandbox.log") as proc:
        wait_until(proc, lambda: _answers(f"http://127.0.0.1:{port}/"))
        yield proc, variables


def expected_rows(invoiced: dict[str, str]) -> list[Row]:
    """The first page of tasks as the sandbox itself lists them."""
    response = httpx.get(
        f"{invoiced['INVOICED_API_URL']}/tasks",
        params={"per_page": PAGE},
        auth=(invoiced["INVOICED_API_KEY"], ""),
        timeout=10,
    )
    response.raise_for_status()
    return [
        (t["id"], t["name"], t["action"], t["due_date"], t["complete"]) for t in response.json()
    ]


@contextmanager
def task_gateway(cpu: int, invoiced: dict[str, str], workdir: Path) -> Iterator[Contender]:
    port = free_port()
    env = {
        **_base_env(),
        **invoiced,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        # Parity: Hive Gateway writes no line per request by default (the access line,
        # and the per-operation line at INFO).
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        # Parity: the Hive side checks no client either.
        **UNPROTECTED,
    }
    log = workdir / "task-gateway.log"
    with pinned("task-gateway", [str(TASK_GATEWAY), "serve"], cpu=cpu, env=env, log=log) as proc:
        wait_until(proc, lambda: _answers(f"http://127.0.0.1:{port}/healthz"))
        query = f"{{ tasks(first: {PAGE}) {{ nodes {{ id name action dueDate complete }} }} }}"
        yield Contender(
            "task-gateway", proc, f"http://127.0.0.1:{port}/graphql", _body(query), _tg_rows
        )


def _tg_rows(data: dict[str, Any]) -> list[Row]:
    rows = []
    for node in data["tasks"]["nodes"]:
        # Global ids are base64url (unpadded) of "invoiced:Task:<id>".
        global_id = base64.urlsafe_b64decode(node["id"] + "=" * (-len(node["id"]) % 4)).decode()
        due = node["dueDate"] and int(datetime.fromisoformat(node["dueDate"]).timestamp())
        vendor_id = int(global_id.removeprefix("invoiced:Task:"))
        rows.append((vendor_id, node["name"], node["action"].lower(), due, node["complete"]))
    return rows


def compose_supergraph(invoiced: dict[str, str], workdir: Path) -> Path:
    if not (NODE_BIN / "mesh-compose").exists():
        raise SystemExit("benchmarks/peer/node_modules is missing: run `make bench-peer` (npm ci)")
    output = workdir / "supergraph.graphql"
    result = subprocess.run(
        [str(NODE_BIN / "mesh-compose"), "-c", "compose.config.mjs", "-o", str(output)],
        cwd=HERE,
        env={**_base_env(), **invoiced},
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise SystemExit(f"mesh-compose failed:\n{result.stderr[-2000:]}")
    return output


@contextmanager
def hive_gateway(cpu: int, supergraph: Path, workdir: Path) -> Iterator[Contender]:
    port = free_port()
    command = [
        str(NODE_BIN / "hive-gateway"), "supergraph", str(supergraph),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    # NODE_ENV=production as deployed; the work directory holds no gateway config file,
    # so Hive Gateway runs with its defaults (one process, no usage reporting).
    env = {**_base_env(), "NODE_ENV": "production"}
    log = workdir / "hive-gateway.log"
    with pinned("hive-gateway", command, cpu=cpu, env=env, log=log, cwd=workdir) as proc:
        wait_until(proc, lambda: _answers(f"http://127.0.0.1:{port}/healthcheck"))
        query = f"{{ tasks(per_page: {PAGE}) {{ id name action due_date complete }} }}"
        yield Contender(
            "hive-gateway", proc, f"http://127.0.0.1:{port}/graphql", _body(query), _hive_rows
        )


def _hive_rows(data: dict[str, Any]) -> list[Row]:
    return [(t["id"], t["name"], t["action"], t["due_date"], t["complete"]) for t in data["tasks"]]


def verified(contender: Contender, expected: list[Row]) -> Contender:
    """The contender with the exact answer every request under load must get.

    The answer must carry the sandbox's first page with no errors, and be the same
    twice running, so autocannon can count any other answer as a mismatch.
    """
    answers = [_post(contender) for _ in range(2)]
    body: dict[str, Any] = orjson.loads(answers[0])
    if body.get("errors") or "data" not in body:
        raise SystemExit(f"{contender.name} answered with errors: {answers[0][:2000]}")
    rows = contender.rows(body["data"])
    if rows != expected:
        raise SystemExit(f"{contender.name} answered other tasks:\n{rows}\nexpected\n{expected}")
    if answers[1] != answers[0]:
        raise SystemExit(f"{contender.name} answers differ from one request to the next")
    return Contender(
        contender.name, contender.process, contender.url, contender.body, contender.rows, answers[0]
    )


def _post(contender: Contender) -> str:
    response = httpx.post(
        contender.url,
        content=contender.body,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    if response.status_code != 200:
        raise SystemExit(f"{contender.name} answered HTTP {response.status_code}")
    return response.text


def _body(query: str) -> bytes:
    return orjson.dumps({"query": query})


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
