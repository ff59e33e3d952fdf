"""The npm subscription clients, as shipped (tests/clients, pinned by its lock file):
graphql-ws over WebSocket and graphql-sse over Server-Sent Events, each a real `node`
process following a task of a real uvicorn gateway (client auth on, its sandboxes
behind it), changing it through HTTP and printing the event it receives; then the same
client without a key, refused."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_subscriptions import AUTH, served

CLIENTS = Path(__file__).parent / "clients"


def start(script: str, url: str) -> subprocess.Popen[str]:
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules").is_dir():
        pytest.fail("node and tests/clients/node_modules are needed: run `make install-test`")
    return subprocess.Popen(
        [node, script],
        cwd=CLIENTS,
        env={
            "PATH": str(Path(node).parent),
            "GATEWAY_URL": url + "/graphql",
            "GATEWAY_API_KEY": AUTH["X-API-Key"],
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def line_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60)
    assert line, process.stderr.read() if process.stderr else "no output"
    message: dict[str, Any] = json.loads(line)
    return message


@pytest.mark.parametrize("script", ["graphql-ws.mjs", "graphql-sse.mjs"])
async def test_an_npm_client_receives_a_change_and_is_refused_without_a_key(
    monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    with served(monkeypatch) as gateway:
        process = start(script, gateway.url)
        try:
            subscribed = await line_of(process)
            await asyncio.wait_for(gateway.listening(), 30)
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.close()  # or node would wait on it, and never exit
            report = await line_of(process)
            await asyncio.wait_for(asyncio.to_thread(process.wait), 60)
        finally:
            process.kill()
            process.wait()
        assert process.returncode == 0
        assert gateway.changes.subscribers == 0
    task_id = subscribed["subscribed"]
    assert report["events"] == [
        {
            "data": {
                "nodeChanged": {
                    "vendor": "INVOICED",
                    "type": "Task",
                    "id": task_id,
                    "kind": "UPDATED",
                }
            }
        }
    ]
    refused = report["refused"]
    if script == "graphql-ws.mjs":
        assert refused["code"] == 4403  # closed before any operation runs
    else:
        assert refused["status"] == 401
