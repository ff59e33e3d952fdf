"""Invoiced sandbox: the collections Tasks API with seeded demo data.

Follows the vendor docs and VENDORS.md: Basic auth with the API key as username,
JSON or form bodies, ``page``/``per_page`` clamped to 1..100, ``sort`` and exact
``filter[...]``, ``X-Total-Count`` and ``Link`` (rel ``previous``, not ``prev``)
on every list, ``Idempotency-Key`` replay for 24 h on POST/PATCH, 20 concurrent
requests per key before 429, and ``{"type","message","param"}`` error bodies.
"""

from __future__ import annotations

from .app import API_KEY, create_app

PREFIX = "/invoiced"

__all__ = ["API_KEY", "PREFIX", "create_app", "env"]


def env(base_url: str) -> dict[str, str]:
    return {"INVOICED_API_URL": base_url.rstrip("/") + PREFIX, "INVOICED_API_KEY": API_KEY}
