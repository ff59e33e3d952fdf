"""A gateway killed (SIGKILL) in the middle of a keyed write, and the same request
retried on another gateway sharing a real redis-server: one record, the intended state.

Two real `task-gateway serve` processes, the sandboxes served on loopback behind a
vendor front that can hold one write: it has reached the "vendor" (the intent is
recorded by then), the first gateway is killed, the held write is then applied, as
a vendor would still commit a request whose caller vanished, and the retry goes to
the second gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.ids import encode_id
from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.redis_server import redis_server
from tests.servers import serve_in_thread
from tests.test_idempotent_writes import (
    CREATE_PROJECT_TASK,
    CREATE_TASK,
    STOREFRONT,
    TOGGLE_PROJECT,
    TOGGLE_TASK,
    TOGGLE_TODO,
    ZOHO_ACTIVE,
)
from tests.test_serve_workers import _free_port

INVOICED_TOGGLED = 701  # seeded open, not used by other cases here


@dataclass
class VendorFront:
    """In front of the sandboxes: passes requests on, except one write it is told to
    hold, which it keeps until released and then applies whether or not its caller is
    still there. Counts the writes each path received."""

    sandbox: ASGIApp
    hold_rule: tuple[str, str] | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    applied: threading.Event = field(default_factory=threading.Event)
    writes: list[str] = field(default_factory=list)

    def hold(self, method: str, path_end: str) -> None:
        self.hold_rule = (method, path_end)
        for event in (self.held, self.release, self.applied):
            event.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.sandbox(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method != "GET":
            self.writes.append(f"{method} {path}")
        rule = self.hold_rule
        if rule is None or method != rule[0] or not path.endswith(rule[1]):
            await self.sandbox(scope, receive, send)
            return
        self.hold_rule = None
        # The whole request has arrived before it is held: the vendor has it.
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.held.set()
        await asyncio.to_thread(self.release.wait)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def answer(message: Message) -> None:
            # The caller was killed: the write stands all the same.
            with contextlib.suppress(Exception):
                await send(message)

        try:
            await self.sandbox(scope, replay, answer)
        finally:
            self.applied.set()


@dataclass
class Setup:
    front: VendorFront
    sandbox: Any
    env: dict[str, str]
    survivor: str
    # One gateway per case, started together up front, each killed by its case.
    victims: dict[str, Served]

    def store(self, prefix: str) -> Any:
        return self.sandbox.state.sandboxes[prefix].state.store


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def _launch(env: dict[str, str], log: Path) -> Served:
    port = _free_port()
    command = [str(Path(sys.executable).parent / "task-gateway"), "serve"]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env={**env, "GATEWAY_PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT
        )
    return Served(process, f"http://127.0.0.1:{port}", log)


def _ready(served: Served) -> Served:
    process, url, log = served.process, served.url, served.log
    while True:
        if process.poll() is not None:
            pytest.fail(f"task-gateway serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        threading.Event().wait(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """The sandboxes behind the front, a redis-server and the surviving gateway, shared
    by every case; each case starts (and kills) a gateway of its own."""
    tmp = tmp_path_factory.mktemp("crash")
    sandbox = create_sandbox_app()
    front = VendorFront(sandbox)
    with serve_in_thread(front) as url, redis_server(tmp) as redis:
        env = {
            **os.environ,
            **sandbox_env(url),
            "GATEWAY_AUTH": "false",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_REDIS_URL": redis.url,
            "GATEWAY_ACCESS_LOG": "false",
            # A dead writer is noticed within about this long.
            "GATEWAY_WRITE_LEASE": "1",
            # A retry stuck behind the dead writer fails within this, not the default 30 s.
            "GATEWAY_OPERATION_TIMEOUT": "8",
        }
        launched = {name: _launch(env, tmp / f"{name}.log") for name in ["survivor", *CASES]}
        try:
            served = {name: _ready(each) for name, each in launched.items()}
            survivor = served.pop("survivor")
            yield Setup(front, sandbox, env, survivor.url, served)
        finally:
            front.release.set()
            for each in launched.values():
                _stop(each.process)


async def _post(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{url}/graphql", json={"query": query, "variables": variables}
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _killed_mid_write(
    setup: Setup, name: str, query: str, variables: dict[str, Any], hold: tuple[str, str]
) -> dict[str, Any]:
    """Send the write to a gateway of its own, kill it once the write has reached the
    vendor, let the vendor apply it, then retry on the survivor; its answer."""
    victim, victim_url = setup.victims[name].process, setup.victims[name].url
    try:
        setup.front.hold(*hold)
        doomed = asyncio.ensure_future(_post(victim_url, query, variables))
        reached = await asyncio.to_thread(setup.front.held.wait, 30)
        assert reached, "the write never reached the vendor"
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        with pytest.raises(httpx.TransportError):
            await doomed
        setup.front.release.set()
        assert await asyncio.to_thread(setup.front.applied.wait, 30)
    finally:
        _stop(victim)
    return await _post(setup.survivor, query, variables)


@dataclass(frozen=True)
class Case:
    query: str
    variables: Callable[[Setup], dict[str, Any]]
    hold: tuple[str, str]
    before: Callable[[Setup], Any]  # what the vendor holds before, to compare after
    check: Callable[[Setup, Any, dict[str, Any]], None]


def _new_invoiced(setup: Setup, before: Any, answer: dict[str, Any]) -> None:
    tasks = setup.store("/invoiced").tasks
    new = [task_id for task_id in tasks if task_id not in before]
    assert len(new) == 1
    assert answer["data"]["createTask"]["task"]["invoicedId"] == new[0]


def _new_zoho(setup: Setup, before: Any, answer: dict[str, Any]) -> None:
    tasks = setup.store("/zoho").projects[STOREFRONT].tasks
    new = [task_id for task_id in tasks if task_id not in before]
    assert len(new) == 1
    assert answer["data"]["createProjectTask"]["projectTask"]["zohoId"] == new[0]


def _open_todo(setup: Setup) -> int:
    todos = setup.store("/fakturoid").todos.values()
    newest: int = max((t for t in todos if t.completed_at is None), key=lambda t: t.created_at).id
    return newest


def _completed_task(setup: Setup, answer: dict[str, Any]) -> None:
    # Not flipped back: the state the killed attempt aimed for.
    assert answer["data"]["toggleTaskCompletion"]["task"]["complete"] is True
    assert setup.store("/invoiced").tasks[INVOICED_TOGGLED]["complete"] is True


def _inactive_project(setup: Setup, answer: dict[str, Any]) -> None:
    assert answer["data"]["toggleProjectActive"]["project"]["status"] == "INACTIVE"
    assert setup.store("/zoho").projects[ZOHO_ACTIVE].status == "inactive"


def _completed_todo(setup: Setup, todo: int, answer: dict[str, Any]) -> None:
    assert answer["data"]["toggleTodoCompletion"]["todo"]["completed"] is True
    assert setup.store("/fakturoid").todos[todo].completed_at is not None


CASES = {
    "invoiced-create": Case(
        CREATE_TASK,
        lambda s: {"input": {"name": "Crash call", "action": "PHONE",
                             "dueDate": "2026-12-01T09:00:00Z", "idempotencyKey": "crash-c-01"}},
        ("POST", "/invoiced/tasks"),
        lambda s: set(s.store("/invoiced").tasks),
        _new_invoiced,
    ),
    "zoho-create": Case(
        CREATE_PROJECT_TASK,
        lambda s: {"input": {"projectId": encode_id(ZOHO, "Project", STOREFRONT),
                             "name": "Crash review", "idempotencyKey": "crash-c-02"}},
        ("POST", f"/projects/{STOREFRONT}/tasks"),
        lambda s: set(s.store("/zoho").projects[STOREFRONT].tasks),
        _new_zoho,
    ),
    "invoiced-toggle": Case(
        TOGGLE_TASK,
        lambda s: {"id": encode_id(INVOICED, "Task", INVOICED_TOGGLED), "key": "crash-t-01"},
        ("PATCH", f"/tasks/{INVOICED_TOGGLED}"),
        lambda s: None,
        lambda s, _, answer: _completed_task(s, answer),
    ),
    "zoho-toggle": Case(
        TOGGLE_PROJECT,
        lambda s: {"id": encode_id(ZOHO, "Project", ZOHO_ACTIVE), "key": "crash-t-02"},
        ("POST", f"/projects/{ZOHO_ACTIVE}/inactive"),
        lambda s: None,
        lambda s, _, answer: _inactive_project(s, answer),
    ),
    "fakturoid-toggle": Case(
        TOGGLE_TODO,
        lambda s: {"id": encode_id(FAKTUROID, "Todo", _open_todo(s)), "key": "crash-t-03"},
        ("POST", "/toggle_completion.json"),
        lambda s: _open_todo(s),
        _completed_todo,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_a_write_whose_gateway_was_killed_is_completed_once_by_the_other(
    setup: Setup, case: str
) -> None:
    spec = CASES[case]
    before = spec.before(setup)
    variables = spec.variables(setup)
    writes_before = len(setup.front.writes)
    answer = await _killed_mid_write(setup, case, spec.query, variables, spec.hold)
    assert "errors" not in answer, answer
    spec.check(setup, before, answer)
    # Where a second send would write again (Fakturoid toggles, Zoho creates), the retry
    # found the first write at the vendor and sent nothing. Invoiced is sent its own
    # Idempotency-Key again (and replays it); a set state is sent again as it was.
    path_end = spec.hold[1]
    sent = [w for w in setup.front.writes[writes_before:] if w.endswith(path_end)]
    if case in ("fakturoid-toggle", "zoho-create"):
        assert len(sent) == 1
