"""Emergency mode (应急): a community — or one compound of it — switched into emergency mode by its staff.

Who: `mutual_aid.emergency` over the community (community workers and the secretary) starts and ends an
episode, forms the temporary team (临时党支部 / volunteer squad) and sets tasks. The team is drawn from
the community's people: users holding the volunteer role or any role in that community (residents who
are party members, 楼门长, staff …); a volunteer joins by themselves. Members claim tasks and finish
them. One active episode per community (the database enforces it too). Ending archives the episode: the
banner goes, tasks and team stay readable, nothing more can be claimed.

Tasks: one per entrance of the area (the community, or the compound), plus for a door-to-door check one
per care-list household (care_selectors) so that the coverage board can show them reached. A task moves
open ──claim──▶ claimed ──finish──▶ done (claimed ──release──▶ open) with compare-and-set: when two
members claim the same task at once one wins and the other gets Conflict.

Every write: permission first, then the input (ValidationError naming the field, nothing written), then
one transaction ending with the audit event.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, TransitionNotAllowed, Workflow
from linjialin.notifications.services import notify, subject_of
from linjialin.places.models import Compound, Level, Place

from .. import care_selectors
from .. import emergency_selectors as selectors
from ..models import (
    EmergencyTask,
    Episode,
    EpisodeKind,
    EpisodeMember,
    EpisodeState,
    TaskKind,
    TaskState,
    TeamRole,
)

EMERGENCY = "mutual_aid.emergency"

AUDIT_LABELS = {
    "mutual_aid.episode.started": gettext_lazy("Emergency mode switched on"),
    "mutual_aid.episode.ended": gettext_lazy("Emergency mode switched off (archived)"),
    "mutual_aid.episode.member_added": gettext_lazy("Emergency team member added"),
    "mutual_aid.episode.joined": gettext_lazy("Volunteer joined the emergency team"),
    "mutual_aid.episode.tasks_created": gettext_lazy("Emergency tasks created"),
    "mutual_aid.task.claimed": gettext_lazy("Emergency task claimed"),
    "mutual_aid.task.released": gettext_lazy("Emergency task given back"),
    "mutual_aid.task.finished": gettext_lazy("Emergency task done"),
}
AUDIT_PERSONAL: tuple[str, ...] = ()  # counts and door numbers; no sensitive tag is shown to the team


# --- who may -----------------------------------------------------------------------------------------------
def may_run(user, episode_or_path) -> bool:
    path = episode_or_path if isinstance(episode_or_path, str) else episode_or_path.path
    return scope_for(user, EMERGENCY).covers(path)


def _member(actor, task: EmergencyTask) -> bool:
    return selectors.is_member(actor, task.episode_id)


def _claimer_or_runner(actor, task: EmergencyTask) -> bool:
    if actor is None:
        return False
    return task.claimed_by_id == actor.pk or may_run(actor, task.episode.path)


task_workflow = Workflow(
    model=EmergencyTask,
    states=TaskState,
    transitions=[
        Transition("claim", {TaskState.OPEN}, TaskState.CLAIMED, _member, _("claim"), "a member of the team"),
        Transition(
            "release",
            {TaskState.CLAIMED},
            TaskState.OPEN,
            _claimer_or_runner,
            _("give back"),
            "the member who claimed it, or the staff running the episode",
        ),
        Transition(
            "finish",
            {TaskState.CLAIMED},
            TaskState.DONE,
            _claimer_or_runner,
            _("mark as done"),
            "the member who claimed it, or the staff running the episode",
        ),
    ],
)


def _check_run(actor, path: str, message=None) -> None:
    if not may_run(actor, path):
        raise PermissionDenied(message or _("You may not run emergency mode here."))


def _check_active(episode: Episode) -> None:
    if episode.state != EpisodeState.ACTIVE:
        raise TransitionNotAllowed(_("This emergency has ended; it is archived."))


def _link(episode: Episode) -> str:
    """Without a language prefix: each recipient reads it in their own language."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("mutual_aid:episode", args=[episode.pk])


