"""One ReadyDesk invoice row the gateway cannot read, in the reads that filter, order
or pick rows themselves: a by-ID read fails for that ID alone; a status filter or a
sort on a column with repeated values leaves the row out and reports it at the
list's path; ReadyDesk's own ID order keeps it in place, null at its own path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.readydesk import READYDESK
from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_bad_records import Corrupting, Rewrite

PAID = "{ invoices(first: 50, filter: {status: PAID}) { nodes { invoiceId } } }"


def corrupt(invoice_id: int, field: str, value: str) -> Rewrite:
    """Every answer listing invoice ``invoice_id`` gets its ``field`` spoiled."""

    def rewrite(body: bytes) -> bytes:
        data = json.loads(body)
        for row in data.get("invoices", []):
            if isinstance(row, dict) and row.get("invoice_id") == str(invoice_id):
                row[field] = value
        return json.dumps(data).encode()

    return rewrite


@pytest.fixture
async def clean(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with gateway_with(monkeypatch) as gateway:
        yield gateway


async def corrupted(
    monkeypatch: pytest.MonkeyPatch, rewrite: Rewrite, query: str
) -> dict[str, Any]:
    async with gateway_with(monkeypatch) as gateway:
        gateway.transport.inner = Corrupting(gateway.transport.inner, r"/readydesk/", rewrite)
        return await gateway.execute(query)


def ids(connection: dict[str, Any]) -> list[int | None]:
    return [node and node["invoiceId"] for node in connection["nodes"]]


def reported_at(body: dict[str, Any], *path: str | int) -> None:
    assert set(codes(body)) == {"UPSTREAM_BAD_RESPONSE"}, body
    assert [error["path"] for error in body["errors"]] == [list(path)]
    assert body["errors"][0]["extensions"]["vendor"] == "readydesk"


def global_id(invoice_id: int) -> str:
    return encode_id(READYDESK, "Invoice", invoice_id)


@pytest.mark.parametrize("spoil", [("status", "VOID"), ("invoice_id", "twelve")])
async def test_a_by_id_read_fails_for_that_id_alone(
    monkeypatch: pytest.MonkeyPatch, spoil: tuple[str, str]
) -> None:
    # 12 and 13 come in one ID-range call; 12 is bad, even when its own ID is what
    # cannot be read (then it may be any ID of the range that did not answer).
    query = f"""{{ one: invoice(id: "{global_id(12)}") {{ invoiceId }}
        many: nodes(ids: ["{global_id(13)}", "{global_id(12)}"]) {{
          ... on Invoice {{ invoiceId }} }} }}"""
    body = await corrupted(monkeypatch, corrupt(12, *spoil), query)
    assert body["data"] == {"one": None, "many": [{"invoiceId": 13}, None]}
    assert set(codes(body)) == {"UPSTREAM_BAD_RESPONSE"}
    assert sorted(error["path"] for error in body["errors"]) == [["many", 1], ["one"]]


async def test_a_status_walk_leaves_a_bad_row_out_and_reports_it_once(
    clean: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = ids((await clean.execute(PAID))["data"]["invoices"])
    bad = expected[4]
    assert isinstance(bad, int)
    async with gateway_with(monkeypatch) as gateway:
        gateway.transport.inner = Corrupting(
            gateway.transport.inner, r"/readydesk/", corrupt(bad, "status", "VOID")
        )
        seen: list[int | None] = []
        errors: list[dict[str, Any]] = []
        after = None
        while True:
            body = await gateway.execute(
                """query($after: String) { invoices(first: 3, after: $after,
                   filter: {status: PAID}) { pageInfo { hasNextPage endCursor }
                   nodes { invoiceId } } }""",
                {"after": after},
            )
            connection = body["data"]["invoices"]
            seen += ids(connection)
            errors += body.get("errors", [])
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    assert seen == [i for i in expected if i != bad]
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["invoices"], "UPSTREAM_BAD_RESPONSE")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "{ invoices(first: 50, filter: {status: PAID}) { totalCount nodes { invoiceId } } }",
        """{ invoices(first: 50, filter: {status: PAID}, sort: {field: TOTAL, order: DESC})
             { nodes { invoiceId } } }""",
        """{ invoices(first: 50, sort: {field: BILLING_TYPE}) { nodes { invoiceId } } }""",
    ],
    ids=["status with its total", "status in another order", "ties ordered here"],
)
async def test_a_row_filtered_or_ordered_here_is_left_out_and_reported(
    clean: Gateway, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    good = (await clean.execute(query))["data"]["invoices"]
    bad = ids(good)[2]
    assert isinstance(bad, int)
    # The row's status and total are both unreadable: no filter or sort can place it.
    spoil = corrupt(bad, "status", "VOID")
    body = await corrupted(
        monkeypatch, lambda raw: corrupt(bad, "billing_type", "X")(spoil(raw)), query
    )
    connection = body["data"]["invoices"]
    assert ids(connection) == [i for i in ids(good) if i != bad]
    if "totalCount" in good:
        assert connection["totalCount"] == good["totalCount"] - 1
    reported_at(body, "invoices")


async def test_in_readydesk_id_order_a_bad_row_keeps_its_place(
    clean: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An exact customer is read from the start, not by page, yet in ReadyDesk's own order.
    query = '{ invoices(first: 10, filter: {customerId: "ACME-001"}) { nodes { invoiceId } } }'
    good = ids((await clean.execute(query))["data"]["invoices"])
    bad = good[1]
    assert isinstance(bad, int)
    body = await corrupted(monkeypatch, corrupt(bad, "status", "VOID"), query)
    assert ids(body["data"]["invoices"]) == [None if i == bad else i for i in good]
    reported_at(body, "invoices", "nodes", 1)
