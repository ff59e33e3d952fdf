"""The compiled executor against graphql-core's: hundreds of operations generated from
the schema (seeded: nested selections, fragments, inline fragments on interfaces,
aliases, variables sent and left out, nulls, @skip/@include), some under a vendor
fault or a non-null field failing, sent over HTTP to two gateways in front of the
same sandboxes; every answer must be the same bytes (JSON, key order included)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

from gateway.api.compiled.plan import plan_caches
from gateway.api.schema import build_schema
from gateway.config import Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.vendors.invoiced.graphql import types as invoiced_types
from tests.conftest import FaultyTransport, gateway_settings

SEED = 20261205
OPERATIONS = 300
MAX_DEPTH = 3
UNLIMITED = {
    "ZOHO_SANDBOX_QUOTA": "off",
    "FAKTUROID_SANDBOX_QUOTA": "off",
    "INVOICED_SANDBOX_QUOTA": "off",
    "ZOHO_REQUESTS_PER_MINUTE": "0",
    "ZOHO_REQUESTS_PER_DAY": "0",
    "FAKTUROID_REQUESTS_PER_MINUTE": "0",
    "GATEWAY_CLIENT_REQUESTS_PER_MINUTE": "0",
    "GATEWAY_CLIENT_UPSTREAM_CALLS_PER_MINUTE": "0",
    # Both gateways read the vendor every time: a kept read would make their answers'
    # freshness (the age of each vendor's part) differ by when each was kept.
    "GATEWAY_CACHE": "false",
    "FAKTUROID_BY_ID_MAX_AGE": "0",
}
LISTS = ("tasks", "projects", "invoices", "todos", "workItems")
VENDOR_PREFIXES = ("invoiced", "zoho", "readydesk", "fakturoid")


@dataclass
class Operation:
    text: str
    variables: dict[str, Any]
    vendor_down: str | None = None
    broken_names: bool = False


@dataclass
class _Builder:
    rng: random.Random
    schema: GraphQLSchema
    ids: list[str]
    fragments: list[str] = field(default_factory=list)
    declared: dict[str, str] = field(default_factory=dict)
    aliases: int = 0
    # workItems cursors name a walk snapshot each gateway makes up: not comparable.
    cursors: bool = True

    def operation(self) -> Operation:
        roots = [self._root() for _ in range(self.rng.randint(1, 3))]
        fault = self.rng.random()
        if fault >= 0.15 and fault < 0.3:
            # Where the broken name lands: a nullable list item, and a non-null edge
            # whose null bubbles up to the nullable connection.
            roots.append(
                f"{self._alias()}tasks(first: 4) {{ nodes {{ id name }} "
                f"{self.rng.choice(['edges { node { name } }', 'totalCount'])} }}"
            )
        declared = "".join(f"${n}: {t} " for n, t in self.declared.items())
        header = f"query Generated({declared.strip()})" if self.declared else "query Generated"
        text = "\n".join([header + " {", *roots, "}", *self.fragments])
        variables: dict[str, Any] = {}
        for name, kind in self.declared.items():
            chance = self.rng.random()
            if kind.startswith("Boolean"):
                if kind.endswith("!") or chance < 0.7:
                    variables[name] = self.rng.random() < 0.6
            elif chance < 0.4:
                variables[name] = self.rng.randint(0, 4)
            elif chance < 0.6:
                variables[name] = None  # sent as null; left out otherwise
        operation = Operation(text, variables)
        if fault < 0.15:
            operation.vendor_down = self.rng.choice(VENDOR_PREFIXES)
        elif fault < 0.3:
            operation.broken_names = True
        return operation

    def _alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}: "

    def _root(self) -> str:
        query = self.schema.query_type
        assert query is not None
        name = self.rng.choice([*LISTS, "node", "nodes", "task"])
        if name in LISTS:
            if self.rng.random() < 0.3:
                self.declared.setdefault("first", "Int")
                args = "(first: $first)"
            else:
                args = f"(first: {self.rng.randint(0, 4)})"
        elif name == "nodes":
            picked = self.rng.sample(self.ids, k=min(3, len(self.ids)))
            args = "(ids: [" + ", ".join(f'"{i}"' for i in picked) + "])"
        else:
            args = f'(id: "{self.rng.choice(self.ids)}")'
        root_type = get_named_type(query.fields[name].type)
        self.cursors = name != "workItems"
        return f"{self._alias()}{name}{args} {self._selection(root_type, 1)}"

    def _selection(self, parent: Any, depth: int) -> str:
        parts: list[str] = []
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            names = [
                n for n in parent.fields if self.cursors or not n.endswith(("cursor", "Cursor"))
            ]
            for name in self.rng.sample(names, k=min(len(names), self.rng.randint(1, 5))):
                parts.append(self._field(parent, name, depth))
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            for possible in self.rng.sample(list(self.schema.get_possible_types(parent)), k=2):
                parts.append(f"... on {possible.name} {self._selection(possible, depth)}")
        if self.rng.random() < 0.3:
            parts.append("__typename")
        if isinstance(parent, GraphQLObjectType) and self.rng.random() < 0.25:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {parent.name} {{ {' '.join(parts)} }}")
            parts = [f"...{name}", *self.rng.sample(parts, k=1)]
        if self.rng.random() < 0.15:
            parts.append(f"... @include(if: $inc) {{ {self.rng.choice(parts)} }}")
            self.declared.setdefault("inc", "Boolean = true")
        return "{ " + " ".join(parts or ["__typename"]) + " }"

    def _field(self, parent: Any, name: str, depth: int) -> str:
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        alias = self._alias() if self.rng.random() < 0.3 or definition.args else ""
        args = ""
        if "first" in definition.args:
            args = f"(first: {self.rng.randint(0, 3)})"
        directive = ""
        chance = self.rng.random()
        if chance < 0.1:
            directive = f" @skip(if: {self.rng.choice(['true', 'false', '$skip'])})"
            if "$skip" in directive:
                self.declared.setdefault("skip", "Boolean!")
        elif chance < 0.15:
            directive = " @include(if: $inc)"
            self.declared.setdefault("inc", "Boolean = true")
        if is_leaf_type(named):
            return f"{alias}{name}{args}{directive}"
        if depth >= MAX_DEPTH:
            return f"{alias}__typename{directive}" if alias else "__typename"
        return f"{alias}{name}{args}{directive} {self._selection(named, depth + 1)}"


def generated(schema: GraphQLSchema, ids: list[str]) -> Iterator[Operation]:
    rng = random.Random(SEED)
    for _ in range(OPERATIONS):
        yield _Builder(rng, schema, ids).operation()


@dataclass
class Pair:
    compiled: httpx.AsyncClient
    graphql_core: httpx.AsyncClient
    transport: FaultyTransport
    apps: list[Any]


@pytest.fixture
async def pair(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Pair]:
    settings = gateway_settings(monkeypatch, **UNLIMITED)
    sandbox = create_sandbox_app(settings.plugins)
    transport = FaultyTransport(httpx.ASGITransport(app=sandbox))
    vendors = [plugin.vendor for plugin in settings.plugins]
    clients, apps = [], []
    for executor in ("compiled", "graphql-core"):
        monkeypatch.setenv("GATEWAY_EXECUTOR", executor)
        app = create_app(
            Settings(plugins=settings.plugins), transports=dict.fromkeys(vendors, transport)
        )
        apps.append(app)
        clients.append(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        )
    yield Pair(clients[0], clients[1], transport, apps)
    for client, app in zip(clients, apps, strict=True):
        await client.aclose()
        await app.state.adapters.aclose()


def _names_broken(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """A fault: while on, every third Invoiced task answers null for its non-null name."""
    switch = {"on": False}
    original = invoiced_types.Task.from_model.__func__  # type: ignore[attr-defined]

    def broken(cls: type[invoiced_types.Task], task: Any) -> invoiced_types.Task:
        made = original(cls, task)
        if switch["on"] and task.id % 3 == 0:
            made.name = None  # type: ignore[assignment]
        return made

    monkeypatch.setattr(invoiced_types.Task, "from_model", classmethod(broken))
    return switch


async def _ids(client: httpx.AsyncClient) -> list[str]:
    query = (
        "{ tasks(first: 3) { nodes { id } } projects(first: 2) { nodes { id } } "
        "invoices(first: 2) { nodes { id } } todos(first: 2) { nodes { id } } }"
    )
    data = (await client.post("/graphql", json={"query": query})).json()["data"]
    return [node["id"] for root in data.values() for node in root["nodes"]] + ["bm90LWFuLWlk"]


async def test_both_executors_answer_the_same_bytes(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _names_broken(monkeypatch)
    before = plan_caches()
    ids = await _ids(pair.compiled)
    seen = {"errors": 0, "bubbled": 0, "data": 0}
    for operation in generated(build_schema()._schema, ids):
        down = operation.vendor_down
        pair.transport.faults[:] = (
            [lambda r, p=down: httpx.Response(503) if r.url.path.startswith(f"/{p}") else None]
            if down
            else []
        )
        names["on"] = operation.broken_names
        payload = {"query": operation.text, "variables": operation.variables}
        compiled = await pair.compiled.post("/graphql", json=payload)
        reference = await pair.graphql_core.post("/graphql", json=payload)
        assert (compiled.status_code, compiled.content) == (
            reference.status_code,
            reference.content,
        ), operation
        body = reference.json()
        seen["data"] += bool(body.get("data"))
        seen["errors"] += "errors" in body
        # The broken name answers a masked error at its path, its null one level up.
        seen["bubbled"] += any(
            (error.get("path") or [""])[-1] == "name" for error in body.get("errors", [])
        )
    # The generator reached what it is for: answers, errors, non-null bubbling, plans.
    assert seen["data"] > OPERATIONS // 2 and seen["errors"] > 20 and seen["bubbled"] > 5, seen
    # Only the compiled gateway's schema made plans.
    assert [len(c) > 0 for c in plan_caches() if all(c is not b for b in before)] == [True]