# --- episodes ----------------------------------------------------------------------------------------------
def start_episode(
    actor, *, community: Place, compound: Compound | None = None, kind: str, title: str, banner: str
) -> Episode:
    """Switch a community (or one compound of it) into emergency mode. The starter leads the team; the
    community's volunteers are told."""
    if community is None or community.level != Level.COMMUNITY:
        raise ValidationError({"community": _("Please choose a community.")})
    _check_run(actor, community.path)
    title, banner = (title or "").strip(), (banner or "").strip()
    errors = {}
    if compound is not None and compound.community_id != community.pk:
        errors["compound"] = _("This compound is not in the community.")
    if kind not in EpisodeKind.values:
        errors["kind"] = _("Please choose the kind of emergency.")
    if not title:
        errors["title"] = _("Please give a title.")
    elif len(title) > 100:
        errors["title"] = _("At most 100 characters.")
    if not banner:
        errors["banner"] = _("Please write the banner residents will see.")
    elif len(banner) > 300:
        errors["banner"] = _("At most 300 characters.")
    active = selectors.active_episode(community)
    if active is not None:
        errors["community"] = _(
            "This community is already in emergency mode (“%(title)s”): end it first."
        ) % {"title": active.title}
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            episode = Episode.objects.create(
                community=community,
                compound=compound,
                path=community.path,
                kind=kind,
                title=title,
                banner=banner,
                started_at=now,
                started_by=actor,
            )
            EpisodeMember.objects.create(episode=episode, user=actor, role=TeamRole.LEADER, joined_at=now)
            volunteers = [u for u in selectors.volunteers_of(community) if u.pk != actor.pk]
            notify(
                volunteers,
                kind="mutual_aid.episode.started",
                title=gettext_lazy("Emergency mode: %(title)s — volunteers, please join the team"),
                params={"title": title},
                link=_link(episode),
                subject=subject_of(episode),
                path=community.path,
                dedupe_key=f"mutual_aid.episode.started:{episode.pk}",
                actor=actor,
            )
            audit.record(
                "mutual_aid.episode.started",
                actor=actor,
                obj=episode,
                after={
                    "community": community.pk,
                    "compound": compound.pk if compound else None,
                    "kind": kind,
                    "title": title,
                    "banner": banner,
                },
            )
    except IntegrityError:
        raise Conflict(_("Someone else switched this community into emergency mode just now.")) from None
    return episode


def end_episode(actor, episode: Episode, *, summary: str) -> Episode:
    """Switch emergency mode off: the episode is archived (the banner goes; tasks stay readable)."""
    _check_run(actor, episode.path)
    _check_active(episode)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": _("Please sum up the emergency before ending it.")})
    now = timezone.now()
    with transaction.atomic():
        updated = Episode.objects.filter(pk=episode.pk, state=EpisodeState.ACTIVE).update(
            state=EpisodeState.ARCHIVED, ended_at=now, ended_by=actor, summary=summary
        )
        if updated != 1:
            raise Conflict(_("Someone else ended this emergency first. Reload to see it."))
        episode.state, episode.ended_at, episode.ended_by, episode.summary = (
            EpisodeState.ARCHIVED,
            now,
            actor,
            summary,
        )
        counts = selectors.task_counts(episode)
        audit.record(
            "mutual_aid.episode.ended",
            actor=actor,
            obj=episode,
            before={"state": EpisodeState.ACTIVE},
            after={"state": EpisodeState.ARCHIVED, "tasks": counts},
            reason=summary,
        )
    return episode


# --- the team ----------------------------------------------------------------------------------------------
def add_member(actor, episode: Episode, *, user, role: str = TeamRole.VOLUNTEER) -> EpisodeMember:
    """Add a volunteer or party member of the community to the team (staff running the episode)."""
    _check_run(actor, episode.path)
    _check_active(episode)
    errors = {}
    if role not in TeamRole.values:
        errors["role"] = _("Please choose a role in the team.")
    if user is None or not selectors.eligible(user, episode):
        errors["user"] = _("Only volunteers and people of this community can join its team.")
    elif selectors.is_member(user, episode.pk):
        errors["user"] = _("%(name)s is on the team already.") % {"name": user.display_name}
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            member = EpisodeMember.objects.create(
                episode=episode, user=user, role=role, joined_at=timezone.now()
            )
            notify(
                [user],
                kind="mutual_aid.episode.member_added",
                title=gettext_lazy("You are on the emergency team: %(title)s"),
                params={"title": episode.title},
                link=_link(episode),
                subject=subject_of(episode),
                path=episode.path,
                dedupe_key=f"mutual_aid.episode.member:{episode.pk}",
                actor=actor,
            )
            audit.record(
                "mutual_aid.episode.member_added",
                actor=actor,
                obj=episode,
                after={"user": user.pk, "role": role},
            )
    except IntegrityError:
        raise Conflict(_("%(name)s was just added by someone else.") % {"name": user.display_name}) from None
    return member


def join(actor, episode: Episode) -> EpisodeMember:
    """A volunteer of the community joins the team themselves. Joining twice changes nothing."""
    if not selectors.is_volunteer(actor, episode):
        raise PermissionDenied(_("Only the community's volunteers can join the team themselves."))
    _check_active(episode)
    existing = EpisodeMember.objects.filter(episode=episode, user=actor).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            member = EpisodeMember.objects.create(
                episode=episode, user=actor, role=TeamRole.VOLUNTEER, joined_at=timezone.now()
            )
            audit.record("mutual_aid.episode.joined", actor=actor, obj=episode, after={"user": actor.pk})
    except IntegrityError:  # the same volunteer tapped twice at once
        return EpisodeMember.objects.get(episode=episode, user=actor)
    return member


