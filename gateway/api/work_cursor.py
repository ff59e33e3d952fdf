"""`workItems` cursors: where the merged list resumes, per vendor, for one filter and sort.

A cursor is the page's :data:`MergeState` and a fingerprint of the query and the
vendors it was made for, as base64url JSON, so a cursor is refused on another list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.core.errors import BadUserInput
from gateway.core.types import Vendor
from gateway.core.work import MergeState, SourceState, WorkQuery
from gateway.state.work_snapshots import check_position

# A cursor holds at most a page number, a token and an offset per work vendor,
# well under this; anything longer was not handed out here.
MAX_CURSOR_LENGTH = 512
# More records than any batch holds (whole sets are at most a few thousand).
MAX_SKIP = 100_000


def fingerprint(query: WorkQuery, vendors: list[Vendor]) -> str:
    text = repr((query, sorted(v.value for v in vendors)))
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def encode_cursor(fingerprint: str, state: MergeState) -> str:
    payload = {
        "q": fingerprint,
        "s": {v.value: None if s is None else [s.position, s.skip] for v, s in state.items()},
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str, vendors: list[Vendor]) -> MergeState:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["q"] != fingerprint:
            raise BadUserInput(
                "The `after` cursor belongs to other filters or sort.", field="after"
            )
        return {
            _vendor(name, vendors): _source_state(value) for name, value in payload["s"].items()
        }
    except BadUserInput:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, binascii.Error) as exc:
        raise BadUserInput(
            "The `after` cursor is not one this list handed out.", field="after"
        ) from exc


def _vendor(name: str, vendors: list[Vendor]) -> Vendor:
    vendor = Vendor.named(name)
    if vendor not in vendors:
        raise ValueError("not a vendor of this list")
    return vendor


def _source_state(value: Any) -> SourceState | None:
    if value is None:
        return None
    position, skip = value
    if not (position is None or isinstance(position, str)) or type(skip) is not int:
        raise ValueError("malformed position")
    if not 0 <= skip <= MAX_SKIP:
        raise ValueError("skip out of range")
    check_position(position)  # before any vendor is asked anything
    return SourceState(position, skip)


@dataclass(frozen=True, slots=True)
class WorkCursors:
    """The cursors of a page's records, encoded when asked for."""

    fingerprint: str
    states: Sequence[MergeState]

    def at(self, index: int) -> str:
        return encode_cursor(self.fingerprint, self.states[index])

    def __iter__(self) -> Iterator[str]:
        # One pass over the states: they are rebuilt from the merge's log in order.
        for state in self.states:
            yield encode_cursor(self.fingerprint, state)
