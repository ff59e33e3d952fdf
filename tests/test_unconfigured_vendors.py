"""Vendors without credentials: `workItems` names them, a gateway with none says so
in every answer, and `task-gateway serve` warns at start when nothing is configured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.http.sandboxes import sandbox_env
from tests.conftest import SANDBOX_BASE, codes, running_gateway
from tests.raw_vendor import served_gateway

WORK = """
query($vendors: [Vendor!]) {
  workItems(first: 5, filter: {vendors: $vendors}) {
    missingVendors unconfiguredVendors nodes { vendor }
  }
}
"""
WORK_VENDORS = ["INVOICED", "ZOHO", "FAKTUROID"]


def settings_without(monkeypatch: pytest.MonkeyPatch, *names: str) -> Settings:
    monkeypatch.setenv("GATEWAY_AUTH", "false")  # these tests are about vendors, not clients
    for name, value in sandbox_env(SANDBOX_BASE).items():
        monkeypatch.setenv(name, value)
    for name in names:
        monkeypatch.delenv(name)
    return Settings()


async def work_items(settings: Settings, vendors: list[str] | None = None) -> dict[str, Any]:
    async with running_gateway(settings) as gateway:
        return await gateway.execute(WORK, {"vendors": vendors})


async def test_an_unconfigured_vendor_is_named_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = await work_items(settings_without(monkeypatch, "INVOICED_API_KEY"))
    assert "errors" not in body
    connection = body["data"]["workItems"]
    assert connection["unconfiguredVendors"] == ["INVOICED"]
    assert connection["missingVendors"] == []
    assert connection["nodes"] and {n["vendor"] for n in connection["nodes"]} <= {
        "ZOHO",
        "FAKTUROID",
    }


async def test_asking_for_an_unconfigured_vendor_by_name_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = await work_items(
        settings_without(monkeypatch, "INVOICED_API_KEY"), ["INVOICED", "FAKTUROID"]
    )
    assert codes(body) == ["VENDOR_NOT_CONFIGURED"]
    error = body["errors"][0]
    assert error["extensions"]["vendor"] == "invoiced"
    assert error["path"] == ["workItems"]
    connection = body["data"]["workItems"]
    assert connection["missingVendors"] == ["INVOICED"]
    assert connection["unconfiguredVendors"] == ["INVOICED"]
    assert connection["nodes"] and {n["vendor"] for n in connection["nodes"]} == {"FAKTUROID"}


async def test_with_no_vendor_configured_the_empty_list_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = await work_items(settings_without(monkeypatch, *sandbox_env(SANDBOX_BASE)))
    assert codes(body) == ["VENDOR_NOT_CONFIGURED"] * 3
    assert [e["extensions"]["vendor"] for e in body["errors"]] == ["invoiced", "zoho", "fakturoid"]
    connection = body["data"]["workItems"]
    assert connection["nodes"] == []
    assert connection["missingVendors"] == WORK_VENDORS
    assert connection["unconfiguredVendors"] == WORK_VENDORS


async def test_with_every_vendor_configured_none_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = await work_items(settings_without(monkeypatch))
    assert "errors" not in body
    assert body["data"]["workItems"]["unconfiguredVendors"] == []


async def test_not_configured_names_the_variables_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zoho = [name for name in sandbox_env(SANDBOX_BASE) if name.startswith("ZOHO_")]
    settings = settings_without(monkeypatch, *zoho, "READYDESK_API_KEY")
    async with served_gateway(settings) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ projects { totalCount } invoices { totalCount } }"},
        )
    assert response.status_code == 200
    errors = {error["path"][0]: error for error in response.json()["errors"]}
    assert errors["projects"]["extensions"] == {
        "code": "VENDOR_NOT_CONFIGURED",
        "vendor": "zoho",
        "variables": [
            "ZOHO_ORGANIZATION_ID",
            "ZOHO_CLIENT_ID",
            "ZOHO_CLIENT_SECRET",
            "ZOHO_REFRESH_TOKEN",
        ],
    }
    assert errors["projects"]["message"] == (
        "Zoho Invoice is not configured on this gateway; set ZOHO_ORGANIZATION_ID, "
        "ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN "
        "(or ZOHO_ORGANIZATION_ID, ZOHO_ACCESS_TOKEN)."
    )
    assert errors["invoices"]["extensions"]["variables"] == [
        "READYDESK_API_URL",
        "READYDESK_API_KEY",
    ]
    assert "READYDESK_API_URL, READYDESK_API_KEY." in errors["invoices"]["message"]


def _serve_output(env: dict[str, str], until: str) -> str:
    """Start `task-gateway serve` on a free loopback port and read its log until ``until``."""
    command = [str(Path(sys.executable).with_name("task-gateway")), "serve"]
    base = {
        "PATH": os.environ.get("PATH", ""),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": "0",
        "GATEWAY_AUTH": "false",  # serve refuses to start with auth on and no credentials
    }
    process = subprocess.Popen(
        command,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
            if until in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    return "".join(lines)


def test_serve_warns_at_start_when_no_vendor_is_configured() -> None:
    output = _serve_output({}, until="Uvicorn running")
    assert "Uvicorn running" in output
    warning = next(line for line in output.splitlines() if "No vendor is configured" in line)
    assert "VENDOR_NOT_CONFIGURED" in warning and "--print-env" in warning


def test_serve_does_not_warn_when_a_vendor_is_configured() -> None:
    env = {
        name: value
        for name, value in sandbox_env("http://127.0.0.1:9").items()
        if name.startswith("INVOICED_")
    }
    output = _serve_output(env, until="Uvicorn running")
    assert "Uvicorn running" in output
    assert "No vendor is configured" not in output
