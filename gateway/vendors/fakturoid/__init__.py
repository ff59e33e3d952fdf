"""Fakturoid API v3: todos, over OAuth client credentials.

``client`` speaks HTTP (token, User-Agent, statuses), ``models`` parses todos,
``paging`` walks the 40-todo pages, ``auth`` keeps the bearer token, ``status`` maps
errors. Nothing here knows GraphQL.

Webhooks: Fakturoid's v3 webhooks carry the webhook's ``auth_header`` value in
``Authorization``, not a signature [doc], and no todo event is documented [doc]; the gateway
receives none, and changes made outside it are found by polling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.plugin import VendorPlugin

from .settings import FakturoidSettings
from .vendor import FAKTUROID

if TYPE_CHECKING:
    import httpx

    from gateway.core.work import WorkSource
    from gateway.plugin import Sandbox, VendorGraphQL
    from gateway.state.polling import ChangeFeed
    from gateway.upstream.client import UpstreamPolicy

    from .client import FakturoidAdapter
    from .loaders import FakturoidLoaders


# The factories import the heavy modules when first called (see gateway.plugin).
def _adapter(
    settings: FakturoidSettings, policy: UpstreamPolicy, transport: httpx.AsyncBaseTransport | None
) -> FakturoidAdapter:
    from .client import FakturoidAdapter

    return FakturoidAdapter.from_settings(settings, policy=policy, transport=transport)


def _loaders(adapter: FakturoidAdapter) -> FakturoidLoaders:
    from .loaders import FakturoidLoaders

    return FakturoidLoaders(adapter)


def _graphql() -> VendorGraphQL:
    from .graphql import GRAPHQL

    return GRAPHQL


def _sandbox() -> Sandbox:
    from . import sandbox

    return sandbox


def _work_source(adapter: FakturoidAdapter) -> WorkSource:
    return adapter


async def _readiness_probe(adapter: FakturoidAdapter) -> None:
    """The first page of todos (the API has no smaller authenticated read)."""
    await adapter.list_page(1)


def _change_feed(adapter: FakturoidAdapter) -> ChangeFeed:
    from .changes import FakturoidChanges

    return FakturoidChanges(adapter)


PLUGIN: VendorPlugin[FakturoidSettings, FakturoidAdapter, FakturoidLoaders] = VendorPlugin(
    vendor=FAKTUROID,
    settings=FakturoidSettings,
    create_adapter=_adapter,
    create_loaders=_loaders,
    graphql=_graphql,
    sandbox=_sandbox,
    probe_query="{ todos(first: 2) { nodes { id } } }",
    readiness_probe=_readiness_probe,
    oauth=True,
    work_source=_work_source,
    change_feed=_change_feed,
)

__all__ = ["FAKTUROID", "PLUGIN"]
