"""The items a list answer shows, kept as the answers to their own by-id reads.

A dashboard reads a vendor's list and, on every refresh, a few of its items by id. The
list's answer already shows those items as the vendor's read of one item would (the
same object, in the vendor's own by-id envelope), so when a list answer is kept, each
item on it is kept too, under the key of the by-id read that would fetch it:

- as old as the list's answer (its ``stored_at``), so its age, ``Age`` and freshness
  are the list's;
- under the item's own generation, so a change of that item supersedes it and a
  change of another item does not, as for a by-id read;
- only while the vendor's generation is still the one the list's read began in: an
  answer that may predate a change is not kept, and neither are the items on it.

A by-id read of an item a list showed within its fresh window then costs no call, so
the calls a vendor gets stop growing with how many users read which items. The vendor
says which of its lists hold which items and how its by-id answer looks (each vendor
folder's client, ``Upstream.send(holds=...)``); what is kept here is the vendor's own
data, in the form its by-id read answers.

An item kept from a list is renewed by the list's own refresh, which its readers start
as soon as it ages past its fresh window. A by-id read of such an item past its fresh
window therefore does not start a by-id refresh of its own until it is past half of the
stale-while-revalidate window (by then nobody reads the list): otherwise every list
refresh would be doubled by one call per item read meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from gateway.upstream.cache.entries import Entry, entry_key
from gateway.upstream.cache.freshness import Freshness

logger = logging.getLogger("gateway.cache")


@dataclass(frozen=True, slots=True)
class HeldItem:
    """One item a list answer shows: its name (``item_named``), the path of the read of
    it alone, and what that read would answer."""

    item: str
    path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Held:
    """A held item with its by-id request built (what its entry is keyed by)."""

    request: httpx.Request
    item: str
    content: bytes


# Given a list answer's body, the items it holds (the adapter's knowledge of its wire).
Holds = Callable[[bytes], Iterable[HeldItem]]
# Given a list answer, its held items with their requests (built by the Upstream).
HeldOf = Callable[[httpx.Response], list[Held]]


def held_entries(
    held_of: HeldOf, response: httpx.Response, stored_at: float
) -> list[tuple[str, str, Entry]]:
    """``(key, item, entry)`` for each item ``response`` holds, stored when it was."""
    try:
        held = held_of(response)
    except Exception as exc:
        # The adapter's own parse of the same answer reports what is wrong with it.
        logger.debug("A list answer's items were not kept: %s", type(exc).__name__)
        return []
    content_type = response.headers.get("content-type", "application/json")
    headers = (("content-type", content_type),)
    entries = []
    for each in held:
        entry = Entry(200, headers, each.content, stored_at, held=True)
        entries.append((entry_key(each.request), each.item, entry))
    return entries


def refreshes_itself(entry: Entry, age: float, freshness: Freshness) -> bool:
    """Whether a read answered from ``entry`` past its fresh window starts a refresh of
    it: not a held entry in the first half of its stale-while-revalidate window."""
    return not entry.held or age >= freshness.fresh + freshness.revalidate / 2
