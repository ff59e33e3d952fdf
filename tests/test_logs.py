"""Request ids and structured logs: X-Request-Id accepted when safe or generated,
echoed, on every line of the request; a JSON line per operation; the real server's
logging setup lets gateway.* INFO records out, secrets never."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import sandbox_env, sandbox_mounts
from gateway.observability.logs import JsonFormatter, TextFormatter
from gateway.vendors.readydesk import PLUGIN as READYDESK_PLUGIN
from tests.conftest import Gateway
from tests.test_server import free_port, running

GENERATED = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    """Formats each record as it is emitted, as a real handler does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def gateway_lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("gateway")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-42", True),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", False),  # ';' is not safe
        ("x" * 129, False),
        ("two words", False),
        ('quote"d', False),
        ("", False),
    ],
)
async def test_a_request_id_is_accepted_only_when_safe(
    gateway: Gateway, sent: str, kept: bool
) -> None:
    response = await gateway.client.get("/healthz", headers={"X-Request-Id": sent})
    echoed = response.headers["x-request-id"]
    if kept:
        assert echoed == sent
    else:
        assert GENERATED.fullmatch(echoed), echoed


async def test_each_request_without_an_id_gets_a_new_one(gateway: Gateway) -> None:
    body = {"query": "{ __typename }"}
    first = await gateway.client.post("/graphql", json=body)
    second = await gateway.client.post("/graphql", json=body)
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2 and all(GENERATED.fullmatch(i) for i in ids)


async def test_an_operation_line_and_every_line_of_the_request_carry_its_id(
    gateway: Gateway,
) -> None:
    gateway.inject(lambda request: httpx.Response(503) if "/invoiced" in request.url.path else None)
    query = "query Mixed { tasks(first: 1) { nodes { id } } projects(first: 2) { nodes { id } } }"
    with gateway_lines() as captured:
        response = await gateway.client.post(
            "/graphql",
            json={"query": query},
            headers={"X-Request-Id": "ops-7", "X-Upstream-Accounting": "1"},
        )
    body = response.json()
    assert response.headers["x-request-id"] == "ops-7"
    lines = captured.lines
    assert lines and all(line["request_id"] == "ops-7" for line in lines)
    operations = [line for line in lines if line["logger"] == "gateway.operations"]
    assert len(operations) == 1
    line = operations[0]
    assert line["level"] == "INFO"
    assert line["operation"] == "Mixed" and line["operation_type"] == "query"
    assert line["outcome"] == "partial" and line["error_codes"] == ["UPSTREAM_UNAVAILABLE"]
    assert line["upstream_calls"] == body["extensions"]["upstreamCalls"]["total"] >= 2
    assert line["duration_ms"] > 0
    assert set(line) >= {"time", "message", "logger", "level"}


async def test_a_refused_request_logs_its_outcome(gateway: Gateway) -> None:
    with gateway_lines() as captured:
        response = await gateway.client.post(
            "/graphql", content=b"not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    [line] = [line for line in captured.lines if line["logger"] == "gateway.operations"]
    assert line["outcome"] == "rejected" and line["error_codes"] == ["BAD_REQUEST"]
    assert line["request_id"] == response.headers["x-request-id"]


def test_formatters_add_extra_fields_and_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("gateway.x", logging.ERROR, "f", 1, "failed %s", ("it",), None)
        import sys

        record.exc_info = sys.exc_info()
    record.vendor = "zoho"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed it" and entry["vendor"] == "zoho"
    assert "ValueError: boom" in entry["exception"] and "request_id" not in entry
    assert "gateway.x" in TextFormatter().format(record)


def test_the_server_logs_json_lines_with_gateway_info_and_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    # As `task-gateway demo`: the gateway reaches its sandboxes on its own port.
    monkeypatch.setenv("GATEWAY_AUTH", "false")
    for name, value in sandbox_env(f"http://127.0.0.1:{port}").items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    secret = settings.section(READYDESK_PLUGIN).api_key
    assert secret is not None
    app = create_app(settings, extra_routes=sandbox_mounts())
    with running(app, port) as url:
        response = httpx.post(
            url + "/graphql",
            json={"query": "query Bills { invoices(first: 2) { nodes { invoiceId } } }"},
            headers={"X-Request-Id": "srv-1"},
        )
    assert response.status_code == 200 and "errors" not in response.json()
    assert response.headers["x-request-id"] == "srv-1"
    captured = capsys.readouterr()
    output = captured.out + captured.err
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(output.splitlines())
    mine = [line for line in lines if line.get("request_id") == "srv-1"]
    operation = [line for line in mine if line["logger"] == "gateway.operations"]
    assert len(operation) == 1 and operation[0]["level"] == "INFO"
    assert operation[0]["operation"] == "Bills" and operation[0]["upstream_calls"] == 1
    access = [line for line in mine if line["logger"] == "uvicorn.access"]
    assert [line["path"] for line in access] == ["/graphql"]
    # The gateway's own call to its ReadyDesk sandbox: redacted, with its own id.
    sandbox = [line for line in lines if "/readydesk/" in str(line.get("path"))]
    assert sandbox and all("key=REDACTED" in line["path"] for line in sandbox)
    assert secret.get_secret_value() not in output
