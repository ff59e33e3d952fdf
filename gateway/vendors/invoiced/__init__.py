"""Invoiced: collections tasks (Basic auth, Link-header paging). Actionable work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.plugin import VendorPlugin

from .settings import InvoicedSettings
from .vendor import INVOICED

if TYPE_CHECKING:
    import httpx

    from gateway.core.work import WorkSource
    from gateway.plugin import Sandbox, VendorGraphQL, VendorWebhooks
    from gateway.state.polling import ChangeFeed
    from gateway.upstream.client import UpstreamPolicy

    from .client import InvoicedAdapter
    from .loaders import InvoicedLoaders


# The factories import the heavy modules when first called (see gateway.plugin).
def _adapter(
    settings: InvoicedSettings, policy: UpstreamPolicy, transport: httpx.AsyncBaseTransport | None
) -> InvoicedAdapter:
    from .client import InvoicedAdapter

    return InvoicedAdapter.from_settings(settings, policy=policy, transport=transport)


def _loaders(adapter: InvoicedAdapter) -> InvoicedLoaders:
    from .loaders import InvoicedLoaders

    return InvoicedLoaders(adapter)


def _graphql() -> VendorGraphQL:
    from .graphql import GRAPHQL

    return GRAPHQL


def _sandbox() -> Sandbox:
    from . import sandbox

    return sandbox


def _webhooks() -> VendorWebhooks:
    from .webhooks import WEBHOOKS

    return WEBHOOKS


def _work_source(adapter: InvoicedAdapter) -> WorkSource:
    return adapter


async def _readiness_probe(adapter: InvoicedAdapter) -> None:
    """One task on a page of one: the cheapest read the API key must authorise."""
    from .models import TaskQuery

    await adapter.list_tasks(TaskQuery(), offset=0, limit=1)


def _change_feed(adapter: InvoicedAdapter) -> ChangeFeed:
    from .changes import InvoicedChanges

    return InvoicedChanges(adapter)


PLUGIN: VendorPlugin[InvoicedSettings, InvoicedAdapter, InvoicedLoaders] = VendorPlugin(
    vendor=INVOICED,
    settings=InvoicedSettings,
    create_adapter=_adapter,
    create_loaders=_loaders,
    graphql=_graphql,
    sandbox=_sandbox,
    probe_query="{ tasks(first: 2) { nodes { id } } }",
    readiness_probe=_readiness_probe,
    work_source=_work_source,
    change_feed=_change_feed,
    webhooks=_webhooks,
)

__all__ = ["INVOICED", "PLUGIN"]
