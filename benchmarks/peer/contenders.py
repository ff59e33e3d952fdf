"""The upstream the gateways share, task-gateway and Hive, and the proof that they answer alike.

The upstream is the gateway's own sandboxes behind :mod:`benchmarks.latency`, which adds
a fixed delay that the run changes between rows. task-gateway runs as `task-gateway serve`
with only the Invoiced variables that `task-gateway sandbox --print-env` gives. Mesh
Compose turns ``invoiced-tasks.openapi.json`` into a supergraph pointing at the same
sandbox, and Hive Gateway serves it; Tailcall is in :mod:`benchmarks.peer.tailcall`.

Each contender is asked for one :class:`Shape` at a time: 10 tasks x 5 fields, or
100 tasks x 12 fields.
"""

from __future__ import annotations

import base64
import dataclasses
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

# One task as every gateway must show it: (id, name, action, due date as Unix time, complete).
Row = tuple[int, str, str, int | None, bool]


@dataclass(frozen=True)
class Shape:
    """What one request asks for: the first ``tasks`` tasks, ``fields`` fields of each."""

    tasks: int
    fields: int

    @property
    def label(self) -> str:
        return f"{self.tasks}x{self.fields}"


SMALL = Shape(10, 5)
WIDE = Shape(100, 12)

# The fields by the Invoiced API's names (Hive and Tailcall) and task-gateway's; the
# first five are those of SMALL and of a Row.
SNAKE_FIELDS = (
    "id", "name", "action", "due_date", "complete", "customer_id", "user_id",
    "completed_date", "completed_by_user_id", "chase_step_id", "created_at", "updated_at",
)  # fmt: skip
CAMEL_FIELDS = tuple(
    head + "".join(part.title() for part in tail)
    for head, *tail in (name.split("_") for name in SNAKE_FIELDS)
)


@dataclass(frozen=True)
class Contender:
    name: str
    process: Pinned
    url: str
    # The GraphQL query for a shape, and the tasks (as their JSON objects) in an answer.
    query: Callable[[Shape], str]
    nodes: Callable[[dict[str, Any]], list[dict[str, Any]]]
    row: Callable[[dict[str, Any]], Row]
    shape: Shape = SMALL
    expected_answer: str = ""

    @property
    def body(self) -> bytes:
        return graphql_body(self.query(self.shape))


def base_env() -> dict[str, str]:
    # Nothing of the caller's environment (credentials, GATEWAY_* overrides) leaks in.
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


