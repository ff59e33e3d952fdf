"""GraphiQL served by the gateway (page, assets, the page when assets are missing)
and the start offsets in the upstream accounting that its waterfall draws."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.http import explorer
from tests.conftest import Gateway

HTML = {"Accept": "text/html"}


async def test_the_page_loads_only_the_gateways_own_assets(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert "/graphiql/main.js" in sources and "/graphiql/main.css" in sources
    assert all(source.startswith(("/graphiql/", "data:")) for source in sources), sources


async def test_the_assets_are_served(gateway: Gateway) -> None:
    for name, kind in [
        ("main.js", "javascript"),
        ("main.css", "css"),
        ("graphql.worker.js", "javascript"),
    ]:
        response = await gateway.client.get(f"/graphiql/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"]
    assert (await gateway.client.get("/graphiql/../config.py")).status_code == 404


async def test_missing_assets_say_how_to_build_them(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(explorer, "ASSETS_DIR", tmp_path / "never-built")
    response = await gateway.client.get("/graphql", headers=HTML)
    assert response.status_code == 503
    assert "GraphiQL is not built" in response.text
    assert "make install" in response.text and "npm ci" in response.text


async def test_calls_carry_their_start_offset(gateway: Gateway) -> None:
    body = await gateway.execute(
        "{ projects(first: 3) { nodes { tasks(first: 1) { totalCount } } } }", accounting=True
    )
    calls = body["extensions"]["upstreamCalls"]["calls"]
    listing = next(call for call in calls if call["path"].split("/")[-1] == "projects")
    tasks = [call for call in calls if call["path"].endswith("/tasks")]
    assert len(tasks) == 3
    assert all(call["startMs"] >= 0 for call in calls)
    # Each project's tasks are asked for once the project list has come back.
    listing_end = listing["startMs"] + listing["durationMs"]
    assert all(call["startMs"] >= listing_end - 0.05 for call in tasks)
