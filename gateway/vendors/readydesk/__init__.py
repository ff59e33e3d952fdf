"""ReadyDesk help-desk billing: invoices and their line items.

``wire`` recognises and reads the three output formats, ``models`` turns
records into typed values, ``query`` turns an invoice query into request
variables, ``client`` speaks to ``default.aspx``.

Webhooks: ReadyDesk documents none [doc]; changes made outside the gateway are found
by polling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.plugin import VendorPlugin

from .settings import ReadyDeskSettings
from .vendor import READYDESK

if TYPE_CHECKING:
    import httpx

    from gateway.plugin import Sandbox, VendorGraphQL
    from gateway.state.polling import ChangeFeed
    from gateway.upstream.client import UpstreamPolicy

    from .client import ReadyDeskAdapter
    from .loaders import ReadyDeskLoaders


# The factories import the heavy modules when first called (see gateway.plugin).
def _adapter(
    settings: ReadyDeskSettings, policy: UpstreamPolicy, transport: httpx.AsyncBaseTransport | None
) -> ReadyDeskAdapter:
    from .client import ReadyDeskAdapter

    return ReadyDeskAdapter.from_settings(settings, policy=policy, transport=transport)


def _loaders(adapter: ReadyDeskAdapter) -> ReadyDeskLoaders:
    from .loaders import ReadyDeskLoaders

    return ReadyDeskLoaders(adapter)


def _graphql() -> VendorGraphQL:
    from .graphql import GRAPHQL

    return GRAPHQL


def _sandbox() -> Sandbox:
    from . import sandbox

    return sandbox


async def _readiness_probe(adapter: ReadyDeskAdapter) -> None:
    """The first invoice: one small documented `get_invoices` call the key must authorise."""
    from .query import InvoiceQuery

    await adapter.list_invoices(InvoiceQuery(), offset=0, limit=1)


def _change_feed(adapter: ReadyDeskAdapter) -> ChangeFeed:
    from .changes import ReadyDeskChanges

    return ReadyDeskChanges(adapter)


PLUGIN: VendorPlugin[ReadyDeskSettings, ReadyDeskAdapter, ReadyDeskLoaders] = VendorPlugin(
    vendor=READYDESK,
    settings=ReadyDeskSettings,
    create_adapter=_adapter,
    create_loaders=_loaders,
    graphql=_graphql,
    sandbox=_sandbox,
    probe_query="{ invoices(first: 2) { nodes { id } } }",
    readiness_probe=_readiness_probe,
    change_feed=_change_feed,
)

__all__ = ["PLUGIN", "READYDESK"]
