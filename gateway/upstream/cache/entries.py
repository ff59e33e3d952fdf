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
from collections.abc import Callable
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
    # The vendor's generation it was kept under: once the vendor changed, it only
    # stands in for a call that fails (it is the vendor's last known answer).
    generation: int = 0

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

    def superseded(self, generation: int) -> bool:
        return self.generation != generation

    def encode(self) -> bytes:
        head = orjson.dumps([self.status, self.stored_at, self.headers, self.generation])
        return head + b"\n" + self.content

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        head, _, content = data.partition(b"\n")
        status, stored_at, headers, generation = orjson.loads(head)
        headers = tuple((str(k), str(v)) for k, v in headers)
        return cls(int(status), headers, content, stored_at, int(generation))


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
        self._generations: dict[Vendor, int] = {}
        # (vendor, item) -> until when a further change event about it is not applied.
        self._recent: dict[tuple[Vendor, str], float] = {}

    async def lookup(self, vendor: Vendor, key: str) -> tuple[int | None, Entry | None]:
        entry = self._entries.get((vendor, key))
        if entry is not None:
            self._entries.move_to_end((vendor, key))
        return self._generations.get(vendor, 0), entry

    async def keep(
        self, vendor: Vendor, key: str, entry: Entry, generation: int, retain: float
    ) -> None:
        if generation != self._generations.get(vendor, 0):
            return  # a write to the vendor happened meanwhile: this answer may predate it
        self._entries[(vendor, key)] = replace(entry, generation=generation)
        self._entries.move_to_end((vendor, key))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, vendor: Vendor) -> None:
        # Entries stay, superseded: each may still stand in for a call that fails.
        self._generations[vendor] = self._generations.get(vendor, 0) + 1

    async def invalidate(self, vendor: Vendor) -> None:
        self.drop(vendor)

    async def invalidate_once(self, vendor: Vendor, item: str, window: float) -> None:
        now = self.clock()
        if self._recent.get((vendor, item), 0.0) > now:
            return
        if len(self._recent) > self.max_entries:
            self._recent = {key: until for key, until in self._recent.items() if until > now}
        self._recent[(vendor, item)] = now + window
        self.drop(vendor)

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        self._entries.clear()
