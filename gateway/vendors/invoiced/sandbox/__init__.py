"""Invoiced sandbox: the collections Tasks API with seeded demo data.

Follows the vendor docs and VENDORS.md: Basic auth with the API key as username,
JSON or form bodies, ``page``/``per_page`` clamped to 1..100, ``sort`` and exact
``filter[...]``, ``X-Total-Count`` and ``Link`` (rel ``previous``, not ``prev``)
on every list, ``Idempotency-Key`` replay for 24 h on POST/PATCH, 20 concurrent
requests per key before 429, and ``{"type","message","param"}`` error bodies. With
``INVOICED_SANDBOX_WEBHOOK_URL`` set it POSTs a signed Invoiced event there for every task
it writes (see ``webhooks``).
"""

from __future__ import annotations

import os

from .app import API_KEY, create_app
from .webhooks import DEMO_SECRET, SECRET_ENV

PREFIX = "/invoiced"

__all__ = ["API_KEY", "PREFIX", "create_app", "env"]


def env(base_url: str) -> dict[str, str]:
    return {
        "INVOICED_API_URL": base_url.rstrip("/") + PREFIX,
        "INVOICED_API_KEY": API_KEY,
        # What the sandbox signs its webhooks with, so the gateway accepts them.
        "INVOICED_WEBHOOK_SECRET": os.environ.get(SECRET_ENV) or DEMO_SECRET,
    }
