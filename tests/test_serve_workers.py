"""`task-gateway serve --workers 2` for real: two worker processes behind one port,
sharing one redis-server, in front of the sandboxes served on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from tests.redis_server import redis_server
from tests.servers import serve_in_thread

QUERY = "{ projects(first: 2) { nodes { id } } todos(first: 2) { nodes { id } } }"
STARTED = re.compile(r"Started server process \[(\d+)\]")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _worker_pids(log: Path) -> set[int]:
    return {int(pid) for pid in STARTED.findall(log.read_text())}


@pytest.fixture
def sandboxes() -> Iterator[str]:
    with serve_in_thread(create_sandbox_app()) as url:
        yield url


def test_serve_with_two_workers_answers_from_both(sandboxes: str, tmp_path: Path) -> None:
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with redis_server(tmp_path) as redis:
        env = {
            **os.environ,
            **sandbox_env(sandboxes),
            "GATEWAY_AUTH": "false",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "GATEWAY_REDIS_URL": redis.url,
            "GATEWAY_ACCESS_LOG": "false",
        }
        command = [str(Path(sys.executable).parent / "task-gateway"), "serve", "--workers", "2"]
        with log_path.open("w") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while len(_worker_pids(log_path)) < 2 or not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve --workers 2 did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            workers = _worker_pids(log_path)
            assert process.pid not in workers

            # Each worker alone must answer: stop one, ask, wake it; then the other.
            for paused in sorted(workers):
                os.kill(paused, signal.SIGSTOP)
                try:
                    bodies = _ask_concurrently(port, 10)
                finally:
                    os.kill(paused, signal.SIGCONT)
                assert all("errors" not in body for body in bodies), bodies
                assert all(body["data"]["projects"]["nodes"] for body in bodies)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    text = log_path.read_text()
    # One grant per OAuth vendor for both workers together, through Redis.
    assert text.count("zoho: access token refreshed") == 1, text


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _ask_concurrently(port: int, count: int) -> list[dict[str, object]]:
    def ask(_: int) -> dict[str, object]:
        # A fresh connection each: the kernel hands it to whichever worker accepts.
        response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(ask, range(count)))
