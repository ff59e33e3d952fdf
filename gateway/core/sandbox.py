"""Pieces every vendor sandbox shares: a movable clock, orjson responses, quotas and the
admin endpoint that changes data behind the gateway's back.

The sandboxes emulate real vendor APIs, so each vendor module owns its own wire
format; only the vendor-neutral plumbing lives here.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


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


# A sandbox's quota: None reads its environment variable, False turns it off, True keeps the
# vendor's documented limit and a number replaces that limit.
Quota = bool | int | None


def resolve_quota(quota: Quota, variable: str, documented: int) -> int | None:
    """The limit a sandbox enforces, or None when its quota is off.

    The variable takes ``off``, ``on`` or a number; unset means the documented limit, so a
    sandbox answers like the vendor unless it is told otherwise.
    """
    if quota is None:
        raw = os.environ.get(variable, "").strip().lower()
        if raw in ("", "on", "true", "1"):
            return documented
        if raw in ("off", "false", "0"):
            return None
        if not raw.isdigit():
            raise ValueError(f"{variable} must be 'off', 'on' or a number of calls, not {raw!r}")
        return int(raw)
    if isinstance(quota, bool):
        return documented if quota else None
    if quota < 1:
        raise ValueError("a sandbox quota must allow at least one call")
    return quota


class ChangeError(Exception):
    """An admin change that names no such record (404) or a field it cannot set (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Change = dict[str, Any]


class Changes:
    """What a vendor's own UI would do to a sandbox's data behind the gateway's back.

    ``apply`` makes one change from ``{"type", "id", "set"}`` and returns what it did;
    ``pick`` chooses one plausible change from the current data. The log keeps every change
    with the sandbox clock's time, so a freshness benchmark can tell when it happened.
    """

    def __init__(
        self,
        clock: Clock,
        apply: Callable[[Change], Change],
        pick: Callable[[random.Random], Change],
        seed: int = 0,
    ) -> None:
        self.clock, self.apply, self.pick = clock, apply, pick
        # Seeded so a benchmark's random edits are the same run after run.
        self.random = random.Random(seed)
        self.log: list[Change] = []

    def record(self, change: Change) -> Change:
        applied = self.apply(change)
        entry = {"seq": len(self.log) + 1, "at": self.clock.now(), **applied}
        self.log.append(entry)
        return entry

    async def post(self, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return json_response({"error": "the body must be JSON"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "the body must be a JSON object"}, 400)
        try:
            if "random" in body:
                count = body["random"]
                if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 1000:
                    raise ChangeError(400, "random must be a number from 1 to 1000")
                applied = [self.record(self.pick(self.random)) for _ in range(count)]
            else:
                applied = [self.record(body)]
        except ChangeError as error:
            return json_response({"error": str(error)}, error.status)
        return json_response({"applied": applied})

    async def get(self, request: Request) -> Response:
        return json_response({"changes": self.log})

    def routes(self) -> list[Route]:
        return [
            Route(ADMIN_CHANGES, self.post, methods=["POST"]),
            Route(ADMIN_CHANGES, self.get, methods=["GET"]),
        ]


# Under each sandbox's own prefix; the gateway never calls it, only benchmarks and tests do.
ADMIN_CHANGES = "/_admin/changes"


def change_target(change: Change, kind: str) -> tuple[Any, dict[str, Any]]:
    """The id and the fields of a ``{"type": kind, "id": ..., "set": {...}}`` change."""
    if change.get("type") != kind:
        raise ChangeError(400, f"type must be {kind!r}")
    fields = change.get("set")
    if not isinstance(fields, dict) or not fields:
        raise ChangeError(400, "set must be an object naming the fields to change")
    return change.get("id"), fields