# --- tasks -------------------------------------------------------------------------------------------------
def create_tasks(
    actor, episode: Episode, *, kind: str, entrances=None, note: str = ""
) -> list[EmergencyTask]:
    """One task of `kind` per entrance of the area (all, or the `entrances` given), and for a
    door-to-door check one more per care-list household in them. A target that already has an
    unfinished task of the same kind is skipped (set the same tasks twice: nothing doubles)."""
    _check_run(actor, episode.path)
    _check_active(episode)
    note = (note or "").strip()
    errors = {}
    if kind not in TaskKind.values:
        errors["kind"] = _("Please choose the kind of task.")
    if len(note) > 300:
        errors["note"] = _("At most 300 characters.")
    area = {e.pk: e for e in selectors.area_entrances(episode)}
    if entrances is None:
        chosen = list(area.values())
    else:
        chosen = [e for e in entrances if e is not None]
        if not chosen or any(e.pk not in area for e in chosen):
            errors["entrances"] = _("Please choose entrances inside the area in emergency mode.")
    if errors:
        raise ValidationError(errors)
    chosen.sort(key=lambda e: e.path)
    targets: list[tuple[Place, Place | None]] = [(e, None) for e in chosen]
    if kind == TaskKind.DOOR_CHECK:
        by_path = {e.path: e for e in chosen}
        for household in care_selectors.care_households_under(by_path):
            entrance = by_path[household.path[: len(household.path) - 5]]  # a household code is 4 + "."
            targets.append((entrance, household))
    unfinished = set(
        EmergencyTask.objects.filter(episode=episode, kind=kind)
        .exclude(state=TaskState.DONE)
        .values_list("entrance_id", "household_id")
    )
    now = timezone.now()
    rows = [
        EmergencyTask(
            episode=episode,
            entrance=entrance,
            household=household,
            path=(household or entrance).path,
            kind=kind,
            note=note,
            created_at=now,
        )
        for entrance, household in targets
        if (entrance.pk, household.pk if household else None) not in unfinished
    ]
    with transaction.atomic():
        created = EmergencyTask.objects.bulk_create(rows)
        audit.record(
            "mutual_aid.episode.tasks_created",
            actor=actor,
            obj=episode,
            after={
                "kind": kind,
                "entrances": sum(1 for t in created if t.household_id is None),
                "households": sum(1 for t in created if t.household_id is not None),
                "note": note,
            },
        )
    return created


def _move(actor, task: EmergencyTask, name: str, action: str, expected=None, **changes) -> EmergencyTask:
    seen = task.state
    with transaction.atomic():
        task_workflow.apply(task, name, actor, expected=expected, **changes)
        audit.record(
            action,
            actor=actor,
            obj=task,
            before={"state": seen},
            after={"state": task.state, **{k: v for k, v in changes.items() if k == "result"}},
        )
    return task


def _check_task(actor, task: EmergencyTask, name: str) -> None:
    """Not a member/claimer at all → PermissionDenied; archived → TransitionNotAllowed; then the table."""
    allowed = task_workflow[name].may(actor, task)
    if not allowed and task.state in task_workflow[name].sources:
        raise PermissionDenied(_("Only a member of the team can do that."))
    _check_active(task.episode)
    task_workflow.check(task, name, actor)


def claim_task(actor, task: EmergencyTask) -> EmergencyTask:
    """A team member takes the task (compare-and-set: the first of two at once wins, Conflict for the
    other)."""
    if not selectors.is_member(actor, task.episode_id):
        raise PermissionDenied(_("Only a member of the team can claim tasks."))
    _check_task(actor, task, "claim")
    return _move(actor, task, "claim", "mutual_aid.task.claimed", claimed_by=actor, claimed_at=timezone.now())


def release_task(actor, task: EmergencyTask) -> EmergencyTask:
    """Give a claimed task back (the member who claimed it, or the staff running the episode)."""
    _check_task(actor, task, "release")
    return _move(actor, task, "release", "mutual_aid.task.released", claimed_by=None, claimed_at=None)


def finish_task(actor, task: EmergencyTask, *, result: str) -> EmergencyTask:
    """Mark a claimed task done with what was found (`result`)."""
    _check_task(actor, task, "finish")
    result = (result or "").strip()
    if not result:
        raise ValidationError({"result": _("Please say what was done or found.")})
    if len(result) > 500:
        raise ValidationError({"result": _("At most 500 characters.")})
    return _move(
        actor,
        task,
        "finish",
        "mutual_aid.task.finished",
        expected={"claimed_by": task.claimed_by_id},
        result=result,
        done_at=timezone.now(),
    )
