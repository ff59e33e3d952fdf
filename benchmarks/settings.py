"""Gateway settings for a benchmark case: the sandboxes' environment plus overrides."""

from __future__ import annotations

import os

from gateway.config import Settings
from gateway.sandbox import sandbox_env


def settings_with(overrides: dict[str, str]) -> Settings:
    """Settings read with ``overrides`` in the environment, which is restored afterwards."""
    names = {**sandbox_env("http://sandbox"), **overrides}
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
