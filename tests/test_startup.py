"""What `task-gateway serve` and `demo` tell an operator as they start: a line per vendor
(on, off, or partly configured and what is missing, which `serve` refuses), and every
configuration error as a line naming its variable, exit status 2 and no traceback. Each
test runs the installed command in a process of its own, as an operator does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.http.sandboxes import sandbox_env

COMMAND = str(Path(sys.executable).with_name("task-gateway"))
# Sandbox credentials for addresses nobody answers at: starting never calls a vendor.
SANDBOX = sandbox_env("http://127.0.0.1:9")


def _env(**given: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": "0",
        "GATEWAY_AUTH": "false",
        **given,
    }


def _vendor(prefix: str, **overrides: str) -> dict[str, str]:
    """The sandbox variables of one vendor, with ``overrides`` (an empty value: unset)."""
    chosen = {name: value for name, value in SANDBOX.items() if name.startswith(prefix)}
    chosen.update(overrides)
    return {name: value for name, value in chosen.items() if value}


def refused(env: dict[str, str], command: str = "serve") -> subprocess.CompletedProcess[str]:
    """A start that must stop by itself (it is killed after 60 s, a guard against a hang)."""
    return subprocess.run([COMMAND, command], env=env, capture_output=True, text=True, timeout=60)


def started(env: dict[str, str], command: str = "serve") -> str:
    """The log of a start, read until uvicorn says it is listening; then it is stopped."""
    process = subprocess.Popen(
        [COMMAND, command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30  # a guard against a hang, not a speed test
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Uvicorn running" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    return "".join(lines)


def startup_records(output: str) -> dict[str, dict[str, Any]]:
    """The start-up lines (JSON), by vendor."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {r["vendor"]: r for r in records if r["logger"] == "gateway.startup" and "vendor" in r}


def test_serve_logs_a_line_per_vendor_in_its_log_format() -> None:
    env = _env(**_vendor("INVOICED_"), **_vendor("ZOHO_"), **_vendor("FAKTUROID_"))
    output = started(env)
    assert "Uvicorn running" in output
    records = startup_records(output)
    assert list(records) == ["invoiced", "zoho", "readydesk", "fakturoid"]
    assert {v: (r["level"], r["message"]) for v, r in records.items()} == {
        "invoiced": ("INFO", "Invoiced: on"),
        "zoho": ("INFO", "Zoho Invoice: on"),
        "readydesk": ("INFO", "ReadyDesk: off (not configured)"),
        "fakturoid": ("INFO", "Fakturoid: on"),
    }
    assert "No vendor is configured" not in output


def test_demo_logs_every_vendor_on() -> None:
    output = started(_env(GATEWAY_LOG_FORMAT="text"), command="demo")
    assert "Uvicorn running" in output
    for label in ("Invoiced", "Zoho Invoice", "ReadyDesk", "Fakturoid"):
        assert f"INFO    gateway.startup {label}: on\n" in output


# The partly configured vendors of a start, and the line each gets.
PARTIAL_ZOHO = [
    # A client id alone: the refresh-token way is the one begun.
    (
        _vendor("ZOHO_", ZOHO_CLIENT_SECRET="", ZOHO_REFRESH_TOKEN="", ZOHO_ORGANIZATION_ID=""),
        "Zoho Invoice: partly configured: missing ZOHO_ORGANIZATION_ID, ZOHO_CLIENT_SECRET, "
        "ZOHO_REFRESH_TOKEN",
    ),
    (
        _vendor("ZOHO_", ZOHO_ORGANIZATION_ID="", ZOHO_REFRESH_TOKEN=""),
        "Zoho Invoice: partly configured: missing ZOHO_ORGANIZATION_ID, ZOHO_REFRESH_TOKEN",
    ),
    (
        _vendor("ZOHO_", ZOHO_ORGANIZATION_ID=""),
        "Zoho Invoice: partly configured: missing ZOHO_ORGANIZATION_ID",
    ),
    # The organization alone: either way is as far along, both are named.
    (
        {"ZOHO_ORGANIZATION_ID": "10234695"},
        "Zoho Invoice: partly configured: missing ZOHO_ACCESS_TOKEN (or else ZOHO_CLIENT_ID, "
        "ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN)",
    ),
]
PARTIAL_OTHERS = {
    **_vendor("READYDESK_", READYDESK_API_URL=""),
    **_vendor("FAKTUROID_", FAKTUROID_USER_AGENT="  "),  # blank is unset
}