@contextmanager
def sandbox(cpu: int, workdir: Path) -> Iterator[tuple[Pinned, str, dict[str, str]]]:
    """The sandboxes behind a settable delay on a free port: the process, its base URL
    (for :func:`benchmarks.latency.set_latency`) and the Invoiced variables."""
    port = free_port()
    printed = subprocess.run(
        [str(TASK_GATEWAY), "sandbox", "--host", "127.0.0.1", "--port", str(port), "--print-env"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    variables = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in printed.splitlines()
        if line.startswith("export INVOICED_")
    )
    command = [sys.executable, "-m", "benchmarks.latency", "--port", str(port)]
    env = {**base_env(), "PYTHONPATH": str(HERE.parents[1])}
    with pinned("sandbox", command, cpu=cpu, env=env, log=workdir / "sandbox.log") as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(proc, lambda: answers(f"{base}/"))
        yield proc, base, variables


def _invoiced(invoiced: dict[str, str], method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(
        method,
        f"{invoiced['INVOICED_API_URL']}{path}",
        auth=(invoiced["INVOICED_API_KEY"], ""),
        timeout=10,
        **kwargs,
    )
    response.raise_for_status()
    return response


def fill_to(invoiced: dict[str, str], wanted: int) -> None:
    """Create tasks in the sandbox until it holds ``wanted`` (it is seeded with fewer)."""
    listed = _invoiced(invoiced, "GET", "/tasks", params={"per_page": 1})
    for n in range(int(listed.headers["X-Total-Count"]), wanted):
        task = {"name": f"Benchmark task #{n + 1}", "action": "email",
                "due_date": FIRST_DUE_DATE + n * 86_400}  # fmt: skip
        _invoiced(invoiced, "POST", "/tasks", json=task)


FIRST_DUE_DATE = 1_767_225_600  # 2026-01-01T00:00:00Z


def expected_rows(invoiced: dict[str, str], shape: Shape) -> list[Row]:
    """The first page of tasks as the sandbox itself lists them."""
    listed = _invoiced(invoiced, "GET", "/tasks", params={"per_page": shape.tasks}).json()
    return [snake_case_row(task) for task in listed]


@contextmanager
def task_gateway(cpu: int, invoiced: dict[str, str], workdir: Path) -> Iterator[Contender]:
    port = free_port()
    env = {**base_env(), **invoiced, **TASK_GATEWAY_PARITY,
           "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}  # fmt: skip
    log = workdir / "task-gateway.log"
    with pinned("task-gateway", [str(TASK_GATEWAY), "serve"], cpu=cpu, env=env, log=log) as proc:
        wait_until(proc, lambda: answers(f"http://127.0.0.1:{port}/healthz"))
        yield Contender(
            "task-gateway", proc, f"http://127.0.0.1:{port}/graphql",
            _tg_query, lambda data: data["tasks"]["nodes"], _tg_row,
        )  # fmt: skip


TASK_GATEWAY_PARITY = {
    # Hive Gateway writes no line per request by default (the access line, and the
    # per-operation line at INFO), and checks no client.
    "GATEWAY_ACCESS_LOG": "false",
    "GATEWAY_LOG_LEVEL": "warning",
    **UNPROTECTED,
    # Hive and Tailcall share nothing between requests (no cache, no dedupe of identical
    # upstream calls, no background reads): every request here makes its own vendor call.
    "GATEWAY_CACHE": "false",
    "GATEWAY_COLLAPSE_READS": "false",
    "GATEWAY_POLL": "false",
}


def _tg_query(shape: Shape) -> str:
    fields = " ".join(CAMEL_FIELDS[: shape.fields])
    return f"{{ tasks(first: {shape.tasks}) {{ nodes {{ {fields} }} }} }}"


def _tg_row(node: dict[str, Any]) -> Row:
    # Global ids are base64url (unpadded) of "invoiced:Task:<id>".
    global_id = base64.urlsafe_b64decode(node["id"] + "=" * (-len(node["id"]) % 4)).decode()
    due = node["dueDate"] and int(datetime.fromisoformat(node["dueDate"]).timestamp())
    vendor_id = int(global_id.removeprefix("invoiced:Task:"))
    return vendor_id, node["name"], node["action"].lower(), due, node["complete"]


def compose_supergraph(invoiced: dict[str, str], workdir: Path) -> Path:
    if not (NODE_BIN / "mesh-compose").exists():
        raise SystemExit("benchmarks/peer/node_modules is missing: run `make bench-peer` (npm ci)")
    output = workdir / "supergraph.graphql"
    result = subprocess.run(
        [str(NODE_BIN / "mesh-compose"), "-c", "compose.config.mjs", "-o", str(output)],
        cwd=HERE,
        env={**base_env(), **invoiced},
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
    env = {**base_env(), "NODE_ENV": "production"}
    log = workdir / "hive-gateway.log"
    with pinned("hive-gateway", command, cpu=cpu, env=env, log=log, cwd=workdir) as proc:
        wait_until(proc, lambda: answers(f"http://127.0.0.1:{port}/healthcheck"))
        yield Contender(
            "hive-gateway", proc, f"http://127.0.0.1:{port}/graphql",
            snake_case_query, lambda data: data["tasks"], snake_case_row,
        )  # fmt: skip


def snake_case_query(shape: Shape) -> str:
    """The query of Hive's and Tailcall's schemas, which keep the Invoiced API's names."""
    fields = " ".join(SNAKE_FIELDS[: shape.fields])
    return f"{{ tasks(per_page: {shape.tasks}) {{ {fields} }} }}"


def snake_case_row(task: dict[str, Any]) -> Row:
    return task["id"], task["name"], task["action"], task["due_date"], task["complete"]


def verified(contender: Contender, shape: Shape, expected: list[Row]) -> Contender:
    """The contender asking for ``shape``, with the exact answer every request under load
    must get.

    The answer must carry the sandbox's first page, each task with the fields asked for,
    with no errors, and be the same twice running, so autocannon can count any other
    answer as a mismatch.
    """
    asking = dataclasses.replace(contender, shape=shape)
    first, second = _post(asking), _post(asking)
    body: dict[str, Any] = orjson.loads(first)
    if body.get("errors") or "data" not in body:
        raise SystemExit(f"{contender.name} answered with errors: {first[:2000]}")
    nodes = contender.nodes(body["data"])
    rows = [contender.row(node) for node in nodes]
    if rows != expected:
        raise SystemExit(f"{contender.name} answered other tasks:\n{rows}\nexpected\n{expected}")
    if any(len(node) != shape.fields for node in nodes):
        raise SystemExit(f"{contender.name} did not answer {shape.fields} fields a task")
    if second != first:
        raise SystemExit(f"{contender.name} answers differ from one request to the next")
    return dataclasses.replace(asking, expected_answer=first)


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


def graphql_body(query: str) -> bytes:
    return orjson.dumps({"query": query})


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
