"""The processes of one capacity step: the vendors, a redis-server and the gateway.

Each runs in a session of its own and is always ended (``benchmarks.peer.procs.end``).
Every simulated user has an API key of its own; the gateway is configured with their
SHA-256 digests in a JSON file (``GATEWAY_API_KEYS``), as an operator would.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from benchmarks.latency import CALLS_PATH, ROUTES_PATH
from benchmarks.peer.contenders import TASK_GATEWAY
from benchmarks.peer.procs import free_port, wait_until
from benchmarks.scale import started
from gateway.http.sandboxes import sandbox_env, sandbox_webhook_targets

# Two workers share their state through Redis, as several processes would.
QUIET = {"GATEWAY_ACCESS_LOG": "false", "GATEWAY_LOG_LEVEL": "warning"}


@dataclass(frozen=True)
class Keys:
    users: list[str]
    writer: str  # the changer's key, allowed to write through the gateway
    file: Path


def make_keys(users: int, workdir: Path) -> Keys:
    """One random key per user (read scopes) and a writer's, with their digests on file."""
    keys = [f"bench_{secrets.token_urlsafe(18)}" for _ in range(users + 1)]
    entries = [
        {"name": f"user-{number}", "sha256": hashlib.sha256(key.encode()).hexdigest(),
         "scopes": ["*:read"]}
        for number, key in enumerate(keys[:-1], 1)
    ]  # fmt: skip
    writer = {"name": "changer", "sha256": hashlib.sha256(keys[-1].encode()).hexdigest(),
              "scopes": ["*:read", "*:write"]}  # fmt: skip
    path = workdir / "api-keys.json"
    path.write_bytes(orjson.dumps([*entries, writer]))
    return Keys(users=keys[:-1], writer=keys[-1], file=path)


def base_env() -> dict[str, str]:
    # Nothing of the caller's environment (credentials, GATEWAY_* overrides) leaks in.
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


@contextmanager
def vendors(workdir: Path, latency_ms: float, *, webhooks_to: int) -> Iterator[str]:
    """The sandboxes at their documented quotas behind ``latency_ms``, sending the webhooks
    their vendors document to the gateway on port ``webhooks_to``; yields their base URL."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.latency",
               "--port", str(port), "--latency-ms", f"{latency_ms:g}"]  # fmt: skip
    env = {**base_env(), "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           **sandbox_webhook_targets(f"http://127.0.0.1:{webhooks_to}")}  # fmt: skip
    with started("vendors", command, env, workdir / "vendors.log") as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(proc, lambda: _ok(httpx.get, base + CALLS_PATH))
        yield base


def vendor_routes(base: str) -> Counter[str]:
    """Calls the sandboxes have answered so far, by ``"<vendor> <METHOD> <path>"`` with
    ids as ``{id}`` (see ``benchmarks.latency.route_of``)."""
    return Counter(httpx.get(base + ROUTES_PATH, timeout=10).json())


def vendor_calls(base: str) -> Counter[str]:
    """Calls the sandboxes have answered so far, by ``"<vendor> <status>"``."""
    return Counter(httpx.get(base + CALLS_PATH, timeout=10).json())


@contextmanager
def gateway(
    workdir: Path,
    vendors_url: str,
    redis_url: str,
    keys: Keys,
    workers: int,
    settings: Mapping[str, str],
    port: int,
) -> Iterator[str]:
    """`task-gateway serve` on ``port`` with client auth on and ``settings`` over the
    defaults; yields its /graphql URL."""
    env = {**base_env(), **sandbox_env(vendors_url), **QUIET,
           "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port),
           "GATEWAY_API_KEYS": str(keys.file), "GATEWAY_REDIS_URL": redis_url,
           "GATEWAY_WORKERS": str(workers), **settings}  # fmt: skip
    with started("gateway", [str(TASK_GATEWAY), "serve"], env, workdir / "gateway.log") as proc:
        url = f"http://127.0.0.1:{port}/graphql"
        headers = {"x-api-key": keys.writer}
        wait_until(proc, lambda: _ok(httpx.post, url, json={"query": "{ __typename }"},
                                     headers=headers))  # fmt: skip
        yield url


def _ok(method: object, url: str, **kwargs: object) -> bool:
    try:
        answer = method(url, timeout=5, **kwargs)  # type: ignore[operator]
    except httpx.HTTPError:
        return False
    return answer.status_code == 200  # type: ignore[no-any-return]
