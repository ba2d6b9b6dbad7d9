"""Reads of the mediation centre that depend on who asks (issue 5 §5, confidentiality).

A case is seen by the centre's managers (`mediation.manage` over its place), its active team members
and, for their own case, its parties (CaseParty.user) — nobody else: a community secretary, a grid
worker or a dispatcher sees no case (other apps see counts, through figures.py). Counselling notes are
read by their author only. Pages call `services.cases.record_case_view` on every view of a case file.

`desk_queues(user)` answers the centre desk's queues with a handful of queries: one for the user's
grants, one aggregate over the visible cases, one count each for the follow-ups and the tasks due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linjialin.core.calendar import earliest_nominal_end_open_on, period_end_days
from linjialin.core.scope import scope_for

from .models import (
    Case,
    CaseEvent,
    CaseMember,
    CaseParty,
    CaseState,
    CounsellingNote,
    Court,
    CourtConfirmation,
    CourtState,
    DisputeType,
    FollowUp,
    MediationRules,
    PreventionTask,
    TaskState,
    TeamRole,
)
from .workflow import OPEN_STATES

S = CaseState
TERMINAL = (S.CLOSED, S.WITHDRAWN, S.NOT_ACCEPTED)


def rules() -> MediationRules:
    """The centre's time limits (the one row; the model defaults without one)."""
    return MediationRules.objects.first() or MediationRules()


def followup_intervals(r: MediationRules | None = None) -> list[int]:
    """The follow-up visits' days after the agreement takes effect, e.g. [7, 30, 90]."""
    r = r or rules()
    days = []
    for part in (r.followup_days or "").replace("，", ",").split(","):
        part = part.strip()
        if part.isdigit() and int(part) > 0:
            days.append(int(part))
    return sorted(set(days))


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _member_case_ids(user):
    return CaseMember.objects.filter(user_id=user.pk, ended_at__isnull=True).values("case_id")


def _party_case_ids(user):
    return CaseParty.objects.filter(user_id=user.pk).values("case_id")


def visible_cases(user) -> QuerySet[Case]:
    """Cases under the user's `mediation.manage` scope, cases where they are an active team member,
    and cases where they are a party. Nobody else sees a case."""
    if not _authenticated(user):
        return Case.objects.none()
    scope = scope_for(user, "mediation.manage")
    if scope.everywhere:  # (an empty Q would drop out of the OR below)
        return Case.objects.all()
    condition = Q(pk__in=_member_case_ids(user)) | Q(pk__in=_party_case_ids(user))
    if not scope.is_empty:
        condition |= scope.q("path")
    return Case.objects.filter(condition)


def audit_circle(user, events) -> set[int]:
    """The ids of the audit events about the centre's work that `user` may read in full (core's
    audit_confidential.redact): the case's circle (visible_cases) for an event about a case, the
    centre's managers over the event's place for the rest, and whoever did it."""
    if not _authenticated(user):
        return set()
    scope = scope_for(user, "mediation.manage")
    case_of = {}
    for e in events:
        case = (e.after or {}).get("case") if isinstance(e.after, dict) else None
        if case is None and e.object_type == "mediation.case":
            case = e.object_id
        if isinstance(case, int) or (isinstance(case, str) and case.isdigit()):
            case_of[e.pk] = int(case)
    visible = set(visible_cases(user).filter(pk__in=set(case_of.values())).values_list("pk", flat=True))
    inside = set()
    for e in events:
        if e.actor_id == user.pk or (e.path and scope.covers(e.path)):
            inside.add(e.pk)
        elif e.pk in case_of and case_of[e.pk] in visible:
            inside.add(e.pk)
    return inside


# before/after keys of the centre's audit events that carry no names or content (ids, states, dates,
# codes, counts); anything else is left out of the audit trail (the case timeline has it)
AUDIT_HARMLESS_KEYS = (
    "anonymous applied_on case channel consent consents court days document due_on effective_on "
    "extended finding followups format full_identity held_at how items items_performed kind lawyer "
    "lead length level member members outcome owner parties performance period place planned_for "
    "public referred repeat_of replacement rights_told risk role sealed_on service_request session "
    "side signatures size source staff state task tasks topic type user users written channels"
).split()


def list_cases_for_user(user, *, state: str | None = None, dispute_type: str | None = None):
    """The visible cases, newest first, with their place; filtered by state and type."""
    qs = visible_cases(user).select_related("place")
    if state:
        qs = qs.filter(state=state)
    if dispute_type:
        qs = qs.filter(dispute_type=dispute_type)
    return qs


