"""Todos as recent list pages showed them, for by-id reads without a scan.

Fakturoid has no endpoint for one todo: a by-id read (``node(id:)``, ``todo(id:)``)
scans list pages, newest first -- on every dashboard refresh of every user. Every list
page the adapter reads (a list field, ``workItems``, a change poller, a scan itself)
records each todo on it with when it was seen, in the shared store (this process's
memory, or Redis so that every process shares them); a by-id read of a todo seen
within ``FAKTUROID_BY_ID_MAX_AGE`` seconds is answered from there. Older or unknown
ids are scanned for, which records them afresh; an id a whole scan did not find is
forgotten (deleted, or beyond the scan's reach).

A change event about a todo (the gateway's own toggle, the poller's finding, relayed
from another process) drops it from here, so its next by-id read scans for it afresh
rather than answer what a list page showed before the change.

Never used to decide a write (``gateway.upstream.cache.reads.vendor_state``): a
toggle reads the vendor's own state. A page served from the read cache
(``GATEWAY_CACHE``) is recorded as seen when it is read, so with the cache on a todo
may be up to the cache's TTL older than this bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gateway.core.errors import BadUserInput
from gateway.core.ids import decode_id
from gateway.core.records import BadRecord, good
from gateway.state.changes import ChangeEvent
from gateway.state.storage import MemoryStore, SharedStore
from gateway.state.storage.batches import delete_many, get_many, set_many
from gateway.state.storage.codec import NotSerialisable, decode, encode
from gateway.state.storage.tokens import credentials_key
from gateway.upstream.cache.scope import may_answer_from_kept, note_kept

from .models import FakturoidTodo
from .paging import PageLoader, find_todos
from .vendor import FAKTUROID, TODO_TYPE


@dataclass(frozen=True, slots=True)
class Seen:
    todo: FakturoidTodo
    # Seconds since it was seen on a list page.
    age: float


class SeenTodos:
    """One Fakturoid account's todos as last seen, each kept for ``max_age`` seconds."""

    def __init__(
        self,
        store: SharedStore | None,
        *identity: str,
        max_age: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Wall time, not monotonic: processes on several hosts compare their stamps.
        self.store = store or MemoryStore()
        self.max_age, self.clock = max_age, clock
        # Scoped by account (hashed): gateways for two accounts may share one Redis.
        self._prefix = credentials_key(FAKTUROID.value, *identity).replace("token:", "seen:", 1)
        # Forgettings a change event started (strong references: the loop keeps weak ones).
        self._forgetting: set[asyncio.Task[None]] = set()

    @property
    def on(self) -> bool:
        return self.max_age > 0

    @property
    def shared(self) -> bool:
        """Whether every process reads this same index (Redis), not one of its own."""
        return not isinstance(self.store, MemoryStore)

    async def saw(self, todos: Iterable[FakturoidTodo | BadRecord]) -> None:
        """``todos`` were just read from Fakturoid."""
        if not self.on:
            return
        now = self.clock()
        entries: dict[str, bytes] = {}
        for todo in good(list(todos)):
            try:
                entries[self._key(todo.id)] = encode({"seen": now, "todo": todo})
            except NotSerialisable:
                continue  # a params value the codec has no form for: scanned for instead
        await set_many(self.store, entries, ttl=self.max_age)

    async def recent(self, ids: Sequence[int]) -> dict[int, Seen]:
        """The todos of ``ids`` seen within ``max_age``, by id."""
        if not self.on or not ids:
            return {}
        now = self.clock()
        found: dict[int, Seen] = {}
        kept = await get_many(self.store, [self._key(todo_id) for todo_id in ids])
        for todo_id, data in zip(ids, kept, strict=True):
            entry = _decoded(data)
            if entry is None or entry[0].id != todo_id:
                continue
            age = max(0.0, now - entry[1])
            # The store's expiry keeps entries about this long; the stamp says exactly.
            if age < self.max_age:
                found[todo_id] = Seen(entry[0], age)
        return found

    async def forget(self, ids: Iterable[int]) -> None:
        """``ids`` are no longer on Fakturoid's list (or out of a scan's reach)."""
        if self.on:
            await delete_many(self.store, [self._key(todo_id) for todo_id in ids])

    def changed(self, event: ChangeEvent) -> None:
        """A change event (which does not wait): the todo it names is forgotten."""
        if not self.on or event.type_name != TODO_TYPE:
            return
        try:
            todo_id = int(decode_id(event.id).key)
        except (BadUserInput, ValueError):
            return  # not a todo id of ours
        task = asyncio.get_running_loop().create_task(self.forget([todo_id]))
        self._forgetting.add(task)
        task.add_done_callback(self._forgetting.discard)

    async def settled(self) -> None:
        """Returns once the forgettings change events started are done."""
        await asyncio.gather(*self._forgetting)

    def _key(self, todo_id: int) -> str:
        return f"{self._prefix}:{todo_id}"


async def find_by_id(
    seen: SeenTodos, load_page: PageLoader, ids: Sequence[int]
) -> list[FakturoidTodo | None]:
    """The todo for each id (None where absent): from recent list pages where they
    show it, by a scan of ``load_page``'s pages for the others."""
    # A read that decides a write, or for a client that asked for fresh reads, must
    # see the vendor's state as it is now.
    known = await seen.recent(ids) if may_answer_from_kept() else {}
    if known:
        # Like a cached read: the answer is as old as the oldest todo in it.
        oldest = max(entry.age for entry in known.values())
        note_kept(FAKTUROID, age=oldest, fresh_for=max(0.0, seen.max_age - oldest))
    answers = {todo_id: entry.todo for todo_id, entry in known.items()}
    missing = [todo_id for todo_id in ids if todo_id not in known]
    if missing:
        # The scan's pages record what they hold (FakturoidAdapter.list_page).
        scanned = dict(zip(missing, await find_todos(load_page, missing), strict=True))
        await seen.forget(todo_id for todo_id, todo in scanned.items() if todo is None)
        answers.update((todo_id, todo) for todo_id, todo in scanned.items() if todo)
    return [answers.get(todo_id) for todo_id in ids]


def _decoded(data: bytes | None) -> tuple[FakturoidTodo, float] | None:
    """A kept entry: the todo, and when it was seen."""
    if data is None:
        return None
    try:
        value = decode(data)
    except (NotSerialisable, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    todo, stamp = value.get("todo"), value.get("seen")
    if not isinstance(todo, FakturoidTodo) or not isinstance(stamp, int | float):
        return None
    return todo, float(stamp)
