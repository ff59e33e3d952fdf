"""Work-list reads kept in the shared store, so every gateway process resumes a walk
in the vendor pages another process read (see gateway.state.work_snapshots).

Entries are the gateway's own records in the JSON codec (never pickle), under
the same random tokens the in-process kind hands out, and expire after the same
TTL; Redis bounds them by time, not by count. A write through any process clears
every process's entries at once by moving the vendor's generation: entries live
under ``<vendor namespace>:<generation>:<token>``, so the old ones are never
found again and simply expire.

An entry that cannot be read back (another gateway version's record shape, say)
is a miss: the source reads the vendor again, as when an entry expired.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from gateway.core.work import WorkBatch, WorkQuery, WorkRecord
from gateway.state.storage.base import SharedStore
from gateway.state.storage.codec import NotSerialisable, decode, encode
from gateway.state.storage.memory import MemoryStore
from gateway.state.work_snapshots import KeptWork, WorkSnapshots, new_token

logger = logging.getLogger("gateway.work")

# A first generation for a vendor no write has cleared yet (or whose generation
# key expired, by when every entry written under it has expired too).
INITIAL_GENERATION = b"0"
# Outlives every entry written under it, so an expired generation key never
# brings back entries from before the write that set it.
GENERATION_TTL = 2 * WorkSnapshots.TTL


@dataclass(frozen=True, slots=True)
class KeptRead:
    """What one entry holds: the query (and streamed page) it answers, and the batch."""

    query: WorkQuery
    batch: WorkBatch
    page: int | None = None


class SharedWorkSnapshots:
    TTL = WorkSnapshots.TTL

    def __init__(self, store: SharedStore, vendor: str, *identity: str) -> None:
        self._store = store
        digest = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:24]
        self._namespace = f"work:{vendor}:{digest}"
        self._unkeepable_logged = False

    async def get(self, position: str | None, query: WorkQuery) -> list[WorkRecord] | None:
        if not position:
            return None
        kept = await self._read(position)
        if kept is None or kept.page is not None or kept.query != query:
            return None
        return kept.batch.records

    async def put(self, query: WorkQuery, records: list[WorkRecord]) -> str:
        token = f"snapshot:{new_token()}"
        await self._write(token, KeptRead(query, WorkBatch(records, None)))
        return token

    async def get_page(self, token: str, query: WorkQuery, page: int) -> WorkBatch | None:
        kept = await self._read(f"page:{token}")
        if kept is None or kept.page != page or kept.query != query:
            return None
        return kept.batch

    async def put_page(
        self, query: WorkQuery, page: int, records: list[WorkRecord], next_position: str | None
    ) -> WorkBatch:
        token = new_token()
        batch = WorkBatch(records, next_position, f"{page}.{token}")
        await self._write(f"page:{token}", KeptRead(query, batch, page))
        return batch

    async def clear(self) -> None:
        """Forget every process's entries for this vendor, after a write through the gateway."""
        generation = secrets.token_hex(8).encode()
        await self._store.set(self._generation_key, generation, ttl=GENERATION_TTL)

    @property
    def _generation_key(self) -> str:
        return f"{self._namespace}:generation"

    async def _key(self, name: str) -> str:
        generation = await self._store.get(self._generation_key) or INITIAL_GENERATION
        return f"{self._namespace}:{generation.decode(errors='replace')}:{name}"

    async def _read(self, name: str) -> KeptRead | None:
        raw = await self._store.get(await self._key(name))
        if raw is None:
            return None
        try:
            kept = decode(raw)
        except (NotSerialisable, ValueError, TypeError, KeyError, AttributeError, ImportError):
            return None
        return kept if isinstance(kept, KeptRead) else None

    async def _write(self, name: str, kept: KeptRead) -> None:
        try:
            value = encode(kept)
        except NotSerialisable as exc:
            # Not kept: the next page reads the vendor page again, as after expiry.
            if not self._unkeepable_logged:
                self._unkeepable_logged = True
                logger.warning("A work-list read cannot be kept in the shared store: %s", exc)
            return
        await self._store.set(await self._key(name), value, ttl=self.TTL)


def work_snapshots(store: SharedStore | None, vendor: str, *identity: str) -> KeptWork:
    """Where a vendor adapter keeps its work reads: in ``store`` when that is shared
    with other processes, else in this process, bounded.

    ``identity`` (the vendor account the reads came from, never logged or kept in
    the clear) scopes shared entries, so gateways for different accounts sharing
    one Redis never answer from each other's reads.
    """
    if store is None or isinstance(store, MemoryStore):
        # A MemoryStore is this process's own: the bounded dicts below serve as well.
        return WorkSnapshots()
    return SharedWorkSnapshots(store, vendor, *identity)
