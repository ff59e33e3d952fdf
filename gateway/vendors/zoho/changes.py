"""Zoho Invoice's delta read, for the change poller (gateway.state.polling).

Projects: the first page of ``GET /projects?sort_column=last_modified_time`` in
descending order (one call, up to 200 projects). Zoho moves a project's
``last_modified_time`` when the project or any of its tasks is edited, so that one
call also says which projects' tasks may have changed.

Tasks carry no modification time and there is no task list across projects, so the
cheapest way to learn which task changed is one ``GET /projects/{id}/tasks`` per
project whose time moved, compared with that project's task list of the last read
(a digest per task). A project whose tasks were never read (the baseline reads no
task lists: that would cost a call per project out of a daily quota) has every task
reported as updated the first time it changes: possibly more than changed, never less.

Deletions: a task gone from its project's list is reported, as is a deleted project
among the 200 most recently modified (one gone from the page although its time still
ranks it within it), with the tasks last read of it. Creations: a project new to the
page created after the newest change the last round saw, a task new to its list.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from gateway.core.ids import decode_id, encode_id
from gateway.state.polling import (
    CREATED,
    DELETED,
    UPDATED,
    Cursor,
    Round,
    Stamped,
    newest_first_diff,
    page_cursor,
    versions_diff,
)

from .client import ZohoAdapter
from .models import ProjectQuery, SortColumn, ZohoProject, ZohoTask
from .vendor import PROJECT_TASK_TYPE, PROJECT_TYPE, ZOHO

PAGE_SIZE = 200
_NEWEST_MODIFIED = ProjectQuery(sort_column=SortColumn.UPDATED_AT, descending=True)


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _digest(task: ZohoTask) -> str:
    return hashlib.blake2b(repr(task).encode(), digest_size=8).hexdigest()


class ZohoChanges:
    def __init__(self, adapter: ZohoAdapter) -> None:
        self.adapter = adapter

    async def read(self, cursor: Cursor | None) -> Round:
        page = await self.adapter.list_projects(_NEWEST_MODIFIED, offset=0, limit=PAGE_SIZE)
        stamped = [
            Stamped(encode_id(ZOHO, PROJECT_TYPE, p.id), _stamp(p.updated_at), _stamp(p.created_at))
            for p in page.items
            if isinstance(p, ZohoProject)
        ]
        full = len(page.items) >= PAGE_SIZE
        new_cursor = page_cursor(stamped, full=full)
        if cursor is None:
            return Round((), {**new_cursor, "tasks": {}}, calls=1)
        tasks: dict[str, dict[str, str]] = dict(cursor.get("tasks", {}))
        changes: list[tuple[str, str]] = []
        calls = 1
        for gid, kind in newest_first_diff(cursor, stamped, full=full):
            changes.append((gid, kind))
            if kind == DELETED:
                changes += [(task, DELETED) for task in tasks.pop(gid, {})]
                continue
            calls += 1
            listed = await self._tasks(decode_id(gid).key)
            if gid in tasks or kind == CREATED:
                changes += versions_diff(tasks.get(gid, {}), listed)
            else:
                changes += [(task, UPDATED) for task in listed]
            tasks[gid] = listed
        return Round(changes, {**new_cursor, "tasks": tasks}, calls=calls)

    async def _tasks(self, project_id: str) -> dict[str, str]:
        """The project's tasks: global id to digest (none if the project is gone)."""
        listed = await self.adapter.list_project_tasks(project_id)
        return {
            encode_id(ZOHO, PROJECT_TASK_TYPE, project_id, task.id): _digest(task)
            for task in listed or ()
            if isinstance(task, ZohoTask)
        }
