"""CORS for browser apps on other origins (``GATEWAY_CORS_ORIGINS``).

It stands outside the HTTP guard: a preflight (OPTIONS, no body, no content
type) is answered here, before the CSRF rule, which would refuse it. The
preflight is exactly what the CSRF rule relies on: a browser sends
``Content-Type: application/json`` cross-site only after one.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.core.settings import GatewaySettings

# What the gateway's clients send: the CSRF rule's headers and the accounting switch.
ALLOWED_HEADERS = (
    "accept",
    "content-type",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "x-upstream-accounting",
)
PREFLIGHT_MAX_AGE = 600


def allowed_origins(settings: GatewaySettings) -> list[str]:
    return [
        origin.strip().rstrip("/") for origin in settings.cors_origins.split(",") if origin.strip()
    ]


def cors_middleware(settings: GatewaySettings) -> Middleware | None:
    """The CORS middleware, or None when no origin is allowed (same-origin only)."""
    origins = allowed_origins(settings)
    if not origins:
        return None
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=settings.cors_credentials,
        allow_methods=["GET", "POST"],
        allow_headers=list(ALLOWED_HEADERS),
        max_age=PREFLIGHT_MAX_AGE,
        # Pages may read the id their report should quote (gateway.observability).
        expose_headers=["X-Request-Id"],
    )
