"""Fixtures: a gateway wired to fresh sandboxes, all through httpx ASGI transports."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from gateway.plugin import AnyPlugin
from gateway.registry import PLUGINS
from tests.redis_server import RedisServer, redis_server

SANDBOX_BASE = "http://sandbox"

Fault = Callable[[httpx.Request], httpx.Response | None]


class FaultyTransport(httpx.AsyncBaseTransport):
    """Passes requests on to the sandbox unless a fault claims them first."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.faults: list[Fault] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for fault in self.faults:
            response = fault(request)
            if response is not None:
                return response
        return await self.inner.handle_async_request(request)


class Gateway:
    def __init__(
        self,
        client: httpx.AsyncClient,
        sandbox: Starlette,
        transport: FaultyTransport,
        app: Starlette,
    ) -> None:
        self.client = client
        self.sandbox = sandbox
        self.transport = transport
        self.app = app

    def sandbox_app(self, prefix: str) -> Starlette:
        app: Starlette = self.sandbox.state.sandboxes[prefix]
        return app

    def inject(self, fault: Fault) -> None:
        self.transport.faults.append(fault)

    def record(self, prefix: str = "") -> list[httpx.Request]:
        """Every request that reaches the sandboxes under ``prefix`` from now on
        (a fault that claims nothing, only watches)."""
        seen: list[httpx.Request] = []

        def watch(request: httpx.Request) -> httpx.Response | None:
            if request.url.path.startswith(prefix):
                seen.append(request)
            return None

        self.inject(watch)
        return seen

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        accounting: bool = False,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {**(headers or {}), **({"X-Upstream-Accounting": "1"} if accounting else {})}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(autouse=True)
def _gateway_logger_restored() -> Iterator[None]:
    """A test that starts the real server applies its logging setup process-wide (the
    ``gateway`` logger at INFO with a stream handler); later tests get it back as it was."""
    logger = logging.getLogger("gateway")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
    logger.propagate = propagate


def gateway_settings(
    monkeypatch: pytest.MonkeyPatch, plugins: Sequence[AnyPlugin] = PLUGINS, **overrides: str
) -> Settings:
    """Settings for ``plugins`` (default: the registry's), pointed at their sandboxes;
    client authentication and the change pollers are off unless ``overrides`` turn them on."""
    # Pollers off: tests count vendor calls; the polling tests turn them on.
    defaults = {"GATEWAY_AUTH": "false", "GATEWAY_POLL": "false"}
    for name, value in {**defaults, **sandbox_env(SANDBOX_BASE, plugins), **overrides}.items():
        monkeypatch.setenv(name, value)
    return Settings(plugins=plugins)


@pytest.fixture
def cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the vendors' own answers, faults and call counts, where the shared read
    cache (on by default, tested in test_read_cache.py and test_freshness.py) would answer
    instead: ``pytestmark = pytest.mark.usefixtures("cache_off")``."""
    monkeypatch.setenv("GATEWAY_CACHE", "false")


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Settings:
    """A test (or module) marked ``federation`` gets the subgraph schema, as behind a router."""
    if request.node.get_closest_marker("federation"):
        return gateway_settings(monkeypatch, GATEWAY_FEDERATION="true")
    return gateway_settings(monkeypatch)


@asynccontextmanager
async def running_gateway(
    settings: Settings, inner: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Gateway]:
    """A gateway app wired to fresh sandboxes through a FaultyTransport; ``inner``, when
    given, stands between that transport and the vendors instead of the plain sandbox."""
    sandbox = create_sandbox_app(settings.plugins)
    transport = FaultyTransport(inner or httpx.ASGITransport(app=sandbox))
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(settings, transports=dict.fromkeys(vendors, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield Gateway(client, sandbox, transport, app)
    await app.state.adapters.aclose()


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with running_gateway(settings) as running:
        yield running


@pytest.fixture
def redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A real redis-server of the test's own, for what gateway processes share."""
    # These tests are about what Redis shares, not its timeout: a loaded test machine can
    # hold the event loop past the production default, which would look like Redis gone.
    monkeypatch.setenv("GATEWAY_REDIS_TIMEOUT", "5")
    with redis_server(tmp_path) as server:
        yield server


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`task-gateway demo` for real on a free loopback port: the gateway and every sandbox
    in one process, as a person starts it. Yields the base URL; the process is ended after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    # Its tests draw and compare each operation's vendor calls, which the shared read
    # cache would answer for (it has its own tests).
    env["GATEWAY_CACHE"] = "false"
    command = [str(Path(sys.executable).parent / "task-gateway"), "demo"]
    # Its log goes to a file: a pipe nobody reads would fill up and stall the server.
    log_path = tmp_path_factory.mktemp("demo") / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"task-gateway demo exited:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("task-gateway demo did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