def get_case_for_user(user, case_id) -> Case:
    """The case, or Http404 when it is missing or the user may not see it."""
    try:
        return visible_cases(user).select_related("place", "registered_by").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_roles(user, case: Case) -> set[str]:
    """What the user is on this case: "manager", "member", "lead", "counsellor", "party" (any of them)."""
    if not _authenticated(user):
        return set()
    roles: set[str] = set()
    if scope_for(user, "mediation.manage").covers(case.path):
        roles.add("manager")
    for role, lead in CaseMember.objects.filter(
        case_id=case.pk, user_id=user.pk, ended_at__isnull=True
    ).values_list("role", "lead"):
        roles.add("member")
        if lead:
            roles.add("lead")
        if role == TeamRole.COUNSELLOR:
            roles.add("counsellor")
    if CaseParty.objects.filter(case_id=case.pk, user_id=user.pk).exists():
        roles.add("party")
    return roles


def is_staff_on_case(roles: set[str]) -> bool:
    """A manager or a team member (sees the whole file); a party alone sees public events only."""
    return bool(roles & {"manager", "member"})


def team(case: Case):
    """The active team, the lead first."""
    return case.team.filter(ended_at__isnull=True).select_related("user")


def lead_of(case: Case):
    member = case.team.filter(ended_at__isnull=True, lead=True).select_related("user").first()
    return member.user if member else None


def timeline(user, case: Case):
    """The case's events: all of them for managers and the team, the public ones for a party."""
    events = case.events.all()
    if not is_staff_on_case(case_roles(user, case)):
        events = events.filter(public=True)
    return events


def counselling_notes(user, case: Case):
    """The counselling notes the user may read on this case: their own, and only those (not the rest of
    the team, not the managers)."""
    if not _authenticated(user):
        return CounsellingNote.objects.none()
    return CounsellingNote.objects.filter(case_id=case.pk, counsellor_id=user.pk)


# --- the one-month limit ---------------------------------------------------------------------------------
def due_status(case: Case, today: date | None = None, r: MediationRules | None = None) -> str:
    """ "overdue" | "due_soon" | "ok" for an open case with a limit (accepted: due_on), else ""."""
    if case.state not in OPEN_STATES or case.due_on is None:
        return ""
    today = today or timezone.localdate()
    r = r or rules()
    if today > case.due_on:
        return "overdue"
    if (case.due_on - today).days <= r.due_soon_days:
        return "due_soon"
    return "ok"


# --- 司法确认 clocks -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clock:
    """One of the court's time limits: the last day, whether the step was made (and when), days left."""

    name: str
    label: str
    by: date
    done_on: date | None
    today: date

    @property
    def done(self) -> bool:
        return self.done_on is not None

    @property
    def days_left(self) -> int:
        return (self.by - self.today).days

    @property
    def overdue(self) -> bool:
        return not self.done and self.today > self.by

    @property
    def late(self) -> bool:
        """The step was made after its last day."""
        return self.done_on is not None and self.done_on > self.by

    def as_dict(self) -> dict:
        return {
            "by": self.by,
            "done_on": self.done_on,
            "days_left": None if self.done else self.days_left,
            "overdue": self.overdue,
        }


def _agreement(case: Case):
    try:
        return case.agreement
    except Case.agreement.RelatedObjectDoesNotExist:
        return None


def _court(case: Case) -> CourtConfirmation | None:
    try:
        return case.court
    except Case.court.RelatedObjectDoesNotExist:
        return None


def court_apply_last_day(case: Case, r: MediationRules | None = None) -> date | None:
    """The last day the parties may apply jointly for 司法确认: court_apply_days after the agreement took
    effect (that day not counted), moved to the next working day when it is a rest day (民事诉讼法 第八十五
    条); None when there is no written agreement."""
    agreement = _agreement(case)
    if agreement is None or not agreement.written:
        return None
    return period_end_days(agreement.effective_on, (r or rules()).court_apply_days)


def court_excluded_types(r: MediationRules | None = None) -> list[str]:
    """The dispute types a court does not confirm (rules.court_excluded_types), e.g. ["marriage_family"]."""
    r = r or rules()
    parts = (r.court_excluded_types or "").replace("，", ",").split(",")
    return [p.strip() for p in parts if p.strip() in DisputeType.values]


