"""How long a vendor's cached read may be used, and for what.

Three windows per vendor (its settings: ``<VENDOR>_CACHE_TTL``,
``<VENDOR>_CACHE_STALE_WHILE_REVALIDATE``, ``<VENDOR>_CACHE_STALE_IF_ERROR``), in the
sense of RFC 5861: an entry is *fresh* for ``fresh`` seconds; for ``revalidate``
seconds after that it is still answered at once while one background call refreshes
it; and for ``if_error`` seconds after the fresh window it may stand in for a vendor
that fails or refuses the call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Use(enum.Enum):
    FRESH = "fresh"  # answer from it
    REVALIDATE = "revalidate"  # answer from it, and refresh it in the background
    IF_ERROR = "if_error"  # call the vendor; answer from it if the call fails
    NONE = "none"  # too old for anything


@dataclass(frozen=True, slots=True)
class Freshness:
    fresh: float
    revalidate: float = 0.0
    if_error: float = 0.0

    @property
    def retained(self) -> float:
        """Seconds an entry is worth keeping at all."""
        return self.fresh + max(self.revalidate, self.if_error)

    def use(self, age: float) -> Use:
        if age < self.fresh:
            return Use.FRESH
        if age < self.fresh + self.revalidate:
            return Use.REVALIDATE
        if age <= self.fresh + self.if_error:
            return Use.IF_ERROR
        return Use.NONE

    def stands_in(self, age: float) -> bool:
        """Whether an entry this old may answer for a failed call."""
        return age <= self.fresh + self.if_error
