"""Edits a person makes in Zoho Invoice's own web UI, applied behind the gateway's back.

Served at ``/zoho/_admin/changes`` (see ``gateway.core.sandbox.Changes``): a task renamed,
re-described or re-rated, a project marked active or inactive, a task added.
"""

from __future__ import annotations

import random
from typing import Any

from gateway.core.sandbox import Change, ChangeError, change_target

from .store import Project, Store, Task

_TASK_FIELDS = {"task_name": str, "description": str, "rate": (int, float), "is_billable": bool}
_PROJECT_FIELDS = {"project_name": str, "description": str, "status": str}
_NEW_TASKS = ("Follow-up call", "Data check", "Status report", "Timesheet review")


def _checked(fields: dict[str, Any], allowed: dict[str, Any]) -> dict[str, Any]:
    for name, value in fields.items():
        kind = allowed.get(name)
        if kind is None:
            raise ChangeError(400, f"{name} cannot be set; settable: {', '.join(allowed)}")
        # bool is an int: a flag is not a rate, nor a number a flag.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ChangeError(400, f"{name} has the wrong type")
    if fields.get("status", "active") not in ("active", "inactive"):
        raise ChangeError(400, "status must be active or inactive")
    return fields


def _task(store: Store, task_id: Any) -> tuple[Project, Task]:
    for project in store.projects.values():
        task = project.tasks.get(str(task_id))
        if task is not None:
            return project, task
    raise ChangeError(404, f"no task {task_id}")


def apply(store: Store, change: Change) -> Change:
    """A change to a project or a task; a task change with ``project_id`` and no ``id`` adds one."""
    kind = change.get("type")
    if kind == "task" and "id" not in change and "project_id" in change:
        return _add_task(store, change)
    if kind == "project":
        project_id, fields = change_target(change, "project")
        project = store.projects.get(str(project_id))
        if project is None:
            raise ChangeError(404, f"no project {project_id}")
        for name, value in _checked(fields, _PROJECT_FIELDS).items():
            setattr(project, name, value)
    else:
        task_id, fields = change_target(change, "task")
        project, task = _task(store, task_id)
        for name, value in _checked(fields, _TASK_FIELDS).items():
            setattr(task, name, value)
    store.touch(project)
    return {"type": kind, "id": str(change["id"]), "set": fields}


def _add_task(store: Store, change: Change) -> Change:
    project = store.projects.get(str(change["project_id"]))
    if project is None:
        raise ChangeError(404, f"no project {change['project_id']}")
    fields = _checked(dict(change.get("set") or {}), _TASK_FIELDS)
    if not isinstance(fields.get("task_name"), str):
        raise ChangeError(400, "a new task needs a task_name")
    task = Task(store.new_id(), fields.pop("task_name"), "", rate=0, budget_hours=None)
    for name, value in fields.items():
        setattr(task, name, value)
    project.tasks[task.task_id] = task
    store.touch(project)
    return {"type": "task", "id": task.task_id, "added": True, "set": change["set"]}


def pick(store: Store, rng: random.Random) -> Change:
    """One plausible edit: rename a task, flip a project's status or add a task."""
    project = rng.choice(sorted(store.projects.values(), key=lambda p: p.project_id))
    roll = rng.random()
    if roll < 0.2:
        name = rng.choice(_NEW_TASKS)
        return {"type": "task", "project_id": project.project_id, "set": {"task_name": name}}
    if roll < 0.4 or not project.tasks:
        status = "inactive" if project.status == "active" else "active"
        return {"type": "project", "id": project.project_id, "set": {"status": status}}
    task = rng.choice(sorted(project.tasks.values(), key=lambda t: t.task_id))
    name = f"{task.task_name.split(' (')[0]} (rev {rng.randint(2, 99)})"
    return {"type": "task", "id": task.task_id, "set": {"task_name": name}}