def court_exclusion(case: Case, r: MediationRules | None = None) -> str:
    """Why a court will not confirm this case's agreement ("" when it may): the matter is one the court
    does not accept (身份关系、收养、婚姻关系). Mediation itself goes on."""
    if case.dispute_type not in court_excluded_types(r):
        return ""
    return str(
        _(
            "A court does not confirm agreements on marriage, parentage, adoption or other personal status "
            "(%(type)s): no application for court confirmation. The agreement still binds the parties."
        )
        % {"type": DisputeType(case.dispute_type).label}
    )


def court_apply_open(case: Case, today: date | None = None) -> bool:
    """Whether the joint application can still be recorded today (a written agreement on a matter a court
    confirms, no application yet, the window not closed)."""
    last = court_apply_last_day(case)
    return (
        last is not None
        and not court_exclusion(case)
        and _court(case) is None
        and (today or timezone.localdate()) <= last
    )


def _served_paths(case: Case) -> list[str]:
    """The place paths that make a court competent (民事诉讼法 第二百零五条): where the mediation organisation
    is and where the subject matter is (the case's place: its path starts with the subdistrict's code),
    and where each party lives (a party who is a resident of the tree: their household's path)."""
    paths = [case.path]
    resident_paths = case.parties.filter(resident__isnull=False).values_list("resident__path", flat=True)
    paths += [p for p in resident_paths if p]
    return paths


def competent_courts(case: Case) -> list[Court]:
    """The active basic-level courts competent for this case's application: those serving a place in
    `_served_paths` (a court's area code is a prefix of the place's path)."""
    paths = [p.replace(".", "") for p in _served_paths(case)]
    return [
        court
        for court in Court.objects.filter(active=True)
        if any(path.startswith(code) for code in court.codes() for path in paths)
    ]


def court_clocks(case: Case, today: date | None = None, r: MediationRules | None = None) -> dict:
    """The court-confirmation clocks from the rules and the agreement/court rows, each last day moved off
    a rest day (民事诉讼法 第八十五条):

    - apply_by = effective_on + court_apply_days (the parties' joint application; written agreements);
    - accept_by = applied_on + court_accept_days;
    - decide_by = accepted_on + court_decide_days (+ court_extend_days when the court extended).

    Each is a Clock (or None when it does not apply yet), with days left / overdue."""
    today = today or timezone.localdate()
    r = r or rules()
    out: dict = {"apply_by": None, "accept_by": None, "decide_by": None}
    agreement = _agreement(case)
    if agreement is None or not agreement.written or court_exclusion(case, r):
        return out
    court = _court(case)
    out["apply_by"] = Clock(
        "apply_by",
        _("apply to the court by"),
        court_apply_last_day(case, r),
        court.applied_on if court else None,
        today,
    )
    if court is None:
        return out
    accepted_on = court.accepted_on
    if accepted_on is None and court.state == CourtState.REJECTED:
        accepted_on = court.decided_on  # refused to accept: the acceptance step ended that day
    out["accept_by"] = Clock(
        "accept_by",
        _("the court accepts by"),
        period_end_days(court.applied_on, r.court_accept_days),
        accepted_on,
        today,
    )
    if court.accepted_on is not None:
        days = r.court_decide_days + (r.court_extend_days if court.extended else 0)
        out["decide_by"] = Clock(
            "decide_by",
            _("the court decides by"),
            period_end_days(court.accepted_on, days),
            court.decided_on,
            today,
        )
    return out


# --- the desk -------------------------------------------------------------------------------------------
@dataclass
class Queue:
    name: str
    label: str
    count: int
    items: QuerySet = field(repr=False)


def _court_waiting_q(today: date, r: MediationRules) -> Q:
    """Agreed cases waiting on the court: applied and not decided, or a written agreement still inside
    the application window and not applied."""
    applied = Q(court__isnull=False) & Q(court__state__in=[CourtState.APPLIED, CourtState.ACCEPTED])
    # open while effective_on + court_apply_days, rolled off a rest day, is today or later
    earliest_end = earliest_nominal_end_open_on(today)
    window = (
        Q(court__isnull=True)
        & Q(agreement__written=True)
        & Q(agreement__effective_on__gte=earliest_end - timedelta(days=r.court_apply_days))
        & ~Q(dispute_type__in=court_excluded_types(r))
    )
    return Q(state__in=[S.AGREED, S.CLOSED]) & (applied | window)


