"""ReadyDesk line items in either name family, through the gateway and the sandbox.

How a listed line item names its fields is undocumented: the sandbox writes the
listing family (``uid`` is the line item) by default, and the write family
(``id`` is the line item, ``uid`` its technician, as add_line_item names them)
or both in turn when switched. Every output format, every family, one result.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.vendors.readydesk import client
from gateway.vendors.readydesk.sandbox import PREFIX
from gateway.vendors.readydesk.sandbox.store import Store
from gateway.vendors.readydesk.wire import OUTPUT_FORMATS
from tests.conftest import Gateway
from tests.test_readydesk import check_line_item

QUERY = """{ invoices(first: 40) { nodes { invoiceId jobs lineItems {
    lineItemId ticketId customerId cost date title category duration timeUnit notes
    technicianId } } } }"""


@pytest.fixture(params=OUTPUT_FORMATS)
def each_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setattr(client, "DEFAULT_OUTPUT", request.param)
    gateway: Gateway = request.getfixturevalue("gateway")
    return gateway


def written_as_write_family(names: str, uid: int) -> bool:
    # The sandbox's "mixed" writes even uids in the write family.
    return names == "write" or (names == "mixed" and uid % 2 == 0)


@pytest.mark.parametrize("names", ["listing", "write", "mixed"])
async def test_line_items_read_in_either_family_and_mixed(each_format: Gateway, names: str) -> None:
    gateway = each_format
    gateway.sandbox_app(PREFIX).state.line_item_names = names
    body = await gateway.execute(QUERY)
    assert "errors" not in body, body
    store: Store = gateway.sandbox_app(PREFIX).state.store
    items = {item.uid: item for item in store.line_items}
    nodes: list[dict[str, Any]] = body["data"]["invoices"]["nodes"]
    assert len(nodes) == len(store.invoices)
    technicians = set()
    families = set()
    for node in nodes:
        assert [li["lineItemId"] for li in node["lineItems"]] == node["jobs"]
        for li in node["lineItems"]:
            item = items[li["lineItemId"]]
            check_line_item(li, item)
            families.add(written_as_write_family(names, item.uid))
            if written_as_write_family(names, item.uid):
                assert li["technicianId"] == item.technician
                technicians.add(item.technician)
            else:
                assert li["technicianId"] is None
    assert families == ({True, False} if names == "mixed" else {names == "write"})
    if names == "write":
        # Percent-encoded on the wire ("Ann+Lee", "m.kovar%2bhelpdesk"), decoded here.
        assert {"Ann Lee", "m.kovar+helpdesk"} <= technicians


@pytest.mark.parametrize("names", ["listing", "write"])
async def test_a_line_item_by_its_own_id_in_either_family(gateway: Gateway, names: str) -> None:
    gateway.sandbox_app(PREFIX).state.line_item_names = names
    first = await gateway.execute("{ invoices(first: 1) { nodes { lineItems { id } } } }")
    line_item_id = first["data"]["invoices"]["nodes"][0]["lineItems"][0]["id"]
    body = await gateway.execute(
        "query($id: ID!) { node(id: $id) { ... on LineItem { lineItemId technicianId } } }",
        {"id": line_item_id},
    )
    assert "errors" not in body, body
    store: Store = gateway.sandbox_app(PREFIX).state.store
    node = body["data"]["node"]
    item = next(i for i in store.line_items if i.uid == node["lineItemId"])
    assert node["technicianId"] == (item.technician if names == "write" else None)
