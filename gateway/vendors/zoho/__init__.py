"""Zoho Invoice v3: projects and their tasks, behind OAuth refresh tokens.

Wire facts (vendor docs and VENDORS.md): the API lives at
``https://www.zohoapis.<dc>/invoice/v3`` and the OAuth server at
``https://accounts.zoho.<dc>``; calls carry ``Authorization:
Zoho-oauthtoken <token>`` and ``X-com-zoho-invoice-organizationid``; answers
are ``{"code", "message", ...}`` envelopes; lists page with ``page``/``per_page``
and say ``page_context.has_more_page``.

Webhooks: Zoho Invoice sends workflow-rule webhooks whose URL, parameters, headers and body
the user composes [doc], with no documented signature [doc]: the gateway receives them at
``POST /webhooks/zoho`` with a shared secret in a custom header (see ``webhooks``), and
polls for what no workflow rule reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.plugin import VendorPlugin

from .settings import ZohoSettings
from .vendor import ZOHO

if TYPE_CHECKING:
    import httpx

    from gateway.core.work import WorkSource
    from gateway.plugin import Sandbox, VendorGraphQL, VendorWebhooks
    from gateway.state.polling import ChangeFeed
    from gateway.upstream.client import UpstreamPolicy

    from .client import ZohoAdapter
    from .loaders import ZohoLoaders


# The factories import the heavy modules when first called (see gateway.plugin).
def _adapter(
    settings: ZohoSettings, policy: UpstreamPolicy, transport: httpx.AsyncBaseTransport | None
) -> ZohoAdapter:
    from .client import ZohoAdapter

    return ZohoAdapter.from_settings(settings, policy=policy, transport=transport)


def _loaders(adapter: ZohoAdapter) -> ZohoLoaders:
    from .loaders import ZohoLoaders

    return ZohoLoaders(adapter)


def _graphql() -> VendorGraphQL:
    from .graphql import GRAPHQL

    return GRAPHQL


def _sandbox() -> Sandbox:
    from . import sandbox

    return sandbox


def _work_source(adapter: ZohoAdapter) -> WorkSource:
    return adapter


async def _readiness_probe(adapter: ZohoAdapter) -> None:
    """One project on a page of one: proves the token, the organization id and the API."""
    from .models import ProjectQuery

    await adapter.list_projects(ProjectQuery(), offset=0, limit=1)


def _change_feed(adapter: ZohoAdapter) -> ChangeFeed:
    from .changes import ZohoChanges

    return ZohoChanges(adapter)


def _webhooks() -> VendorWebhooks:
    from .webhooks import WEBHOOKS

    return WEBHOOKS


PLUGIN: VendorPlugin[ZohoSettings, ZohoAdapter, ZohoLoaders] = VendorPlugin(
    vendor=ZOHO,
    settings=ZohoSettings,
    create_adapter=_adapter,
    create_loaders=_loaders,
    graphql=_graphql,
    sandbox=_sandbox,
    probe_query="{ projects(first: 2) { nodes { id } } }",
    readiness_probe=_readiness_probe,
    oauth=True,
    work_source=_work_source,
    change_feed=_change_feed,
    webhooks=_webhooks,
)

__all__ = ["PLUGIN", "ZOHO"]