def visible_tasks(user) -> QuerySet[PreventionTask]:
    """Prevention tasks the user may see: on their visible cases, owned by them, or under their
    manager scope."""
    if not _authenticated(user):
        return PreventionTask.objects.none()
    scope = scope_for(user, "mediation.manage")
    if scope.everywhere:
        return PreventionTask.objects.all()
    condition = Q(owner_id=user.pk) | Q(case_id__in=visible_cases(user).values("pk"))
    if not scope.is_empty:
        condition |= scope.q("path")
    return PreventionTask.objects.filter(condition)


def desk_queues(user, today: date | None = None) -> dict[str, Queue]:
    """The centre desk's queues: name → Queue(label, count, items). Items are lazy querysets (newest
    first, with the place), so a page slices what it shows.

    consent (registered, waiting for consent) · mediation (accepted) · overdue (accepted, past due_on) ·
    court (agreed, awaiting court confirmation) · followups (planned on or before today, not done) ·
    tasks (open prevention tasks) · mine (open or agreed cases where the user is an active member)."""
    today = today or timezone.localdate()
    r = rules()
    cases = visible_cases(user)
    conditions = {
        "consent": Q(state=S.REGISTERED),
        "mediation": Q(state=S.ACCEPTED),
        "overdue": Q(state=S.ACCEPTED, due_on__lt=today),
        "court": _court_waiting_q(today, r),
        "mine": Q(pk__in=_member_case_ids(user)) & ~Q(state__in=TERMINAL)
        if _authenticated(user)
        else Q(pk__in=[]),
    }
    labels = {
        "consent": _("waiting for consent"),
        "mediation": _("in mediation"),
        "overdue": _("overdue"),
        "court": _("awaiting court confirmation"),
        "followups": _("follow-ups due"),
        "tasks": _("open prevention tasks"),
        "mine": _("my cases"),
    }
    counts = cases.aggregate(**{name: Count("pk", filter=q, distinct=True) for name, q in conditions.items()})
    listed = cases.select_related("place")
    queues = {
        name: Queue(name, labels[name], counts[name] or 0, listed.filter(q).distinct())
        for name, q in conditions.items()
    }
    followups = FollowUp.objects.filter(
        case_id__in=cases.values("pk"), due_on__lte=today, done_at__isnull=True
    ).exclude(case__state__in=[S.WITHDRAWN, S.NOT_ACCEPTED])
    queues["followups"] = Queue(
        "followups", labels["followups"], followups.count(), followups.select_related("case", "case__place")
    )
    tasks = visible_tasks(user).filter(state=TaskState.OPEN)
    queues["tasks"] = Queue(
        "tasks", labels["tasks"], tasks.count(), tasks.select_related("case", "owner", "place")
    )
    order = ["consent", "mediation", "overdue", "court", "followups", "tasks", "mine"]
    return {name: queues[name] for name in order}


# --- parties ----------------------------------------------------------------------------------------------
def my_cases(user) -> QuerySet[Case]:
    """The cases where the user is a party, newest first."""
    if not _authenticated(user):
        return Case.objects.none()
    return Case.objects.filter(pk__in=_party_case_ids(user)).select_related("place")


@dataclass
class PartyView:
    """A party's own view of their case: its state and its public events only."""

    case: Case
    events: list[CaseEvent]
    parties: list[CaseParty]  # the user's own party rows on the case
    court: CourtConfirmation | None
    followups: list[FollowUp]


def party_view(user, case_id) -> PartyView:
    """The case as its party sees it (Http404 unless the user is a party to it)."""
    try:
        case = my_cases(user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return PartyView(
        case=case,
        events=list(case.events.filter(public=True)),
        parties=list(case.parties.filter(user_id=user.pk)),
        court=_court(case),
        followups=list(case.followups.all()),
    )


# --- the home page ---------------------------------------------------------------------------------------
@dataclass
class MediationHome:
    my_cases: int = 0  # the user's open cases as a party
    desk: dict[str, int] | None = None  # the desk's queue counts, for the centre's staff


def home_counts_for_user(user, today: date | None = None) -> MediationHome:
    """The mediation figures of the user's home page: counts only (no names, no contents)."""
    out = MediationHome()
    if not _authenticated(user):
        return out
    out.my_cases = my_cases(user).exclude(state__in=TERMINAL).count()
    if not (scope_for(user, "mediation.work").is_empty and scope_for(user, "mediation.manage").is_empty):
        out.desk = {name: q.count for name, q in desk_queues(user, today).items()}
    return out
