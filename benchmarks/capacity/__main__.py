"""How many dashboard users the gateway serves inside the vendors' quotas.

`python -m benchmarks.capacity` (`make bench-capacity`, about 9 minutes by default): for each
N in ``--users``, fresh processes (``benchmarks.capacity.stack``): the four sandboxes at
their documented quotas behind ``--latency-ms``, a redis-server and `task-gateway serve`
with ``--workers`` workers and client auth on, one API key per user. Then N users
(``benchmarks.capacity.users``) and a changer (``benchmarks.capacity.changer``) run for
``--duration`` seconds, each in its own process. One row per N: errors by code, latency,
vendor calls counted at the sandboxes, and staleness; then the largest N with no errors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import orjson

from benchmarks.capacity.figures import Step, step_figures, summary
from benchmarks.capacity.stack import (
    base_env,
    gateway,
    make_keys,
    vendor_calls,
    vendor_routes,
    vendors,
)
from benchmarks.capacity.targets import walk
from benchmarks.peer.procs import Pinned, free_port
from benchmarks.scale import redis_server, started

DEFAULT_USERS = "50,100,200,500,1000"
QUICK_USERS = "20,50"
QUICK_SECONDS = 40.0


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _wait(process: Pinned, timeout: float) -> None:
    process.process.wait(timeout=timeout)
    if process.process.returncode != 0:
        raise SystemExit(f"{process.name} exited {process.process.returncode}:\n"
                         f"{process.log_tail()}")  # fmt: skip


def step(users: int, args: argparse.Namespace, workdir: Path) -> Step:
    """One N: every process fresh, so no step inherits another's quota windows or cache."""
    keys = make_keys(users, workdir)
    (workdir / "user-keys.json").write_bytes(orjson.dumps(keys.users))
    env = {**base_env(), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    # The gateway's port first: the sandboxes deliver their webhooks to it, as vendors do.
    port = free_port()
    with (
        vendors(workdir, args.latency_ms, webhooks_to=port) as vendors_url,
        redis_server(workdir) as redis_url,
        gateway(workdir, vendors_url, redis_url, keys, args.workers, args.settings, port) as url,
    ):
        walk(url, keys.writer).save(workdir / "targets.json")
        before, started_at = vendor_calls(vendors_url), time.monotonic()
        routes_before = vendor_routes(vendors_url)
        common = ["--url", url, "--targets", str(workdir / "targets.json"),
                  "--duration", f"{args.duration:g}"]  # fmt: skip
        load = [sys.executable, "-m", "benchmarks.capacity.users", *common,
                "--keys", str(workdir / "user-keys.json"), "--subscribers",
                f"{args.subscribers:g}", "--out", str(workdir / "seen.json")]  # fmt: skip
        change = [sys.executable, "-m", "benchmarks.capacity.changer", *common,
                  "--vendors", vendors_url, "--key", keys.writer,
                  "--out", str(workdir / "changes.json")]  # fmt: skip
        with (
            started("users", load, env, workdir / "users.log") as users_process,
            started("changer", change, env, workdir / "changer.log") as changer_process,
        ):
            _wait(changer_process, args.duration + 120)
            _wait(users_process, args.duration + 120)
        calls, seconds = vendor_calls(vendors_url) - before, time.monotonic() - started_at
        routes = vendor_routes(vendors_url) - routes_before
    seen = orjson.loads((workdir / "seen.json").read_bytes())
    changes = orjson.loads((workdir / "changes.json").read_bytes())
    figures = step_figures(users, seconds, seen, changes, Counter(calls))
    return replace(figures, routes=routes) if args.routes else figures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", default=None, help=f"N, comma-separated ({DEFAULT_USERS})")
    parser.add_argument("--duration", type=float, default=None, help="seconds a step (90)")
    parser.add_argument("--quick", action="store_true",
                        help=f"N={QUICK_USERS}, {QUICK_SECONDS:g} s a step")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="gateway workers (2)")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="vendor latency (80)")
    parser.add_argument("--subscribers", type=float, default=0.1,
                        help="share of users holding a subscription (0.1)")  # fmt: skip
    parser.add_argument("--routes", action="store_true",
                        help="print each step's vendor calls a minute by route")  # fmt: skip
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a gateway setting over its default, e.g. GATEWAY_CACHE=true (repeatable)",
    )
    args = parser.parse_args(argv)
    args.settings = dict(setting.split("=", 1) for setting in args.setting)
    args.users = _numbers(args.users or (QUICK_USERS if args.quick else DEFAULT_USERS))
    args.duration = args.duration or (QUICK_SECONDS if args.quick else 90.0)
    return args


def main(argv: list[str] | None = None) -> list[Step]:
    args = parse(argv)
    print(f"benchmarks.capacity: N={','.join(map(str, args.users))}, {args.duration:g} s each, "
          f"{args.workers} worker(s) + Redis, vendors at +{args.latency_ms:g} ms and their "
          f"quotas, {args.subscribers:.0%} of users subscribed; other settings "
          f"{' '.join(args.setting) or 'at their defaults'}", flush=True)  # fmt: skip
    steps = []
    for users in args.users:
        with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
            steps.append(step(users, args, Path(tmp)))
        print(steps[-1].row(), flush=True)
    print(summary(steps), flush=True)
    return steps


if __name__ == "__main__":
    main()
