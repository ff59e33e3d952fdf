"""Gateway settings for a benchmark case: the sandboxes' environment plus overrides."""

from __future__ import annotations

import os

from gateway.config import Settings
from gateway.http.sandboxes import sandbox_env

# The benchmarks measure the gateway's work, not its client protection: one anonymous
# client sends thousands of requests a minute to sandboxes that have no real quota.
UNPROTECTED = {
    "GATEWAY_AUTH": "false",
    "GATEWAY_CLIENT_REQUESTS_PER_MINUTE": "0",
    "GATEWAY_CLIENT_UPSTREAM_CALLS_PER_MINUTE": "0",
    "ZOHO_REQUESTS_PER_MINUTE": "0",
    "ZOHO_REQUESTS_PER_DAY": "0",
    "FAKTUROID_REQUESTS_PER_MINUTE": "0",
}


def settings_with(overrides: dict[str, str]) -> Settings:
    """Settings read with ``overrides`` in the environment, which is restored afterwards."""
    names = {**sandbox_env("http://sandbox"), **UNPROTECTED, **overrides}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        return Settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
