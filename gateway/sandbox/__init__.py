"""Faithful emulators of the four vendor APIs, with seeded demo data.

Each vendor module exposes ``PREFIX`` (where it is mounted), ``create_app()``
(a fresh, seeded emulator) and ``env(base_url)`` (the variables that point
``task-gateway serve`` at it). This module mounts them side by side.
"""

from __future__ import annotations

from types import ModuleType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.vendors.fakturoid import sandbox as fakturoid
from gateway.vendors.invoiced import sandbox as invoiced
from gateway.vendors.readydesk import sandbox as readydesk
from gateway.vendors.zoho import sandbox as zoho

SANDBOXES: tuple[ModuleType, ...] = (invoiced, zoho, readydesk, fakturoid)


def sandbox_mounts() -> list[BaseRoute]:
    """Fresh, freshly seeded emulators mounted at their prefixes."""
    return [Mount(module.PREFIX, app=module.create_app()) for module in SANDBOXES]


def sandbox_env(base_url: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for module in SANDBOXES:
        variables.update(module.env(base_url))
    return variables


def create_sandbox_app() -> Starlette:
    """Every sandbox under its prefix; ``app.state.sandboxes`` maps prefix to emulator."""
    mounts = sandbox_mounts()

    async def index(request: Request) -> Response:
        return JSONResponse({"sandboxes": [module.PREFIX for module in SANDBOXES]})

    app = Starlette(routes=[Route("/", index), *mounts])
    app.state.sandboxes = {mount.path: mount.app for mount in mounts if isinstance(mount, Mount)}
    return app
