"""Every write of the hotspots app: detection runs, 立项 and the task workflow, 每月一题, exports.

Each service takes an explicit actor (None = the system: the scheduled job), checks permission,
runs in one transaction and records an audit event (linjialin.core.audit.record) as its last write.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import audit
from linjialin.core.scope import scope_for
from linjialin.places.models import Level, Place
from linjialin.service_requests.board_views import anonymise
from linjialin.service_requests.models import Category, PageRules, ServiceRequest

from . import detection, selectors
from .models import (
    DetectionRun,
    Hotspot,
    MonthlyTheme,
    ProactiveTask,
    TaskState,
    ThemePolicy,
    ThemeProblem,
)
from .workflow import workflow


# --- detection --------------------------------------------------------------------------------------------
def run_detection(now: datetime | None = None) -> DetectionRun:
    """The scheduled job: detect over the requests, replace the stored hotspots, refresh the
    before/after counts of done tasks still inside their 'after' window. Safe to run twice."""
    started = time.perf_counter()
    now = now or timezone.now()
    r = selectors.rules()
    s = selectors.settings_from(r)
    spans = detection.windows(now, s)
    rows = list(selectors.request_rows(spans[0][0], now))
    found = detection.detect(rows, now, s)
    honorifics = (PageRules.objects.first() or PageRules()).board_honorifics.splitlines()
    categories = set(Category.objects.filter(pk__in={f.category for f in found}).values_list("pk", flat=True))
    with transaction.atomic():
        run = DetectionRun.objects.create(
            started_at=now,
            window_start=spans[-1][0],
            window_end=now,
            window_days=s.window_days,
            requests_read=len(rows),
        )
        items = [
            Hotspot(
                run=run,
                level=f.place.level,
                place_key=f.place.key,
                place_label=f.place.label,
                path=f.place.path,
                category_id=f.category if f.category in categories else None,
                label=_anon(f.label, f.sample_rows[:1], honorifics),
                count=f.count,
                previous_count=f.previous_count,
                households=f.households,
                spread=f.spread,
                score=f.score,
                rank=f.rank,
                request_ids=f.request_ids,
                samples=[
                    _anon(t, [row], honorifics) for t, row in zip(f.samples, f.sample_rows, strict=True)
                ],
                trend=[[end.date().isoformat(), n] for end, n in f.trend],
            )
            for f in found
        ]
        Hotspot.objects.bulk_create(items, batch_size=1000)
        Hotspot.objects.exclude(run=run).delete()
        DetectionRun.objects.exclude(pk=run.pk).filter(started_at__lt=now - timedelta(days=400)).delete()
        run.hotspots = len(items)
        run.finished_at = timezone.now()
        run.seconds = round(time.perf_counter() - started, 3)
        run.save(update_fields=["hotspots", "finished_at", "seconds"])
        audit.record(
            "hotspots.detected",
            obj=run,
            after={"requests": len(rows), "hotspots": len(items), "seconds": run.seconds},
        )
    for task in ProactiveTask.objects.filter(
        state=TaskState.DONE, done_at__gt=now - timedelta(days=s.window_days)
    ):
        refresh_counts(task, now=now)
    return run


def _anon(text: str, rows, honorifics) -> str:
    names = {row.extra.get("name", "") for row in rows}
    return anonymise(text, names=names, honorifics=honorifics)


# --- 立项 and the task workflow ------------------------------------------------------------------------
def may_create_task(user, path: str) -> bool:
    """Supervisors (requests.supervise) and handlers (requests.handle) over the place may 立项."""
    return scope_for(user, "requests.supervise").covers(path) or scope_for(user, "requests.handle").covers(
        path
    )


def create_task(
    actor, hotspot: Hotspot, *, title: str, owner, deadline: date, note: str = ""
) -> ProactiveTask:
    """立项: a proactive task from a hotspot, linked to its requests, owned by a handler over the place."""
    if not may_create_task(actor, hotspot.path):
        raise PermissionDenied(_("You may not start a task here."))
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Please give the task a title.")
    if owner is None or not scope_for(owner, "requests.handle").covers(hotspot.path) or not owner.is_active:
        errors["owner"] = _("The owner must be someone who handles requests at this place.")
    today = timezone.localdate()
    if deadline is None or deadline < today:
        errors["deadline"] = _("The deadline must be today or later.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = ProactiveTask.objects.create(
            title=title[:200],
            note=note or "",
            level=hotspot.level,
            place_key=hotspot.place_key,
            place_label=hotspot.place_label,
            path=hotspot.path,
            category_id=hotspot.category_id,
            owner=owner,
            deadline=deadline,
            created_by=actor,
            created_at=timezone.now(),
        )
        ids = list(ServiceRequest.objects.filter(pk__in=hotspot.request_ids).values_list("pk", flat=True))
        task.requests.add(*ids)
        audit.record(
            "hotspots.task.created",
            actor=actor,
            obj=task,
            path=task.path,
            after={
                "hotspot": hotspot.pk,
                "owner": owner.pk,
                "deadline": deadline.isoformat(),
                "requests": ids,
                "place": hotspot.place_label,
            },
        )
    return task


def move_task(
    actor, task: ProactiveTask, transition: str, *, result: str = "", reason: str = ""
) -> ProactiveTask:
    """start / finish / cancel (workflow.py). Finishing needs a result, cancelling a reason."""
    if transition not in ("start", "finish", "cancel"):
        raise ValidationError(_("Unknown action."))
    workflow.check(task, transition, actor)  # not allowed comes before bad input
    if transition == "finish" and not (result or "").strip():
        raise ValidationError({"result": _("Please say what was done.")})
    if transition == "cancel" and not (reason or "").strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    now = timezone.now()
    changes = {
        "start": {"started_at": now},
        "finish": {"done_at": now, "result": (result or "").strip()},
        "cancel": {"cancelled_at": now},
    }[transition]
    with transaction.atomic():
        before = task.state
        workflow.apply(task, transition, actor, **changes)
        audit.record(
            f"hotspots.task.{transition}",
            actor=actor,
            obj=task,
            path=task.path,
            before={"state": before},
            after={"state": task.state, **({"result": task.result} if transition == "finish" else {})},
            reason=reason,
        )
    if transition == "finish":
        refresh_counts(task, now=now)
    return task


def problem_count(task: ProactiveTask, start: datetime, end: datetime) -> int:
    """Requests on the task's problem in [start, end): same category × place, text similar to one of
    its linked requests (the detection's similarity threshold)."""
    if end <= start:
        return 0
    s = selectors.settings_from(selectors.rules())
    community = ".".join(task.path.split(".")[:2]) + "."
    texts = [
        row.text
        for row in selectors.request_rows(start, end, under_path=community)
        if row.category == task.category_id and any(p.key == task.place_key for p in row.places)
    ]
    anchors = list(task.requests.values_list("description", flat=True))
    return detection.similar_count(anchors, texts, s.similarity)


def refresh_counts(task: ProactiveTask, *, now: datetime | None = None) -> ProactiveTask:
    """Before (one window before 立项) and after (from done, one window or until now) counts."""
    now = now or timezone.now()
    width = timedelta(days=selectors.rules().window_days)
    before = problem_count(task, task.created_at - width, task.created_at)
    after = None
    if task.state == TaskState.DONE and task.done_at:
        after = problem_count(task, task.done_at, min(task.done_at + width, now))
    ProactiveTask.objects.filter(pk=task.pk).update(before_count=before, after_count=after, counted_at=now)
    task.before_count, task.after_count, task.counted_at = before, after, now
    return task


# --- 每月一题 -----------------------------------------------------------------------------------------------
def may_keep_themes(user, place: Place) -> bool:
    return place.level in (Level.SUBDISTRICT, Level.COMMUNITY) and scope_for(
        user, "requests.supervise"
    ).covers(place.path)


def _check_theme(actor, theme: MonthlyTheme) -> None:
    if not may_keep_themes(actor, theme.place):
        raise PermissionDenied(_("You may not edit this theme."))


def save_theme(
    actor, theme: MonthlyTheme | None, *, place: Place, month: date, title: str, description: str = ""
):
    """Create (theme None) or edit a monthly theme."""
    if not may_keep_themes(actor, place):
        raise PermissionDenied(_("You may not keep themes for this place."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Please give the theme a title.")})
    if month is None:
        raise ValidationError({"month": _("Please choose the month.")})
    month = month.replace(day=1)
    with transaction.atomic():
        before = None
        if theme is None:
            theme = MonthlyTheme(created_by=actor, created_at=timezone.now())
        else:
            _check_theme(actor, theme)
            before = {"title": theme.title, "month": theme.month.isoformat(), "place": theme.place_id}
        theme.place, theme.path, theme.month = place, place.path, month
        theme.title, theme.description = title[:200], description or ""
        theme.save()
        audit.record(
            "hotspots.theme.saved",
            actor=actor,
            obj=theme,
            path=theme.path,
            before=before,
            after={"title": theme.title, "month": month.isoformat(), "place": place.pk},
        )
    return theme


def add_problem(
    actor, theme: MonthlyTheme, *, title: str = "", text: str = "", hotspot: Hotspot | None = None
):
    """A problem of the theme: entered, or picked from a hotspot (its label, place, category, count)."""
    _check_theme(actor, theme)
    maximum = selectors.rules().max_problems
    if theme.problems.count() >= maximum:
        raise ValidationError(_("A theme has at most %(n)d problems; remove one first.") % {"n": maximum})
    title = (title or "").strip() or (hotspot.label if hotspot else "")
    if not title:
        raise ValidationError({"title": _("Please name the problem.")})
    with transaction.atomic():
        problem = ThemeProblem.objects.create(
            theme=theme,
            title=title[:200],
            text=text or ("\n".join(hotspot.samples) if hotspot else ""),
            category_id=hotspot.category_id if hotspot else None,
            place_label=hotspot.place_label if hotspot else "",
            hotspot_count=hotspot.count if hotspot else None,
        )
        if hotspot:
            tasks = ProactiveTask.objects.filter(requests__pk__in=hotspot.request_ids).exclude(
                state=TaskState.CANCELLED
            )
            problem.tasks.add(*set(tasks.values_list("pk", flat=True)))
        audit.record(
            "hotspots.theme.problem_added",
            actor=actor,
            obj=theme,
            path=theme.path,
            after={"problem": problem.pk, "title": problem.title, "hotspot": hotspot.pk if hotspot else None},
        )
    return problem


def remove_problem(actor, problem: ThemeProblem) -> None:
    theme = problem.theme
    _check_theme(actor, theme)
    with transaction.atomic():
        title = problem.title
        problem.delete()
        audit.record(
            "hotspots.theme.problem_removed", actor=actor, obj=theme, path=theme.path, before={"title": title}
        )


def attach_task(actor, problem: ThemeProblem, task: ProactiveTask) -> None:
    theme = problem.theme
    _check_theme(actor, theme)
    if not task.path.startswith(theme.path):
        raise ValidationError(_("The task is not under the theme's place."))
    with transaction.atomic():
        problem.tasks.add(task)
        audit.record(
            "hotspots.theme.task_attached",
            actor=actor,
            obj=theme,
            path=theme.path,
            after={"problem": problem.pk, "task": task.pk},
        )


def add_policy(actor, theme: MonthlyTheme, *, title: str, text: str = "", link: str = "") -> ThemePolicy:
    _check_theme(actor, theme)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Please give the policy a title.")})
    link = (link or "").strip()
    if link and not link.startswith(("http://", "https://")):
        raise ValidationError({"link": _("The link must start with http:// or https://.")})
    with transaction.atomic():
        policy = ThemePolicy.objects.create(theme=theme, title=title[:200], text=text or "", link=link)
        audit.record(
            "hotspots.theme.policy_added", actor=actor, obj=theme, path=theme.path, after={"policy": title}
        )
    return policy


def record_export(actor, *, month: date, place: Place, fmt: str, themes: int) -> None:
    """The monthly report was exported (xlsx or pdf)."""
    with transaction.atomic():
        audit.record(
            "hotspots.report_exported",
            actor=actor,
            obj=place,
            path=place.path,
            after={"month": month.strftime("%Y-%m"), "format": fmt, "themes": themes},
        )
