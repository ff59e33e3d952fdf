"""Whatever a vendor's socket does wrong, the client gets UPSTREAM_UNAVAILABLE (could
not talk) or UPSTREAM_BAD_RESPONSE (answered with bytes that are not HTTP) for that
vendor, and nothing of the request (keys, tokens, secrets, URLs with their query
strings) reaches a log line or the response, at any level.

Real sockets all the way: client to the gateway under uvicorn, the gateway through
its production transport to a raw TCP server that forwards token grants to
the sandboxes and answers the vendor's data call with the fault.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import pytest

from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from gateway.observability.logs import JsonFormatter, TextFormatter
from tests.conftest import gateway_settings
from tests.raw_vendor import Fault, RawVendor, raw_vendor, reset, served_gateway

UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"


async def bad_status_line(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 TWO HUNDRED\r\nContent-Length: 0\r\n\r\n")
    writer.close()


async def reset_mid_headers(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: applic")
    await writer.drain()
    reset(writer)


async def reset_mid_body(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b'Content-Length: 400\r\n\r\n[{"id": 1, ')
    await writer.drain()
    reset(writer)


async def truncated_body(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b'Content-Length: 400\r\n\r\n[{"id": 1, ')
    writer.close()


async def tls_garbage(writer: asyncio.StreamWriter) -> None:
    # A TLS alert record: what a TLS-only port answers to plain HTTP.
    writer.write(b"\x15\x03\x03\x00\x02\x02\x46\x00\xff\xfe\x80\x01")
    writer.close()


async def invalid_chunked(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n")
    writer.close()


async def no_answer(writer: asyncio.StreamWriter) -> None:
    writer.close()


async def endless_answer(writer: asyncio.StreamWriter) -> None:
    # Announces 64 GiB and sends a little of it: refused on the length, nothing buffered.
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b"Content-Length: 68719476736\r\n\r\n[" + b" " * 4096)
    await writer.drain()
    writer.close()


FAULTS: dict[str, tuple[Fault, str]] = {
    "bad status line": (bad_status_line, BAD_RESPONSE),
    "reset mid-headers": (reset_mid_headers, UNAVAILABLE),
    "reset mid-body": (reset_mid_body, UNAVAILABLE),
    "body shorter than Content-Length": (truncated_body, UNAVAILABLE),
    "TLS-style binary garbage": (tls_garbage, BAD_RESPONSE),
    "invalid chunked encoding": (invalid_chunked, BAD_RESPONSE),
    "closed without answering": (no_answer, UNAVAILABLE),
    "answer longer than the gateway reads": (endless_answer, BAD_RESPONSE),
}

# Per vendor: a query whose one field needs the vendor's data call.
QUERIES = {
    "invoiced": ("tasks", "{ tasks(first: 2) { nodes { id } } }"),
    "zoho": ("projects", "{ projects(first: 2) { nodes { id } } }"),
    "readydesk": ("invoices", "{ invoices(first: 2) { nodes { id } } }"),
    "fakturoid": ("todos", "{ todos(first: 2) { nodes { id } } }"),
}

_SECRET_VARIABLES = ("KEY", "TOKEN", "SECRET", "CLIENT_ID")


def secrets_of(vendor: RawVendor) -> set[str]:
    """Every sandbox credential, and every credential, query string and URL the vendor
    was sent (the sandboxes' access tokens among them)."""
    found = {
        value
        for name, value in sandbox_env(vendor.url).items()
        if any(part in name for part in _SECRET_VARIABLES)
    }
    for received in vendor.received:
        if "?" in received.target:
            found |= {received.target, vendor.url + received.target}
            found.add(received.target.partition("?")[2])
        authorization = received.header("Authorization")
        if authorization:
            found |= {authorization, authorization.partition(" ")[2]}
        if received.body:
            found.add(received.body.decode("latin-1"))
    return {secret for secret in found if len(secret) >= 8}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record of the test formatted as the gateway's JSON and text logs would
    print it, tracebacks and exception chains included."""
    stream = io.StringIO()
    handlers = []
    for formatter in (JsonFormatter(), TextFormatter()):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("vendor_name", list(QUERIES))
async def test_a_vendor_socket_fault_is_mapped_for_that_vendor_and_leaks_nothing(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    log_lines: io.StringIO,
    vendor_name: str,
    fault: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    fault_writer, code = FAULTS[fault]
    field, query = QUERIES[vendor_name]
    async with raw_vendor(create_sandbox_app()) as vendor:
        vendor.fault = fault_writer
        settings = gateway_settings(monkeypatch, **sandbox_env(vendor.url))
        async with served_gateway(settings) as client:
            response = await client.post("/graphql", json={"query": query})
            body = response.json()

    assert body["data"] == {field: None}
    [error] = body["errors"]
    assert error["path"] == [field]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["vendor"] == vendor_name
    # The vendor's data call was really made (and faulted), not refused before.
    assert any("/oauth/" not in received.target for received in vendor.received)

    secrets = secrets_of(vendor)
    assert secrets
    outputs = {
        "response": response.text,
        "caplog": caplog.text,
        "records": "\n".join(
            f"{record.getMessage()} {record.args!r} {record.exc_info!r} {record.__dict__!r}"
            for record in caplog.records
        ),
        "formatted logs": log_lines.getvalue(),
        "stderr": capfd.readouterr().err,
    }
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {where}"
