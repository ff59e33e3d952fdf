"""The schema a client introspects over HTTP: no federation internals unless the
gateway is a subgraph (GATEWAY_FEDERATION), every custom scalar says where its text
form is specified, and schema.graphql / schema.subgraph.graphql are what is served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    is_scalar_type,
    is_specified_scalar_type,
    lexicographic_sort_schema,
    print_schema,
)
from graphql import build_schema as build_sdl_schema

from tests.conftest import Gateway

ROOT = Path(__file__).resolve().parent.parent
INTROSPECTION = get_introspection_query(specified_by_url=True, input_value_deprecation=True)


async def introspected(gateway: Gateway) -> GraphQLSchema:
    body = await gateway.execute(INTROSPECTION)
    assert "errors" not in body, body
    return build_client_schema(body["data"])


def printed(schema: GraphQLSchema) -> str:
    return print_schema(lexicographic_sort_schema(schema))


def custom_scalars(schema: GraphQLSchema) -> dict[str, Any]:
    return {
        name: t
        for name, t in schema.type_map.items()
        if is_scalar_type(t) and not is_specified_scalar_type(t)
    }


async def test_the_client_schema_has_no_federation_internals(gateway: Gateway) -> None:
    schema = await introspected(gateway)
    # What graphql-codegen with strictScalars would trip on: a `_` type it cannot map.
    private = [name for name in schema.type_map if name.startswith("_")]
    assert all(name.startswith("__") for name in private), private
    assert schema.query_type is not None
    assert not [name for name in schema.query_type.fields if name.startswith("_")]
    assert {d.name for d in schema.directives} <= {
        "include",
        "skip",
        "deprecated",
        "specifiedBy",
        "oneOf",
    }
    body = await gateway.execute("{ _service { sdl } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_every_custom_scalar_has_a_specified_by_url(gateway: Gateway) -> None:
    scalars = custom_scalars(await introspected(gateway))
    assert {"DateTime", "Date", "Decimal", "JSON"} <= set(scalars)
    missing = [name for name, t in scalars.items() if not t.specified_by_url]
    assert not missing
    assert "rfc3339" in scalars["DateTime"].specified_by_url


async def test_schema_graphql_is_what_a_client_introspects(gateway: Gateway) -> None:
    served = printed(await introspected(gateway))
    assert served == printed(build_sdl_schema((ROOT / "schema.graphql").read_text()))


@pytest.mark.federation
async def test_the_subgraph_is_served_when_federation_is_switched_on(gateway: Gateway) -> None:
    body = await gateway.execute("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert sdl + "\n" == (ROOT / "schema.subgraph.graphql").read_text()
    assert '@key(fields: "id")' in sdl and "@link(" in sdl
    schema = await introspected(gateway)
    assert schema.query_type is not None
    assert {"_entities", "_service"} <= set(schema.query_type.fields)
    # The gateway's own scalars keep their URLs; federation's (`_Any`, `link__Import`) are
    # the router's business.
    ours = {"DateTime", "Date", "Decimal", "JSON"}
    assert all(custom_scalars(schema)[name].specified_by_url for name in ours)
