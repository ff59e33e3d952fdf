"""Edits a person makes in Fakturoid's own web UI, applied behind the gateway's back.

Served at ``/fakturoid/_admin/changes`` (see ``gateway.core.sandbox.Changes``). Fakturoid
writes its todos itself; what a person does to one is tick it off or untick it, so
``completed`` is the one field a change sets.
"""

from __future__ import annotations

import random

from gateway.core.sandbox import Change, ChangeError, Changes, Clock, change_target

from .store import Store, from_epoch


def apply(store: Store, clock: Clock, change: Change) -> Change:
    todo_id, fields = change_target(change, "todo")
    todo = store.todos.get(todo_id) if isinstance(todo_id, int) else None
    if todo is None:
        raise ChangeError(404, f"no todo {todo_id}")
    if set(fields) != {"completed"} or not isinstance(fields["completed"], bool):
        raise ChangeError(400, "set takes completed (true or false), the one field a person edits")
    if fields["completed"] != (todo.completed_at is not None):
        todo.completed_at = from_epoch(clock.now()) if fields["completed"] else None
    return {"type": "todo", "id": todo_id, "set": fields}


def pick(store: Store, rng: random.Random) -> Change:
    """One plausible edit: a todo ticked off or unticked."""
    todo = store.todos[rng.choice(sorted(store.todos))]
    return {"type": "todo", "id": todo.id, "set": {"completed": todo.completed_at is None}}


def changes(store: Store, clock: Clock) -> Changes:
    return Changes(clock, lambda change: apply(store, clock, change), lambda rng: pick(store, rng))
