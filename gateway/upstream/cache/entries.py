"""A kept vendor answer, its key, and the store of this process's memory.

The key is what the vendor answers to: the vendor, the URL (query included) and every
request header that can change the answer (``Accept``, an organization header), but
not the credential (the gateway's own for every client, and an OAuth token changes as
it is renewed) nor headers that only describe the call (tracing, user agent). It is a
hash, so a URL that carries a vendor key is never written into Redis.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

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

    def encode(self) -> bytes:
        head = orjson.dumps([self.status, self.stored_at, self.headers])
        return head + b"\n" + self.content

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        head, _, content = data.partition(b"\n")
        status, stored_at, headers = orjson.loads(head)
        return cls(int(status), tuple((str(k), str(v)) for k, v in headers), content, stored_at)


class MemoryEntries:
    """This process's entries, least recently used dropped past ``max_entries``. A
    vendor's generation goes up with every write to it: an entry is kept only under
    the generation its read began in, so a read that began before a write is not."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Vendor, str], Entry] = OrderedDict()
        self._generations: dict[Vendor, int] = {}

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
        self._entries[(vendor, key)] = entry
        self._entries.move_to_end((vendor, key))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, vendor: Vendor) -> None:
        self._generations[vendor] = self._generations.get(vendor, 0) + 1
        for key in [key for key in self._entries if key[0] == vendor]:
            del self._entries[key]

    async def invalidate(self, vendor: Vendor) -> None:
        self.drop(vendor)

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        self._entries.clear()
