"""Throughput of one gateway process, two uvicorn workers, and two processes sharing Redis.

`python -m benchmarks.scale` (part of `make bench`, about a minute; BENCH_SCALE_SECONDS
makes each run longer). Real `task-gateway serve` processes on loopback in front of the
sandbox upstream (`task-gateway sandbox`), a local redis-server, and autocannon from
benchmarks/peer/node_modules. Client and upstream-call budgets are on (at a rate
no run reaches), so every request pays for its budget: in memory for the first two,
one Redis script call for the third. Two processes get one autocannon each at half
the connections, run at once, and their counts are summed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.peer.contenders import NODE_BIN, TASK_GATEWAY, sandbox
from benchmarks.peer.procs import Pinned, end, free_port, wait_until

CONNECTIONS = 50
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "15"))
QUERY = b'{"query": "{ tasks(first: 10) { nodes { id name dueDate complete } } }"}'
# Budgets on, never reached: the limiter's work is measured, not its refusals.
BUDGETS = {
    "GATEWAY_AUTH": "false",
    "GATEWAY_CLIENT_REQUESTS_PER_MINUTE": "100000000",
    "GATEWAY_CLIENT_UPSTREAM_CALLS_PER_MINUTE": "100000000",
    "GATEWAY_ACCESS_LOG": "false",
    "GATEWAY_LOG_LEVEL": "warning",
}


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    redis_commands: int | None = None

    def row(self) -> str:
        rate = self.requests / self.seconds
        redis = (
            f"  {self.redis_commands / self.requests:.1f} Redis round trips/request"
            if self.redis_commands is not None
            else ""
        )
        return (
            f"{self.name:<28} {rate:>8.0f} req/s  p50 {self.p50_ms:>5.1f} ms  "
            f"p99 {self.p99_ms:>6.1f} ms  failed {self.failed}{redis}"
        )


@contextmanager
def started(name: str, command: list[str], env: Mapping[str, str], log: Path) -> Iterator[Pinned]:
    """A process in a session of its own (on every CPU), always ended."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    try:
        yield Pinned(name, process, log)
    finally:
        end(process)


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("benchmarks.scale needs redis-server: apt-get install -y redis-server")
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(workdir)]  # fmt: skip
    with started("redis", command, {}, workdir / "redis.log") as proc:
        wait_until(proc, lambda: _redis_info(port, "total_commands_processed") is not None)
        yield f"redis://127.0.0.1:{port}/0"


def _redis_info(port: int, field: str) -> int | None:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), "info", "stats"], capture_output=True, text=True
    )
    for line in done.stdout.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return None


def _round_trips(port: int) -> int:
    """Commands the gateways sent (a script counts once, not its inner commands)."""
    done = subprocess.run(
        ["redis-cli", "-p", str(port), "info", "commandstats"], capture_output=True, text=True
    )
    sent = 0
    for line in done.stdout.splitlines():
        name, _, stats = line.partition(":")
        if name.removeprefix("cmdstat_") in {"get", "set", "del", "eval", "evalsha"}:
            sent += int(stats.split(",")[0].removeprefix("calls="))
    return sent


@contextmanager
def gateway(name: str, invoiced: Mapping[str, str], workdir: Path, **extra: str) -> Iterator[str]:
    port = free_port()
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env = {**keep, **invoiced, **BUDGETS, "GATEWAY_HOST": "127.0.0.1",
           "GATEWAY_PORT": str(port), **extra}  # fmt: skip
    command = [str(TASK_GATEWAY), "serve"]
    with started(name, command, env, workdir / f"{name}.log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_until(proc, lambda: _answers(url))
        yield url + "/graphql"


def _answers(url: str) -> bool:
    try:
        answer = httpx.post(url + "/graphql", content=QUERY, timeout=5,
                            headers={"content-type": "application/json"})  # fmt: skip
    except httpx.HTTPError:
        return False
    body = answer.json() if answer.status_code == 200 else {}
    return bool(body.get("data", {}).get("tasks")) and "errors" not in body


def autocannon(url: str, connections: int, workdir: Path) -> dict[str, Any]:
    output = workdir / f"autocannon-{free_port()}.json"
    command = [
        str(NODE_BIN / "autocannon"), "--json", "--no-progress",
        "--connections", str(connections), "--duration", f"{SECONDS:g}",
        "--method", "POST", "--headers", "content-type=application/json",
        "--body", QUERY.decode(), url,
    ]  # fmt: skip
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            process.wait(timeout=SECONDS + 60)
        finally:
            end(process)
    if process.returncode != 0:
        raise SystemExit(f"autocannon exited {process.returncode}")
    result: dict[str, Any] = orjson.loads(output.read_bytes())
    return result


def load(name: str, urls: list[str], workdir: Path) -> Result:
    """autocannon against each of ``urls`` at once, sharing the connections."""
    results: list[dict[str, Any]] = []
    runs = [
        threading.Thread(
            target=lambda url=url: results.append(
                autocannon(url, CONNECTIONS // len(urls), workdir)
            )
        )
        for url in urls
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    if len(results) != len(urls):
        raise SystemExit(f"{name}: an autocannon run failed")
    keys = ("errors", "timeouts", "non2xx")
    return Result(
        name=name,
        requests=sum(r["requests"]["total"] for r in results),
        seconds=max(r["duration"] for r in results),
        p50_ms=max(r["latency"]["p50"] for r in results),
        p99_ms=max(r["latency"]["p99"] for r in results),
        failed=sum(r[key] for r in results for key in keys),
    )


def main() -> None:
    if not (NODE_BIN / "autocannon").exists():
        raise SystemExit(
            "autocannon is missing: make benchmarks/peer/node_modules/.package-lock.json"
        )
    print(f"benchmarks.scale: {CONNECTIONS} connections, {SECONDS:g} s each, "
          f"{os.cpu_count()} CPUs, sandbox upstream on the same machine", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        # The sandbox on whichever CPU it lands; the pinned CPU is ignored here.
        with sandbox(0, workdir) as (_, _, invoiced), redis_server(workdir) as redis_url:
            with gateway("one-worker", invoiced, workdir) as url:
                print(load("1 worker", [url], workdir).row(), flush=True)
            with gateway("two-workers", invoiced, workdir, GATEWAY_WORKERS="2") as url:
                print(load("2 workers", [url], workdir).row(), flush=True)
            with ExitStack() as stack:
                urls = [
                    stack.enter_context(
                        gateway(f"shared-{n}", invoiced, workdir, GATEWAY_REDIS_URL=redis_url)
                    )
                    for n in (1, 2)
                ]
                port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
                before = _round_trips(port)
                result = load("2 processes + Redis", urls, workdir)
                after = _round_trips(port)
                print(replace(result, redis_commands=after - before).row(), flush=True)


if __name__ == "__main__":
    main()
