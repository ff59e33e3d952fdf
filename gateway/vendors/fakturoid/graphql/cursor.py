"""Cursors of the `todos` connection: a position in Fakturoid's own pages.

A cursor is base64url of ``fakturoid-todos:<page>:<index>:<since>``: the upstream
page (from 1) and the index in it of the todo it marks, and the `since` the list was
read with (microseconds since the epoch, empty without one). Resuming after a cursor
starts at that page and index, so no earlier page is read again however many todos
the `completed` filter skipped. The filter itself is not in the cursor: positions
count every todo, so a cursor stays valid across filters; `since` changes what the
pages hold, so a cursor only works with the `since` it was made with.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from gateway.core.errors import BadUserInput

from ..models import PAGE_SIZE
from ..paging import Position

_PREFIX = "fakturoid-todos"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREIGN = "The `after` cursor is not one this list handed out."


def _since_key(since: datetime | None) -> str:
    if since is None:
        return ""
    # Integer arithmetic on an aware datetime: equal instants give equal keys whatever
    # their offsets.
    return str((since - _EPOCH) // timedelta(microseconds=1))


def encode_cursor(position: Position, since: datetime | None) -> str:
    raw = f"{_PREFIX}:{position.page}:{position.index}:{_since_key(since)}"
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, since: datetime | None) -> Position:
    """The position ``cursor`` marks, or BAD_USER_INPUT when it is not one of ours or
    was made for another `since`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, page, index, since_key = raw.split(":")
        position = Position(int(page), int(index))
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadUserInput(_FOREIGN, field="after") from exc
    if prefix != _PREFIX or position.page < 1 or not 0 <= position.index < PAGE_SIZE:
        raise BadUserInput(_FOREIGN, field="after")
    if since_key != _since_key(since):
        raise BadUserInput(
            "The `after` cursor belongs to a list read with another `since`.", field="after"
        )
    return position
