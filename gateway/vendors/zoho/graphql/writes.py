"""How a retried `createProjectTask` finds the task an earlier attempt created, and how
the project toggles read and set a project's status."""

from __future__ import annotations

from gateway.api.context import Context
from gateway.api.writes import Attempt, TwoStates
from gateway.core.errors import NotFound, OutcomeUnknown
from gateway.core.records import good

from .. import models
from ..loaders import KEY
from ..models import TaskChanges, ZohoProject, ZohoTask
from ..vendor import ZOHO
from .types import project_key


async def task_written_earlier(
    context: Context, raw_project_id: str, changes: TaskChanges, attempt: Attempt
) -> ZohoTask | None:
    """The task an earlier attempt under the same key may have created, if any.

    Zoho has no idempotency keys, nor a field documented for a caller's marker. So
    before creating, an attempt records the ids of the project's tasks that already
    look like the new one (every field sent); a retry in doubt -- after a timeout, or
    after the first attempt's process died -- reads the tasks from Zoho again: one
    look-alike not among those is the earlier attempt's task; none means it was not
    created; more than one cannot be told apart, so nothing is written.
    """
    project_id = project_key(raw_project_id)
    found = await context.adapters.of(KEY).list_project_tasks(project_id)
    if found is None:
        raise NotFound(f"No Project with id {raw_project_id!r}.", vendor=ZOHO)
    tasks = good(found)  # a task Zoho sent that cannot be parsed is no look-alike
    alike = frozenset(task.id for task in tasks if _looks_like(task, changes))
    earlier = attempt.intent
    if not isinstance(earlier, frozenset):
        await attempt.intend(alike)
        return None
    written = sorted(alike - earlier)
    if len(written) > 1:
        raise OutcomeUnknown(
            ZOHO,
            f"`createProjectTask` may have been applied: the project now has {len(written)} "
            f"new tasks named {changes.name!r} with the values sent, and Zoho cannot tell "
            "which one this key created. Check the project's tasks and delete any "
            "duplicate; no task was created by this retry.",
            mutation="createProjectTask",
        )
    if written:
        return next(task for task in tasks if task.id == written[0])
    return None


def _looks_like(task: ZohoTask, changes: TaskChanges) -> bool:
    """Whether ``task`` bears every value a create with ``changes`` sent."""
    sent = (
        (changes.description, task.description),
        (changes.rate, task.rate),
        (changes.budget_hours, task.budget_hours),
    )
    return task.name == changes.name and all(
        value is None or value == found for value, found in sent
    )


def project_activity(context: Context, raw_id: str) -> TwoStates[ZohoProject]:
    """A project's status, as Zoho reads and sets it."""
    project_id = project_key(raw_id)

    async def read() -> ZohoProject:
        # From Zoho itself, not the operation's loader: it decides the write.
        project = await context.adapters.of(KEY).get_project(project_id)
        if project is None:
            raise NotFound(f"No Project with id {raw_id!r}.", vendor=ZOHO)
        return project

    async def set_active(active: bool) -> ZohoProject:
        return await context.adapters.of(KEY).set_project_active(project_id, active)

    return TwoStates(
        ZOHO,
        project_id,
        read,
        state_of=lambda project: project.status is models.ProjectStatus.ACTIVE,
        set=set_active,
        # Zoho's own call sets the status, harmless to repeat: nothing is read first.
        set_reads_first=False,
    )
