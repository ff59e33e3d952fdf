"""Faithful emulators of the vendor APIs, with seeded demo data.

Each vendor's emulator lives in its folder (``gateway/vendors/<vendor>/sandbox``)
and exposes ``PREFIX`` (where it is mounted), ``create_app()`` (a fresh, seeded
emulator) and ``env(base_url)`` (the variables that point ``task-gateway serve``
at it). This module mounts the registry's sandboxes side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.plugin import AnyPlugin, Sandbox
from gateway.registry import PLUGINS


def _sandboxes(plugins: Sequence[AnyPlugin]) -> list[Sandbox]:
    return [plugin.sandbox() for plugin in plugins]


def sandbox_mounts(plugins: Sequence[AnyPlugin] = PLUGINS) -> list[BaseRoute]:
    """Fresh, freshly seeded emulators mounted at their prefixes."""
    return [Mount(sandbox.PREFIX, app=sandbox.create_app()) for sandbox in _sandboxes(plugins)]


def sandbox_env(base_url: str, plugins: Sequence[AnyPlugin] = PLUGINS) -> dict[str, str]:
    variables: dict[str, str] = {}
    for sandbox in _sandboxes(plugins):
        variables.update(sandbox.env(base_url))
    return variables


def sandbox_webhook_targets(
    gateway_url: str, plugins: Sequence[AnyPlugin] = PLUGINS
) -> dict[str, str]:
    """The variables that make the sandboxes of vendors with webhooks deliver them to the
    gateway at ``gateway_url`` (``<VENDOR>_SANDBOX_WEBHOOK_URL``), as the vendors would."""
    variables: dict[str, str] = {}
    for plugin in plugins:
        if plugin.webhooks is not None:
            prefix = str(plugin.settings.model_config.get("env_prefix", ""))
            url = f"{gateway_url}/webhooks/{plugin.vendor.value}"
            variables[f"{prefix}SANDBOX_WEBHOOK_URL"] = url
    return variables


def create_sandbox_app(plugins: Sequence[AnyPlugin] = PLUGINS) -> Starlette:
    """Every sandbox under its prefix; ``app.state.sandboxes`` maps prefix to emulator."""
    mounts = sandbox_mounts(plugins)

    async def index(request: Request) -> Response:
        return JSONResponse({"sandboxes": [sandbox.PREFIX for sandbox in _sandboxes(plugins)]})

    app = Starlette(routes=[Route("/", index), *mounts])
    app.state.sandboxes = {mount.path: mount.app for mount in mounts if isinstance(mount, Mount)}
    return app
