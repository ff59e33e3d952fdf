"""The uvicorn server of serve/demo/sandbox, on loopback: slow headers are dropped,
and the access log never shows a secret query value."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from gateway.config import Settings
from gateway.http import server
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app, sandbox_env, sandbox_mounts
from gateway.vendors.readydesk import PLUGIN as READYDESK_PLUGIN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running(app: ASGIApp, port: int, header_timeout: float = 10.0) -> Iterator[str]:
    """The app under the same uvicorn configuration the CLI uses."""
    config = server.server_config(app, host="127.0.0.1", port=port, header_timeout=header_timeout)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


def dropped_while_trickling(port: int, prelude: bytes = b"") -> float:
    """Send headers one line at a time, slower than the limit allows in total;
    return how many seconds passed until the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        if prelude:
            client.sendall(prelude)
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        for line in range(50):  # 5 s of trickling, were it allowed
            time.sleep(0.1)
            try:
                client.sendall(b"X-Slow-%d: 1\r\n" % line)
                client.settimeout(0.001)
                if client.recv(1) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
            except OSError:
                return time.monotonic() - started
            finally:
                client.settimeout(5)
    raise AssertionError("the server kept a connection whose headers never finished")


def test_slow_headers_are_dropped() -> None:
    port = free_port()
    with running(create_sandbox_app(), port, header_timeout=0.5) as url:
        elapsed = dropped_while_trickling(port)
        assert elapsed < 3
        # A normal request on a new connection is still served.
        assert httpx.get(url + "/").status_code == 200


def test_slow_headers_of_a_second_request_on_a_connection_are_dropped() -> None:
    port = free_port()
    with running(create_sandbox_app(), port, header_timeout=0.5):
        first = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
        assert dropped_while_trickling(port, prelude=first) < 3


def test_query_secrets_are_redacted() -> None:
    assert (
        server.redact_query("/API/default.aspx?key=s3cret&cmd=get&Token=t&client_secret=x")
        == "/API/default.aspx?key=REDACTED&cmd=get&Token=REDACTED&client_secret=REDACTED"
    )
    assert server.redact_query("/graphql") == "/graphql"
    assert server.redact_query("/x?code=1&codes=2") == "/x?code=REDACTED&codes=2"


def test_the_demo_access_log_never_shows_the_readydesk_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    # As `task-gateway demo`: the gateway reaches its sandboxes on its own port.
    for name, value in sandbox_env(f"http://127.0.0.1:{port}").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_AUTH", "false")  # as the demo has it
    settings = Settings()
    key = settings.section(READYDESK_PLUGIN).api_key
    assert key is not None
    secret = key.get_secret_value()
    app = create_app(settings, extra_routes=sandbox_mounts())
    access = logging.getLogger("uvicorn.access")
    with running(app, port) as url:
        access.addHandler(caplog.handler)
        try:
            response = httpx.post(
                url + "/graphql",
                json={"query": "{ invoices(first: 2) { totalCount nodes { invoiceId } } }"},
            )
        finally:
            access.removeHandler(caplog.handler)
    assert response.status_code == 200 and "errors" not in response.json()
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    readydesk = [line for line in lines if "/readydesk/API/default.aspx" in line]
    assert readydesk, lines
    assert all("key=REDACTED" in line for line in readydesk)
    assert not [line for line in lines if secret in line]
