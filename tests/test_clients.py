"""The mainstream GraphQL clients, as shipped (tests/clients, pinned by its lock file),
each running its recipe of docs/clients/ with `node` against a real gateway over HTTP,
client auth on, its sandboxes behind it. Two gateways for the whole module: one for
every client, and one in manifest mode for Relay (a manifest makes a gateway a
safelist, which the others' free-form documents could not pass)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from tests.conftest import gateway_settings
from tests.servers import serve_in_thread
from tests.test_client_auth import KEYS, api_keys_setting

CLIENTS = Path(__file__).parent / "clients"
KEY = KEYS["everything"][0]
RELAY_MANIFEST = CLIENTS / "relay" / "persisted_queries.json"
FIRST_TASKS = ["Call customer about overdue invoice #1", "Send final notice letter #2"]


@dataclass
class Served:
    url: str
    relay_url: str


def node_tool(*command: str, env: dict[str, str] | None = None) -> str:
    """A command of tests/clients (node or a package's binary), its stdout."""
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules").is_dir():
        pytest.fail("node and tests/clients/node_modules are needed: run `make install-test`")
    done = subprocess.run(
        list(command),
        cwd=CLIENTS,
        env={"PATH": str(Path(node).parent), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def compile_relay() -> None:
    # The compiler wants its manifest file to exist before it writes it.
    if not RELAY_MANIFEST.exists():
        RELAY_MANIFEST.write_text("{}\n")
    node_tool("node_modules/.bin/relay-compiler")


def serve(settings: Settings) -> Any:
    transport = httpx.ASGITransport(app=create_sandbox_app(settings.plugins))
    vendors = [plugin.vendor for plugin in settings.plugins]
    return serve_in_thread(create_app(settings, transports=dict.fromkeys(vendors, transport)))


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    compile_relay()
    with pytest.MonkeyPatch.context() as patch:
        auth = {"GATEWAY_AUTH": "true", "GATEWAY_API_KEYS": api_keys_setting()}
        settings = gateway_settings(patch, **auth)
        relay = gateway_settings(patch, **auth, GATEWAY_PERSISTED_DOCUMENTS=str(RELAY_MANIFEST))
    with serve(settings) as url, serve(relay) as relay_url:
        yield Served(f"{url}/graphql", f"{relay_url}/graphql")


def run(script: str, url: str) -> dict[str, Any]:
    """A client script's report: the last line it prints, as JSON."""
    stdout = node_tool("node", script, env={"GATEWAY_URL": url, "GATEWAY_API_KEY": KEY})
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def test_urql_queries_by_get(served: Served) -> None:
    result = run("urql.mjs", served.url)
    assert result["error"] is None
    tasks = result["data"]["tasks"]["nodes"]
    assert [task["name"] for task in tasks] == FIRST_TASKS
    assert all(task["dueDate"].endswith("Z") or "+" in task["dueDate"] for task in tasks)
    assert [request["method"] for request in result["sent"]] == ["GET"]


def test_graphql_request_by_post_and_by_get(served: Served) -> None:
    result = run("graphql-request.mjs", served.url)
    assert result["byPost"] == {"tasks": {"nodes": [{"invoicedId": 700}, {"invoicedId": 701}]}}
    assert [node["invoicedId"] for node in result["byGet"]["tasks"]["nodes"]] == [700, 701, 702]
    assert [request["method"] for request in result["sent"]] == ["POST", "GET", "POST"]
    # Without its key the same client is refused by the gateway, not by the transport.
    assert result["refused"] == "UNAUTHENTICATED"


def test_apollo_client_with_automatic_persisted_queries(served: Served) -> None:
    result = run("apollo.mjs", served.url)
    assert result["first"] == result["second"]
    assert [task["name"] for task in result["first"]["tasks"]["nodes"]] == FIRST_TASKS
    sent = result["sent"]
    # Hash alone (not found), hash and text (registered), then the hash alone runs it.
    assert result["registered"] == 2
    assert ["query" in request["body"] for request in sent] == [False, True, False]
    assert all("persistedQuery" in request["body"] for request in sent)


def test_relay_with_doc_id_a_manifest_and_a_paginated_connection(served: Served) -> None:
    result = run("relay.mjs", served.relay_url)
    assert result["textSent"] is None  # the artifact holds the id alone
    assert result["firstPage"] == FIRST_TASKS
    assert len(result["merged"]) == 4 and result["merged"][:2] == FIRST_TASKS
    assert result["hasNextPage"] is True
    assert all(request["body"] == ["doc_id", "variables"] for request in result["sent"])
    assert len(result["sent"]) == 2


def test_relay_documents_run_nowhere_but_the_manifest_gateway(served: Served) -> None:
    manifest = json.loads(RELAY_MANIFEST.read_text())
    doc_id = next(iter(manifest))
    other = httpx.post(served.url, json={"doc_id": doc_id}, headers={"X-API-Key": KEY})
    assert other.status_code == 400
    free_form = httpx.post(
        served.relay_url, json={"query": "{ __typename }"}, headers={"X-API-Key": KEY}
    )
    assert free_form.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_codegen_types_the_gateway_scalars_strictly(served: Served) -> None:
    env_run = {"GATEWAY_URL": served.url, "GATEWAY_API_KEY": KEY}
    schema = CLIENTS / "codegen" / "__generated__" / "schema.graphql"
    schema.parent.mkdir(exist_ok=True)
    exported = subprocess.run(
        [str(Path(sys.executable).parent / "task-gateway"), "export-schema"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    schema.write_text(exported.stdout)
    node_tool("node_modules/.bin/graphql-codegen", "--config", "codegen.yml", env=env_run)
    generated = (CLIENTS / "codegen" / "__generated__" / "graphql.ts").read_text()
    assert "DateTime: { input: string; output: string; }" in generated
    assert "Decimal: { input: string; output: string; }" in generated
    assert ": any" not in generated
    node_tool("node_modules/.bin/tsc", "-p", "tsconfig.json", env=env_run)
    result = run("codegen/dist/app.js", served.url)
    assert result["due"] and result["subTotal"]
    assert [task["name"] for task in result["data"]["tasks"]["nodes"]] == FIRST_TASKS
