"""Pieces every vendor sandbox shares: a movable clock and orjson responses.

The sandboxes emulate real vendor APIs, so each vendor module owns its own wire
format; only the vendor-neutral plumbing lives here.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.responses import Response


class Clock:
    """Wall-clock time that tests can move forward to expire tokens for real."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
