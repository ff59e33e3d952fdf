"""Zoho Invoice v3 sandbox: projects and project tasks, plus the accounts server
that hands out OAuth access tokens.

Mounted at `PREFIX`, the API answers under `<base>/zoho/invoice/v3/...` and the
token endpoint under `<base>/zoho/accounts/oauth/v2/token`, mirroring the split
between www.zohoapis.com and accounts.zoho.com. With ``ZOHO_SANDBOX_WEBHOOK_URL`` set it
POSTs a project's details there, as a workflow webhook, whenever it writes the project or
one of its tasks (see ``webhooks``).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.core.sandbox import Changes, Clock, Quota, resolve_quota

from . import admin, projects, tasks, webhooks
from .auth import api, rate_headers, token
from .seed import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORGANIZATION_ID,
    REFRESH_TOKEN,
    seed_store,
)
from .store import DEFAULT_DAILY_LIMIT, DEFAULT_RATE_LIMIT, Store
from .wire import (
    CODE_INTERNAL,
    CODE_INVALID_URL,
    CODE_METHOD_NOT_ALLOWED,
    ZohoError,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "ORGANIZATION_ID",
    "PREFIX",
    "REFRESH_TOKEN",
    "create_app",
    "env",
]

PREFIX = "/zoho"
API_ROOT = "/invoice/v3"
ACCOUNTS_ROOT = "/accounts"

_PROJECT = API_ROOT + "/projects/{project_id}"
_TASK = _PROJECT + "/tasks/{task_id}"


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and wrong methods still answer in Zoho's envelope. [guess on codes]"""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        error = ZohoError(404, CODE_INVALID_URL, "Invalid URL Passed")
    elif status == 405:
        error = ZohoError(
            405,
            CODE_METHOD_NOT_ALLOWED,
            "The HTTP method is not allowed for the requested resource",
        )
    else:
        error = ZohoError(500, CODE_INTERNAL, "Internal error")
    response = error.response()
    if API_ROOT + "/" in request.url.path:
        store: Store = request.app.state.store
        response.headers.update(rate_headers(store, consume=False))
    return response


QUOTA_ENV = "ZOHO_SANDBOX_QUOTA"
DAILY_QUOTA_ENV = "ZOHO_SANDBOX_DAILY_QUOTA"


def create_app(
    *,
    clock: Clock | None = None,
    token_ttl: int = 3600,
    quotas: Quota = None,
    daily_quota: Quota = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> Starlette:
    """A fresh sandbox with its own freshly seeded store; apps never share data.

    ``quotas`` sets the per-minute call limit per organization, ``daily_quota`` the
    daily one (see ``resolve_quota``): None reads ``ZOHO_SANDBOX_QUOTA`` and
    ``ZOHO_SANDBOX_DAILY_QUOTA``, each on at Zoho's limit unless set. With the
    per-minute quota off and the daily one not set either way, both are off.
    ``webhook_url`` (else ``ZOHO_SANDBOX_WEBHOOK_URL``) receives a workflow webhook for
    every project written, carrying ``webhook_secret`` (else
    ``ZOHO_SANDBOX_WEBHOOK_SECRET``, else the demo's); ``app.state.webhooks``.
    """
    clock = clock or Clock()
    store = seed_store(clock=clock, token_ttl=token_ttl)
    store.rate_limit = resolve_quota(quotas, QUOTA_ENV, DEFAULT_RATE_LIMIT)
    daily_set = daily_quota is not None or os.environ.get(DAILY_QUOTA_ENV, "").strip()
    if store.rate_limit is None and not daily_set:
        store.daily_limit = None
    else:
        store.daily_limit = resolve_quota(daily_quota, DAILY_QUOTA_ENV, DEFAULT_DAILY_LIMIT)
    sender = webhooks.from_env(webhook_url, webhook_secret)
    if sender is not None:
        store.on_change = sender.project_changed
    changes = Changes(
        clock, lambda change: admin.apply(store, change), lambda rng: admin.pick(store, rng)
    )
    app = Starlette(
        routes=[
            Route(ACCOUNTS_ROOT + "/oauth/v2/token", token, methods=["POST"]),
            Route(API_ROOT + "/projects", api(projects.list_projects), methods=["GET"]),
            Route(_PROJECT, api(projects.get_project), methods=["GET"]),
            Route(_PROJECT + "/active", api(projects.mark_active), methods=["POST"]),
            Route(_PROJECT + "/inactive", api(projects.mark_inactive), methods=["POST"]),
            Route(_PROJECT + "/tasks", api(tasks.list_tasks), methods=["GET"]),
            Route(_PROJECT + "/tasks", api(tasks.add_task), methods=["POST"]),
            Route(_TASK, api(tasks.get_task), methods=["GET"]),
            Route(_TASK, api(tasks.update_task), methods=["PUT"]),
            Route(_TASK, api(tasks.delete_task), methods=["DELETE"]),
            *changes.routes(),
        ],
        exception_handlers={404: _http_error, 405: _http_error, 500: _http_error},
    )
    app.state.clock = clock
    app.state.store = store
    app.state.changes = changes
    app.state.webhooks = sender
    return app


def env(base_url: str) -> dict[str, str]:
    """Environment that points the gateway at this sandbox served at `base_url`."""
    root = base_url.rstrip("/") + PREFIX
    return {
        "ZOHO_API_URL": root + API_ROOT,
        "ZOHO_ACCOUNTS_URL": root + ACCOUNTS_ROOT,
        "ZOHO_ORGANIZATION_ID": ORGANIZATION_ID,
        "ZOHO_CLIENT_ID": CLIENT_ID,
        "ZOHO_CLIENT_SECRET": CLIENT_SECRET,
        "ZOHO_REFRESH_TOKEN": REFRESH_TOKEN,
        # What the sandbox's webhooks carry, so the gateway accepts them.
        "ZOHO_WEBHOOK_SECRET": os.environ.get(webhooks.SECRET_ENV) or webhooks.DEMO_SECRET,
    }
