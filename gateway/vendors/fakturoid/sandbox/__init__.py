"""Fakturoid API v3 sandbox: OAuth client-credentials tokens and the todos endpoints.

A faithful emulator of the vendor's wire format with seeded Czech demo data, mounted at
PREFIX; inside it the API lives under /api/v3 as on app.fakturoid.cz. Choices the vendor doc
does not settle are marked [guess] where they are made.
"""

from .app import API_ROOT, PREFIX, RateLimitMiddleware, create_app, env
from .seed import ACCOUNT_SLUG, CLIENT_ID, CLIENT_SECRET, USER_AGENT, seed_todos
from .store import PAGE_SIZE, RateLimiter, RelatedObject, Store, Todo, TokenStatus

__all__ = [
    "ACCOUNT_SLUG",
    "API_ROOT",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "PAGE_SIZE",
    "PREFIX",
    "USER_AGENT",
    "RateLimitMiddleware",
    "RateLimiter",
    "RelatedObject",
    "Store",
    "Todo",
    "TokenStatus",
    "create_app",
    "env",
    "seed_todos",
]