@pytest.mark.parametrize(
    ("zoho", "zoho_line"),
    PARTIAL_ZOHO,
    ids=["client-id", "no-org-nor-refresh", "no-org", "org-only"],
)
def test_serve_refuses_partly_configured_vendors(zoho: dict[str, str], zoho_line: str) -> None:
    variables = {**zoho, **PARTIAL_OTHERS}
    done = refused(_env(**_vendor("INVOICED_"), **variables))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    records = startup_records(done.stderr)
    assert {v: (r["level"], r["message"]) for v, r in records.items()} == {
        "invoiced": ("INFO", "Invoiced: on"),
        "zoho": ("WARNING", zoho_line),
        "readydesk": ("WARNING", "ReadyDesk: partly configured: missing READYDESK_API_URL"),
        "fakturoid": ("WARNING", "Fakturoid: partly configured: missing FAKTUROID_USER_AGENT"),
    }
    refusals = [line for line in done.stderr.splitlines() if line.startswith("task-gateway:")]
    assert [line.partition(" (set them")[0] for line in refusals] == [
        f"task-gateway: configuration error: {label} is partly configured: {missing}"
        for label, _, missing in (
            line.partition(": partly configured: ")
            for line in (
                zoho_line,
                "ReadyDesk: partly configured: missing READYDESK_API_URL",
                "Fakturoid: partly configured: missing FAKTUROID_USER_AGENT",
            )
        )
    ]
    for name, value in variables.items():
        if name.endswith(("_KEY", "_SECRET", "_TOKEN")):
            assert value not in done.stderr + done.stdout


def test_every_bad_variable_is_named_at_once_without_its_secret() -> None:
    """Every section is read before anything is reported: one start names them all."""
    done = refused(
        _env(
            GATEWAY_MAX_DEPTH="abc",
            GATEWAY_MAX_ALIASES="0",
            GATEWAY_UPSTREAM_TIMEOUT="-3",
            GATEWAY_PORT="70000",
            GATEWAY_CACHE="maybe",
            GATEWAY_LOG_FORMAT="xml",
            GATEWAY_REDIS_URL="http://user:hunter2-redis-password@cache:6379/0",
            GATEWAY_JWKS_URL="keys.json",
            ZOHO_REQUESTS_PER_MINUTE="lots",
            INVOICED_CACHE_TTL="-1",
        )
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    prefix = "task-gateway: configuration error: "
    assert done.stderr.splitlines() == [
        prefix + line
        for line in (
            'GATEWAY_PORT: must be an integer >= 0 <= 65535 (got "70000")',
            'GATEWAY_UPSTREAM_TIMEOUT: must be a number > 0 (got "-3")',
            'GATEWAY_MAX_DEPTH: must be an integer >= 1 (got "abc")',
            'GATEWAY_MAX_ALIASES: must be an integer >= 1 (got "0")',
            "GATEWAY_REDIS_URL: must be a redis://, rediss:// or unix:// URL, such as "
            "redis://localhost:6379/0 (the value is not shown: it may hold a password)",
            'GATEWAY_CACHE: must be true or false (got "maybe")',
            'GATEWAY_LOG_FORMAT: must be one of json, text (got "xml")',
            'GATEWAY_JWKS_URL: must be an https:// URL of a JSON Web Key Set (got "keys.json")',
            'INVOICED_CACHE_TTL: must be a number >= 0 (got "-1")',
            'ZOHO_REQUESTS_PER_MINUTE: must be an integer >= 0 (got "lots")',
        )
    ]
    assert "hunter2" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        (
            {"GATEWAY_PERSISTED_DOCUMENTS": "/nonexistent/documents.json"},
            "GATEWAY_PERSISTED_DOCUMENTS: cannot read /nonexistent/documents.json: "
            "no such file or directory",
        ),
        (
            {"GATEWAY_REDIS_URL": "redis://:hunter2-redis-password@cache:port/0"},
            "GATEWAY_REDIS_URL: must be a redis://",
        ),
        (
            {"GATEWAY_AUTH": "true", "GATEWAY_API_KEYS": "ci-without-a-digest"},
            "GATEWAY_API_KEYS: API key entry 1 is not name:sha256hex:scope,scope",
        ),
        (
            {"GATEWAY_AUTH": "true", "GATEWAY_JWT_SECRET": "hunter2-too-short"},
            "GATEWAY_JWT_SECRET: must be at least 32 bytes",
        ),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER: 'zipkin' is not supported"),
    ],
    ids=["documents-file", "redis-port", "api-keys", "jwt-secret", "otel"],
)
def test_a_bad_setting_is_a_line_naming_its_variable(variables: dict[str, str], line: str) -> None:
    done = refused(_env(**_vendor("INVOICED_"), **variables))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"task-gateway: configuration error: {line}" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "is not JSON in UTF-8 (line 1)"),
        (
            '{"format": "apollo-persisted-query-manifest", "operations": [{"id": 1}]}',
            "`operations` must be a list of objects",
        ),
    ],
    ids=["not-json", "not-a-manifest"],
)
def test_a_malformed_documents_file_names_the_variable(
    tmp_path: Path, content: str, complaint: str
) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(content, encoding="utf-8")
    done = refused(_env(**_vendor("INVOICED_"), GATEWAY_PERSISTED_DOCUMENTS=str(manifest)))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"configuration error: GATEWAY_PERSISTED_DOCUMENTS: {manifest}" in done.stderr
    assert complaint in done.stderr
