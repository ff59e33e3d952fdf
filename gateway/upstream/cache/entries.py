"""A kept vendor answer, its key, and the store of this process's memory.

The key is what the vendor answers to: the vendor, the URL (query included) and every
request header that can change the answer (``Accept``, an organization header), but
not the credential (the gateway's own for every client, and an OAuth token changes as
it is renewed) nor headers that only describe the call (tracing, user agent). It is a
hash, so a URL that carries a vendor key is never written into Redis.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx
import orjson

from gateway.core.types import Vendor
from gateway.upstream.responses import decoded_headers

# Request headers that never change what the vendor answers.
_UNKEYED = frozenset(
    {
        "authorization",
        "user-agent",
        "accept-encoding",
        "connection",
        "host",
        "content-length",
        "traceparent",
        "tracestate",
        "baggage",
        "x-request-id",
    }
)


def entry_key(request: httpx.Request) -> str:
    material = [request.method, str(request.url)]
    for name, value in sorted(request.headers.multi_items()):
        if name.lower() not in _UNKEYED:
            material += [name.lower(), value]
    return hashlib.sha256(orjson.dumps(material)).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    stored_at: float  # wall-clock seconds (shared by every process)
    # The generation it was kept under (see ``generation_of``): once what it shows
    # changed, it only stands in for a call that fails (the vendor's last known answer).
    generation: str = "0"
    # Kept from a list answer that showed the item (see ``held``), not read by id.
    held: bool = False

    @classmethod
    def of(cls, response: httpx.Response, stored_at: float) -> Entry:
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in decoded_headers(response)
        )
        return cls(response.status_code, headers, response.content, stored_at)

    def response(self) -> httpx.Response:
        """A new response of the kept bytes (each caller its own)."""
        return httpx.Response(self.status, headers=list(self.headers), content=self.content)

    def superseded(self, generation: str) -> bool:
        return self.generation != generation

    def encode(self) -> bytes:
        head = [self.status, self.stored_at, self.headers, self.generation, self.held]
        return orjson.dumps(head) + b"\n" + self.content

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        head, _, content = data.partition(b"\n")
        status, stored_at, headers, generation, *held = orjson.loads(head)
        headers = tuple((str(k), str(v)) for k, v in headers)
        held_flag = bool(held and held[0])  # entries kept before it had no such flag
        return cls(int(status), headers, content, stored_at, str(generation), held_flag)


def generation_of(vendor_wide: int, all_items: int, item_generation: int, item: str | None) -> str:
    """The generation an entry is kept under. A read of the vendor's lists (no ``item``)
    changes with any change of the vendor; a read of one item only with a change of that
    item, or of the vendor's items at large (a change that named no item)."""
    if item is None:
        return str(vendor_wide)
    return f"{all_items}:{item_generation}"


class MemoryEntries:
    """This process's entries, least recently used dropped past ``max_entries``. A
    vendor's generation goes up with every write to it: an entry is kept only under
    the generation its read began in, so a read that began before a write is not."""

    # Its memory is its own: a change another process relays must be applied here too.
    shared = False

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple[Vendor, str], Entry] = OrderedDict()
        # Per vendor: every change; changes that named no item; per item, its changes.
        self._generations: dict[Vendor, int] = {}
        self._all_items: dict[Vendor, int] = {}
        self._items: dict[tuple[Vendor, str], int] = {}
        # (vendor, item) -> until when a further change event about it is not applied.
        self._recent: dict[tuple[Vendor, str], float] = {}

    def _generation(self, vendor: Vendor, item: str | None) -> str:
        return generation_of(
            self._generations.get(vendor, 0),
            self._all_items.get(vendor, 0),
            self._items.get((vendor, item), 0) if item is not None else 0,
            item,
        )

    async def lookup(
        self, vendor: Vendor, key: str, item: str | None = None
    ) -> tuple[str | None, Entry | None]:
        entry = self._entries.get((vendor, key))
        if entry is not None:
            self._entries.move_to_end((vendor, key))
        return self._generation(vendor, item), entry

    async def keep(
        self,
        vendor: Vendor,
        key: str,
        entry: Entry,
        generation: str,
        retain: float,
        item: str | None = None,
    ) -> None:
        if generation != self._generation(vendor, item):
            return  # a write happened meanwhile: this answer may predate it
        self._entries[(vendor, key)] = replace(entry, generation=generation)
        self._entries.move_to_end((vendor, key))
        self._trim()

    async def keep_held(
        self, vendor: Vendor, generation: str, held: list[tuple[str, str, Entry]], retain: float
    ) -> None:
        if generation != self._generation(vendor, None):
            return  # the vendor changed since the list's read began: it may predate that
        for key, item, entry in held:
            self._entries[(vendor, key)] = replace(entry, generation=self._generation(vendor, item))
            self._entries.move_to_end((vendor, key))
        self._trim()

    def _trim(self) -> None:
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, vendor: Vendor, *items: str) -> None:
        """Supersede ``vendor``'s entries: those of ``items``, or of every item if none
        is named; the vendor's own generation moves once."""
        # Entries stay, superseded: each may still stand in for a call that fails.
        self._generations[vendor] = self._generations.get(vendor, 0) + 1
        if not items:
            self._all_items[vendor] = self._all_items.get(vendor, 0) + 1
        if len(self._items) + len(items) > self.max_entries:
            # Bounded: as if every item of those vendors changed (an item's count
            # restarts, so the vendors' own count moves on, or old tokens could recur).
            for known in {vendor, *(each for each, _ in self._items)}:
                self._all_items[known] = self._all_items.get(known, 0) + 1
            self._items.clear()
        for item in items:
            self._items[(vendor, item)] = self._items.get((vendor, item), 0) + 1

    async def invalidate(self, vendor: Vendor, item: str | None = None) -> None:
        self.drop(vendor, *(() if item is None else (item,)))

    async def invalidate_once(self, vendor: Vendor, items: Sequence[str], window: float) -> None:
        now = self.clock()
        if len(self._recent) > self.max_entries:
            self._recent = {key: until for key, until in self._recent.items() if until > now}
        applied = [item for item in items if self._recent.get((vendor, item), 0.0) <= now]
        for item in applied:
            self._recent[(vendor, item)] = now + window
        if applied:
            self.drop(vendor, *applied)

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        self._entries.clear()
