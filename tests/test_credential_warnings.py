"""A vendor refusing the gateway's credentials is a WARNING in the log, naming the vendor
and the variables to check (never their values), once per cool-down per vendor, whether
a query, a merged `workItems` page or a `/readyz` probe met the refusal."""

from __future__ import annotations

import logging

import pytest

from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from tests.conftest import codes, gateway_settings, running_gateway
from tests.raw_vendor import served_gateway
from tests.servers import serve_in_thread

TASKS = "{ tasks(first: 2) { nodes { id } } }"
PROJECTS = "{ projects(first: 2) { nodes { id } } }"
WORK = "{ workItems(first: 5, filter: {vendors: [ZOHO]}) { missingVendors nodes { vendor } } }"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.credentials"]


async def test_a_refused_api_key_is_one_warning_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk_live_not-the-sandbox-key-0123"
    caplog.set_level(logging.INFO, logger="gateway")
    # The sandbox and the gateway, each a real server on loopback: the sandbox answers 401.
    with serve_in_thread(create_sandbox_app()) as sandbox_url:
        overrides = {**sandbox_env(sandbox_url), "INVOICED_API_KEY": wrong}
        settings = gateway_settings(monkeypatch, **overrides)
        async with served_gateway(settings) as client:
            # A readiness probe meets the refusal first; the queries after it add no line.
            ready = await client.get("/readyz")
            assert len(warnings_of(caplog)) == 1
            answers = [
                (await client.post("/graphql", json={"query": TASKS})).json() for _ in range(3)
            ]
    assert all(codes(body) == ["UPSTREAM_AUTH"] for body in answers)
    assert ready.json()["vendors"]["invoiced"]["reason"] == "UPSTREAM_AUTH"
    (warning,) = warnings_of(caplog)
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith(
        "Invoiced refused the gateway's credentials (UPSTREAM_AUTH): check INVOICED_API_KEY, "
        "INVOICED_API_URL."
    )
    assert warning.__dict__["vendor"] == "invoiced"
    assert warning.__dict__["variables"] == ["INVOICED_API_KEY", "INVOICED_API_URL"]
    assert wrong not in caplog.text


async def test_a_refused_token_grant_warns_again_only_after_the_cool_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    revoked = "1000.revoked-refresh-token-4242"
    settings = gateway_settings(
        monkeypatch, ZOHO_REFRESH_TOKEN=revoked, GATEWAY_BREAKER_COOLDOWN="30"
    )
    caplog.set_level(logging.INFO, logger="gateway")
    async with running_gateway(settings) as gateway:
        warnings = gateway.app.state.adapters.credential_warnings
        now = [1000.0]
        warnings.clock = lambda: now[0]
        # A refusal reported beside a merged page (not raised by a field) is noticed too.
        work = await gateway.execute(WORK)
        assert len(warnings_of(caplog)) == 1
        first = await gateway.execute(PROJECTS)
        ready = await gateway.client.get("/readyz")
        assert len(warnings_of(caplog)) == 1
        now[0] += 29.9
        await gateway.execute(PROJECTS)
        assert len(warnings_of(caplog)) == 1
        now[0] += 0.2
        await gateway.execute(PROJECTS)
        # Another vendor's answers never stand for Zoho's.
        tasks = await gateway.execute(TASKS)
    assert codes(first) == ["UPSTREAM_AUTH"]
    assert work["data"]["workItems"]["missingVendors"] == ["ZOHO"]
    assert ready.json()["vendors"]["zoho"]["reason"] == "UPSTREAM_AUTH"
    assert "errors" not in tasks
    lines = warnings_of(caplog)
    assert len(lines) == 2
    assert {line.__dict__["vendor"] for line in lines} == {"zoho"}
    assert lines[0].getMessage() == (
        "Zoho Invoice refused the gateway's credentials (UPSTREAM_AUTH): check "
        "ZOHO_ORGANIZATION_ID, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, "
        "ZOHO_ACCOUNTS_URL, ZOHO_API_URL. Its requests fail until they are fixed; this "
        "warning repeats at most every 30 s."
    )
    for secret in (revoked, sandbox_env("http://sandbox")["ZOHO_CLIENT_SECRET"]):
        assert secret not in caplog.text
