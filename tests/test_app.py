"""The HTTP surface: GraphiQL, GET rules, health, configuration, schema drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway.api.schema import build_schema
from gateway.config import Settings
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway, codes

ROOT = Path(__file__).resolve().parent.parent


# What clients see, and the subgraph a federation router composes (GATEWAY_FEDERATION).
SCHEMA_FILES = {"schema.graphql": False, "schema.subgraph.graphql": True}


@pytest.mark.parametrize(("name", "federation"), SCHEMA_FILES.items())
def test_schema_files_are_up_to_date(name: str, federation: bool) -> None:
    checked_in = (ROOT / name).read_text()
    flag = " --federation" if federation else ""
    assert checked_in == build_schema(federation=federation).as_str() + "\n", (
        f"run: task-gateway export-schema{flag} > {name}"
    )


@pytest.mark.parametrize(("name", "federation"), SCHEMA_FILES.items())
def test_export_schema_command_prints_the_same_sdl(name: str, federation: bool) -> None:
    argv = ["export-schema", *(["--federation"] if federation else [])]
    result = subprocess.run(
        [sys.executable, "-c", f"from gateway.cli import main; main({argv!r})"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout == (ROOT / name).read_text()


async def test_graphiql_page_is_served_to_browsers(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_allows_queries_but_not_mutations(gateway: Gateway) -> None:
    # A GET carries no Content-Type, so CSRF prevention wants the preflight header.
    preflight = {"Apollo-Require-Preflight": "true"}
    query = await gateway.client.get(
        "/graphql", params={"query": "{ tasks(first: 1) { totalCount } }"}, headers=preflight
    )
    assert query.status_code == 200 and query.json()["data"]["tasks"]["totalCount"] == 36
    task_id = encode_id(INVOICED, "Task", 700)
    mutation = await gateway.client.get(
        "/graphql",
        params={"query": f'mutation {{ deleteTask(id: "{task_id}") {{ deletedId }} }}'},
        headers=preflight,
    )
    assert mutation.status_code == 400
    assert "not allowed" in mutation.text.lower()
    still_there = await gateway.execute(f'{{ task(id: "{task_id}") {{ invoicedId }} }}')
    assert still_there["data"]["task"] == {"invoicedId": 700}


async def test_healthz_lists_configured_vendors(gateway: Gateway) -> None:
    response = await gateway.client.get("/healthz")
    assert response.status_code == 200
    assert "invoiced" in response.json()["vendors"]


async def test_syntax_error_has_a_code(gateway: Gateway) -> None:
    body = await gateway.execute("{ tasks { ")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


async def test_unconfigured_vendor_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "INVOICED_API_KEY",
        "ZOHO_ORGANIZATION_ID",
        "READYDESK_API_KEY",
        "FAKTUROID_CLIENT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATEWAY_AUTH", "false")
    app = create_app(Settings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post("/graphql", json={"query": "{ tasks { totalCount } }"})
    body = response.json()
    assert body["errors"][0]["extensions"] == {
        "code": "VENDOR_NOT_CONFIGURED",
        "vendor": "invoiced",
        "variables": ["INVOICED_API_KEY"],
    }
    assert "Invoiced" in body["errors"][0]["message"]
    assert "set INVOICED_API_KEY" in body["errors"][0]["message"]


async def test_unexpected_exceptions_are_masked(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.vendors.invoiced.client import InvoicedAdapter

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(InvoicedAdapter, "list_tasks", explode)
    body = await gateway.execute("{ tasks { totalCount } }")
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "secret internals" not in str(body)
