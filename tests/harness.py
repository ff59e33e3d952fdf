"""A gateway wired to fresh sandboxes with chosen settings, for tests of limits and edges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import Gateway, gateway_settings, running_gateway


@asynccontextmanager
async def gateway_with(
    monkeypatch: pytest.MonkeyPatch,
    inner: httpx.AsyncBaseTransport | None = None,
    **overrides: str,
) -> AsyncIterator[Gateway]:
    """Like the ``gateway`` fixture, with environment ``overrides`` and an optional
    transport between the gateway and the sandboxes (``inner`` wraps the sandbox)."""
    async with running_gateway(gateway_settings(monkeypatch, **overrides), inner) as gateway:
        yield gateway


def app_of(gateway: Gateway) -> Starlette:
    return gateway.app
