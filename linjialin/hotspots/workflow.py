"""The proactive task's states and transitions (主动治理任务), one table read by services, pages and docs.

open → in_progress → done; open or in_progress → cancelled. The owner starts and finishes it; whoever
supervises requests over its place (requests.supervise) may too, and only they may cancel it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, Workflow

from .models import ProactiveTask, TaskState

S = TaskState


def owner(actor, task) -> bool:
    return actor is not None and task.owner_id == actor.pk


def supervisor(actor, task) -> bool:
    return actor is not None and scope_for(actor, "requests.supervise").covers(task.path)


def owner_or_supervisor(actor, task) -> bool:
    return owner(actor, task) or supervisor(actor, task)


workflow = Workflow(
    model=ProactiveTask,
    states=TaskState,
    transitions=[
        Transition("start", {S.OPEN}, S.IN_PROGRESS, owner_or_supervisor, _("start"), "owner or supervisor"),
        Transition(
            "finish", {S.IN_PROGRESS}, S.DONE, owner_or_supervisor, _("mark done"), "owner or supervisor"
        ),
        Transition(
            "cancel",
            {S.OPEN, S.IN_PROGRESS},
            S.CANCELLED,
            supervisor,
            _("cancel"),
            "supervisor, with a reason",
        ),
    ],
)
