"""Screening (前端预防) and legal consultations: the writes, and the reads the screening pages need.

Who: `mediation.work` or `mediation.manage` over the place (a community mediator plans and records
screenings for their community or its grids; a lawyer at the subdistrict logs consultations anywhere
under it). Reads follow the same scope: a session, finding or consultation outside it answers 404.

Screening session: planned ──hold──▶ held, planned ──cancel──▶ cancelled (compare-and-set, below).
Findings are added to a held session only; each ends as exactly one of: a case (finding_to_case →
cases.register_case with source=screening), a prevention task (finding_to_task → cases.create_task) or
closed with a note. Handling is a compare-and-set on outcome="open": when two people handle the same
finding at once, one wins and the other gets Conflict; nothing of the loser is written.

Consultations: an anonymous one keeps no name and no resident; a resident named must live under the
place; the lawyer defaults to the actor when they hold the lawyer role.

Every write: permission first, then the input (ValidationError naming the field, nothing written),
then one transaction ending with the audit event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.accounts.roles import Role
from linjialin.accounts.selectors import home_roles, users_holding
from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.scope import Scope, scope_for, under
from linjialin.places.models import Level, Place, Resident

from ..models import (
    Consultation,
    DisputeType,
    FindingOutcome,
    PreventionTask,
    RiskLevel,
    ScreeningFinding,
    ScreeningSession,
    ScreeningState,
    TaskState,
)
from ..workflow import screening_workflow as session_workflow

WORK, MANAGE = "mediation.work", "mediation.manage"

AUDIT_LABELS = {
    "mediation.screening.planned": gettext_lazy("Screening session planned"),
    "mediation.screening.held": gettext_lazy("Screening session recorded as held"),
    "mediation.screening.cancelled": gettext_lazy("Screening session cancelled"),
    "mediation.finding.added": gettext_lazy("Screening finding added"),
    "mediation.finding.to_case": gettext_lazy("Screening finding made a case"),
    "mediation.finding.to_task": gettext_lazy("Screening finding made a prevention task"),
    "mediation.finding.closed": gettext_lazy("Screening finding closed"),
    "mediation.consultation.logged": gettext_lazy("Legal consultation logged"),
}
# No action here is a view or export of someone's personal data (consultation lists show the asker's
# name to the staff who logged them, no numbers; case files are audited by services.cases).
AUDIT_PERSONAL: tuple[str, ...] = ()


# --- who may -----------------------------------------------------------------------------------------------
def work_scope(user) -> Scope:
    """Where `user` may plan and record screenings and log consultations."""
    return scope_for(user, WORK) | scope_for(user, MANAGE)


def may_work(user, path: str) -> bool:
    return work_scope(user).covers(path)


def is_lawyer(user) -> bool:
    return user is not None and any(g.role == Role.LAWYER for g in home_roles(user))


def _check(actor, path: str, message: str) -> None:
    if not may_work(actor, path):
        raise PermissionDenied(message)


def _now() -> datetime:
    return timezone.now()


def _not_future(value: datetime | None, field: str, errors: dict) -> None:
    if value is None:
        errors[field] = _("Please give the date and time.")
    elif value > _now() + timedelta(minutes=1):  # a minute for clocks and forms without seconds
        errors[field] = _("This cannot be in the future.")


# --- sessions ----------------------------------------------------------------------------------------------
def plan_screening(actor, *, place: Place, planned_for: datetime, location: str = "") -> ScreeningSession:
    """Plan a screening session (矛盾纠纷排查) for a community or a grid."""
    if place is None:
        raise ValidationError({"place": _("Please choose the community or grid.")})
    _check(actor, place.path, _("You may not plan screenings here."))
    errors = {}
    if place.level not in (Level.COMMUNITY, Level.GRID):
        errors["place"] = _("A screening session is for a community or a grid.")
    if planned_for is None:
        errors["planned_for"] = _("Please give the date and time.")
    location = (location or "").strip()
    if len(location) > 200:
        errors["location"] = _("At most 200 characters.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        session = ScreeningSession.objects.create(
            place=place, path=place.path, planned_for=planned_for, location=location, organiser=actor
        )
        audit.record(
            "mediation.screening.planned",
            actor=actor,
            obj=session,
            after={"place": place.pk, "planned_for": planned_for.isoformat(), "location": location},
        )
    return session


def record_screening(
    actor,
    session: ScreeningSession,
    *,
    held_at: datetime,
    participants: str,
    summary: str,
    staff=(),
) -> ScreeningSession:
    """Record a planned session as held: when (not in the future), who took part, what was found."""
    _check(actor, session.path, _("You may not record screenings here."))
    session_workflow.check(session, "hold", actor)  # not allowed comes before bad input
    errors: dict = {}
    _not_future(held_at, "held_at", errors)
    participants, summary = (participants or "").strip(), (summary or "").strip()
    if not participants:
        errors["participants"] = _("Please list who took part.")
    if not summary:
        errors["summary"] = _("Please summarise the session.")
    staff = [u for u in staff if u is not None]
    if any(not u.is_active or not may_work(u, session.path) for u in staff):
        errors["staff"] = _("Staff must be centre staff working at this place.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        session_workflow.apply(
            session, "hold", actor, held_at=held_at, participants=participants, summary=summary
        )
        if staff:
            session.staff.add(*staff)
        audit.record(
            "mediation.screening.held",
            actor=actor,
            obj=session,
            before={"state": ScreeningState.PLANNED},
            after={
                "state": ScreeningState.HELD,
                "held_at": held_at.isoformat(),
                "staff": sorted(u.pk for u in staff),
            },
        )
    return session


def cancel_screening(actor, session: ScreeningSession, *, reason: str) -> ScreeningSession:
    _check(actor, session.path, _("You may not cancel screenings here."))
    session_workflow.check(session, "cancel", actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please give a reason.")})
    with transaction.atomic():
        session_workflow.apply(session, "cancel", actor, summary=reason)
        audit.record(
            "mediation.screening.cancelled",
            actor=actor,
            obj=session,
            before={"state": ScreeningState.PLANNED},
            after={"state": ScreeningState.CANCELLED},
            reason=reason,
        )
    return session


# --- findings ----------------------------------------------------------------------------------------------
def add_finding(
    actor,
    session: ScreeningSession,
    *,
    place: Place,
    dispute_type: str,
    level: str,
    description: str,
    parties: str = "",
) -> ScreeningFinding:
    """A risk found in a held session: its type, level, place (the session's place or below) and the
    parties if known."""
    _check(actor, session.path, _("You may not add findings here."))
    if session.state != ScreeningState.HELD:
        raise ValidationError(_("Findings are added to a session once it has been held."))
    errors = {}
    if place is None or not place.path.startswith(session.path):
        errors["place"] = _("Choose a place in the session's community or grid.")
    if dispute_type not in DisputeType.values:
        errors["dispute_type"] = _("Choose the type of dispute.")
    if level not in RiskLevel.values:
        errors["level"] = _("Choose the risk level.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Please describe the risk.")
    elif len(description) > 2000:
        errors["description"] = _("At most 2000 characters.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        finding = ScreeningFinding.objects.create(
            session=session,
            place=place,
            path=place.path,
            dispute_type=dispute_type,
            level=level,
            description=description,
            parties=(parties or "").strip(),
        )
        audit.record(
            "mediation.finding.added",
            actor=actor,
            obj=finding,
            after={"session": session.pk, "type": dispute_type, "level": level, "place": place.pk},
        )
    return finding


def _handle(actor, finding: ScreeningFinding, outcome: str, note: str = "") -> None:
    """Claim an open finding (compare-and-set on outcome="open"); Conflict if it was handled already."""
    if finding.outcome != FindingOutcome.OPEN:
        raise Conflict(_already(finding.outcome))
    now = _now()
    changes = {"outcome": outcome, "outcome_note": note, "handled_by": actor, "handled_at": now}
    updated = ScreeningFinding.objects.filter(pk=finding.pk, outcome=FindingOutcome.OPEN).update(**changes)
    if updated != 1:
        current = ScreeningFinding.objects.filter(pk=finding.pk).values_list("outcome", flat=True).first()
        raise Conflict(_already(current))
    for name, value in changes.items():
        setattr(finding, name, value)


def _already(outcome) -> str:
    label = FindingOutcome(outcome).label if outcome in FindingOutcome.values else "?"
    return _("This finding has already been handled (%(outcome)s). Reload to see it.") % {"outcome": label}


def _check_finding(actor, finding: ScreeningFinding) -> None:
    _check(actor, finding.path, _("You may not handle this finding."))
    if finding.outcome != FindingOutcome.OPEN:
        raise Conflict(_already(finding.outcome))


def finding_to_case(actor, finding: ScreeningFinding, *, title: str, facts: str, parties: list, **extra):
    """The finding becomes a case (source: screening). `extra` goes to cases.register_case
    (dispute_type and place default to the finding's; a high-risk finding sets the risk flag)."""
    from . import cases

    _check_finding(actor, finding)
    extra.setdefault("dispute_type", finding.dispute_type)
    extra.setdefault("place", finding.place)
    if finding.level == RiskLevel.HIGH:
        extra.setdefault("risk_flag", True)
    with transaction.atomic():
        _handle(actor, finding, FindingOutcome.CASE)
        case = cases.register_case(
            actor,
            source="screening",
            title=title,
            facts=facts,
            parties=parties,
            finding=finding,
            **extra,
        )
        audit.record(
            "mediation.finding.to_case",
            actor=actor,
            obj=finding,
            before={"outcome": FindingOutcome.OPEN},
            after={"outcome": FindingOutcome.CASE, "case": case.pk, "number": case.number},
        )
    return case


def finding_to_task(actor, finding: ScreeningFinding, *, kind: str, title: str, due_on: date, owner=None):
    """The finding becomes a prevention task at its place (cases.create_task)."""
    from . import cases

    _check_finding(actor, finding)
    with transaction.atomic():
        _handle(actor, finding, FindingOutcome.TASK)
        task = cases.create_task(
            actor, kind=kind, title=title, place=finding.place, due_on=due_on, owner=owner, finding=finding
        )
        audit.record(
            "mediation.finding.to_task",
            actor=actor,
            obj=finding,
            before={"outcome": FindingOutcome.OPEN},
            after={"outcome": FindingOutcome.TASK, "task": task.pk},
        )
    return task


def close_finding(actor, finding: ScreeningFinding, *, note: str) -> ScreeningFinding:
    """Closed with a note (no case, no task needed): the note says why."""
    _check_finding(actor, finding)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please say why the finding is closed.")})
    with transaction.atomic():
        _handle(actor, finding, FindingOutcome.CLOSED, note)
        audit.record(
            "mediation.finding.closed",
            actor=actor,
            obj=finding,
            before={"outcome": FindingOutcome.OPEN},
            after={"outcome": FindingOutcome.CLOSED},
            reason=note,
        )
    return finding


# --- legal consultations -----------------------------------------------------------------------------------
def log_consultation(
    actor,
    *,
    place: Place,
    asked_at: datetime,
    topic: str,
    anonymous: bool = False,
    resident: Resident | None = None,
    asker_name: str = "",
    question: str = "",
    lawyer=None,
    answer: str = "",
    referral: str = "",
) -> Consultation:
    """Log a legal consultation (法律咨询). Anonymous: no name, no resident kept."""
    if place is None:
        raise ValidationError({"place": _("Please choose the community.")})
    _check(actor, place.path, _("You may not log consultations here."))
    errors: dict = {}
    if place.level < Level.COMMUNITY:
        errors["place"] = _("Choose a community (or a place in it).")
    _not_future(asked_at, "asked_at", errors)
    if topic not in DisputeType.values:
        errors["topic"] = _("Choose the topic.")
    asker_name = (asker_name or "").strip()
    if anonymous:
        resident, asker_name = None, ""
    else:
        if resident is not None and not resident.path.startswith(place.path):
            errors["resident"] = _("This resident does not live at the chosen place.")
        if resident is None and not asker_name:
            errors["asker_name"] = _("Give the name of who asked, or tick anonymous.")
    if len(asker_name) > 50:
        errors["asker_name"] = _("At most 50 characters.")
    if lawyer is None and is_lawyer(actor):
        lawyer = actor
    if lawyer is not None and (not lawyer.is_active or not may_work(lawyer, place.path)):
        errors["lawyer"] = _("The lawyer must be centre staff working at this place.")
    question, answer, referral = (question or "").strip(), (answer or "").strip(), (referral or "").strip()
    for field, value, limit in (
        ("question", question, 2000),
        ("answer", answer, 4000),
        ("referral", referral, 200),
    ):
        if len(value) > limit:
            errors[field] = _("At most %(n)d characters.") % {"n": limit}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consultation = Consultation.objects.create(
            place=place,
            path=place.path,
            asked_at=asked_at,
            anonymous=bool(anonymous),
            resident=resident,
            asker_name=asker_name,
            topic=topic,
            question=question,
            lawyer=lawyer,
            answer=answer,
            referral=referral,
            recorded_by=actor,
        )
        audit.record(
            "mediation.consultation.logged",
            actor=actor,
            obj=consultation,
            after={
                "place": place.pk,
                "topic": topic,
                "anonymous": bool(anonymous),
                "lawyer": lawyer.pk if lawyer else None,
                "referred": bool(referral),
            },
        )
    return consultation


# --- reads for the screening pages (scope: mediation.work ∪ mediation.manage) ------------------------------
def _visible(qs, user):
    scope = work_scope(user)
    return qs.none() if scope.is_empty else qs.filter(scope.q("path"))


def places_for(user, levels=(Level.COMMUNITY, Level.GRID)) -> list[Place]:
    """The places of the given levels `user` may work at, in tree order (for the forms' choices)."""
    scope = work_scope(user)
    if scope.is_empty:
        return []
    return list(Place.objects.filter(scope.q("path"), level__in=levels).order_by("path"))


def finding_places(session: ScreeningSession) -> list[Place]:
    """Where a finding of this session may be: the session's place and below, down to entrances
    (a household is named in the description, not picked from a list of thousands)."""
    return list(Place.objects.filter(under(session.path), level__lte=Level.ENTRANCE).order_by("path"))


def list_sessions_for_user(user):
    """Sessions in scope with counts of their findings by outcome (annotated `n_<outcome>`)."""
    counts = {
        f"n_{o}": Count("findings", filter=Q(findings__outcome=o), distinct=True)
        for o in FindingOutcome.values
    }
    return (
        _visible(ScreeningSession.objects.all(), user)
        .select_related("place", "organiser")
        .annotate(n_findings=Count("findings", distinct=True), **counts)
    )


def get_session_for_user(user, session_id) -> ScreeningSession:
    session = (
        _visible(ScreeningSession.objects.all(), user)
        .select_related("place", "organiser")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise Http404
    return session


def session_findings(session: ScreeningSession):
    """The findings of a session with what became of them (case, task)."""
    return session.findings.select_related("place", "handled_by").prefetch_related("cases", "tasks")


def get_finding(session: ScreeningSession, finding_id) -> ScreeningFinding:
    finding = session.findings.select_related("place").filter(pk=finding_id).first()
    if finding is None:
        raise Http404
    return finding


def list_consultations_for_user(user, *, month: date | None = None, topic: str = ""):
    qs = _visible(Consultation.objects.all(), user).select_related("place", "lawyer")
    if month is not None:
        start = timezone.make_aware(datetime(month.year, month.month, 1))
        end = timezone.make_aware(datetime(month.year + (month.month == 12), month.month % 12 + 1, 1))
        qs = qs.filter(asked_at__gte=start, asked_at__lt=end)
    if topic:
        qs = qs.filter(topic=topic)
    return qs


def consultation_counts(qs) -> dict:
    """Total, anonymous, referred and by topic (label → n) of a consultation queryset."""
    row = qs.aggregate(
        total=Count("pk"),
        anonymous=Count("pk", filter=Q(anonymous=True)),
        referred=Count("pk", filter=~Q(referral="")),
    )
    by_topic = dict(qs.order_by().values_list("topic").annotate(n=Count("pk")))
    row["by_topic"] = [(label, by_topic[value]) for value, label in DisputeType.choices if value in by_topic]
    return row


def _tasks_visible(user):
    """Prevention tasks in the user's work scope (mediation.work ∪ mediation.manage), plus those the
    case selectors show them (owned by them, on their cases)."""
    from .. import selectors

    condition = Q(pk__in=selectors.visible_tasks(user).values("pk"))
    scope = work_scope(user)
    if not scope.is_empty:
        condition |= scope.q("path")
    return PreventionTask.objects.filter(condition)


def list_tasks_for_user(user):
    """Open prevention tasks the user may see, soonest due first."""
    return (
        _tasks_visible(user)
        .filter(state=TaskState.OPEN)
        .select_related("place", "owner", "case", "finding")
        .order_by("due_on", "id")
    )


def get_task_for_user(user, task_id) -> PreventionTask:
    task = _tasks_visible(user).filter(pk=task_id).select_related("place").first()
    if task is None:
        raise Http404
    return task


def staff_for(path: str):
    """Who may be named as staff of a session or owner of a task at `path`: centre staff over it."""
    return users_holding(WORK, path)


def lawyers_for(path: str):
    """Active users with a current lawyer grant over `path` (the consultation form's lawyer choices)."""
    return users_holding(WORK, path, roles={Role.LAWYER})


def lawyers_in_scope(user):
    """Lawyers (current lawyer grant) working somewhere in `user`'s work scope: above or below it."""
    from linjialin.accounts.models import RoleGrant, User

    scope = work_scope(user)
    if scope.is_empty:
        return User.objects.none()
    grants = RoleGrant.objects.current().filter(role=Role.LAWYER).values_list("user_id", "path")
    ids = {
        uid
        for uid, path in grants
        if scope.covers(path) or any(p.startswith(path) for p in scope.prefixes) or scope.everywhere
    }
    return User.objects.filter(pk__in=ids, is_active=True).order_by("display_name", "pk")
