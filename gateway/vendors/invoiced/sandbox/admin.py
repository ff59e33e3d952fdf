"""Edits a person makes in Invoiced's own dashboard, applied behind the gateway's back.

Served at ``/invoiced/_admin/changes`` (see ``gateway.core.sandbox.Changes``): a task
completed or reopened, renamed, re-assigned or re-dated, or a new task added. The fields go
through the same checks as the API's own writes, so an admin edit is one the API could make.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from gateway.core.sandbox import Change, ChangeError, Changes, change_target

from .store import ApiError, Store

Apply = Callable[[Store, dict[str, Any], dict[str, Any], bool], None]
_NEW_TASKS = (("Call about disputed line item", "phone"), ("Email payment reminder", "email"))


def _write(store: Store, write: Apply, task: dict[str, Any], fields: dict[str, Any]) -> None:
    draft = dict(task)
    try:
        write(store, draft, fields, not task["id"])
    except ApiError as error:
        raise ChangeError(400, error.message) from None
    draft["updated_at"] = int(store.clock.now())
    task.update(draft)


def apply(store: Store, write: Apply, change: Change) -> Change:
    """A task changed by ``id``, or added when the change names none."""
    if "id" not in change:
        change_target({**change, "id": None}, "task")
        task = store.blank_task()
        _write(store, write, task, change["set"])
        task["id"] = store.new_id()
        store.tasks[task["id"]] = task
        store.changed("task.created", task)
        return {"type": "task", "id": task["id"], "added": True, "set": change["set"]}
    task_id, fields = change_target(change, "task")
    found = store.tasks.get(task_id) if isinstance(task_id, int) else None
    if found is None:
        raise ChangeError(404, f"no task {task_id}")
    _write(store, write, found, fields)
    store.changed("task.updated", found)
    return {"type": "task", "id": task_id, "set": fields}


def pick(store: Store, rng: random.Random) -> Change:
    """One plausible edit: complete or reopen a task, rename one, or add one."""
    roll = rng.random()
    if roll < 0.15 or not store.tasks:
        name, action = rng.choice(_NEW_TASKS)
        customer = rng.choice(sorted(store.customers))
        due = int(store.clock.now()) + rng.randint(1, 30) * 86_400
        fields = {"name": name, "action": action, "customer_id": customer, "due_date": due}
        return {"type": "task", "set": fields}
    task = store.tasks[rng.choice(sorted(store.tasks))]
    if roll < 0.6:
        return {"type": "task", "id": task["id"], "set": {"complete": not task["complete"]}}
    name = f"{task['name'].split(' (')[0]} (rev {rng.randint(2, 99)})"
    return {"type": "task", "id": task["id"], "set": {"name": name}}


def changes(store: Store, write: Apply) -> Changes:
    return Changes(
        store.clock, lambda change: apply(store, write, change), lambda rng: pick(store, rng)
    )
