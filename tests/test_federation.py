"""The gateway as an Apollo Federation v2 subgraph: SDL, `_entities`, composition
with a second subgraph, and Apollo Gateway answering a query that crosses both."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway
from tests.federation import notes_subgraph
from tests.servers import serve_in_thread

# The subgraph schema, as a federation router reaches it.
pytestmark = pytest.mark.federation

FEDERATION = Path(__file__).parent / "federation"


def node(script: str, *args: str) -> Any:
    if shutil.which("node") is None or not (FEDERATION / "node_modules").is_dir():
        pytest.fail("node and tests/federation/node_modules are needed: run `make test`")
    result = subprocess.run(
        ["node", str(FEDERATION / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_service_sdl_declares_entities(gateway: Gateway) -> None:
    body = await gateway.execute("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    assert 'type Task implements WorkItem & Node @key(fields: "id")' in sdl


async def test_entities_go_through_the_dataloaders(gateway: Gateway) -> None:
    first, second = (encode_id(INVOICED, "Task", n) for n in (700, 701))
    body = await gateway.execute(
        """query($reps: [_Any!]!) { _entities(representations: $reps) {
              ... on Task { invoicedId name } } }""",
        {"reps": [{"__typename": "Task", "id": i} for i in (first, second, first, second)]},
        accounting=True,
    )
    ids = [entity["invoicedId"] for entity in body["data"]["_entities"]]
    assert ids == [700, 701, 700, 701]
    assert body["extensions"]["upstreamCalls"]["byVendor"]["invoiced"]["count"] == 2


async def test_subgraph_composes_with_a_second_subgraph(gateway: Gateway, tmp_path: Path) -> None:
    body = await gateway.execute("{ _service { sdl } }")
    ours = tmp_path / "tasks.graphql"
    ours.write_text(body["data"]["_service"]["sdl"])
    notes = tmp_path / "notes.graphql"
    notes.write_text(notes_subgraph.schema.as_str())
    composed = node("compose.mjs", f"tasks={ours}", f"notes={notes}")
    assert "errors" not in composed, composed.get("errors")
    supergraph = composed["supergraphSdl"]
    assert "@join__type(graph: TASKS" in supergraph and "@join__type(graph: NOTES" in supergraph


def test_apollo_gateway_answers_a_query_across_both_subgraphs(settings: Settings) -> None:
    transport = httpx.ASGITransport(app=create_sandbox_app())
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    query = """{
      pinnedTasks { id note name action }
      tasks(first: 3) { nodes { invoicedId note } }
    }"""
    with (
        serve_in_thread(app) as tasks_url,
        serve_in_thread(notes_subgraph.create_app()) as notes_url,
    ):
        request = {
            "subgraphs": [
                {"name": "tasks", "url": f"{tasks_url}/graphql"},
                {"name": "notes", "url": f"{notes_url}/graphql"},
            ],
            "query": query,
        }
        result = node("gateway.mjs", json.dumps(request))
    assert "errors" not in result, result.get("errors")
    pinned = result["data"]["pinnedTasks"]
    assert [task["note"] for task in pinned] == list(notes_subgraph.NOTES.values())
    assert pinned[0]["name"].startswith("Call customer") and pinned[0]["action"] == "PHONE"
    nodes = result["data"]["tasks"]["nodes"]
    assert [n["invoicedId"] for n in nodes] == [700, 701, 702]
    assert nodes[0]["note"] == notes_subgraph.NOTES[notes_subgraph.PINNED[0]]
    assert nodes[1]["note"] is None
