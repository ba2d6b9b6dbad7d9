"""The centre's case pages (issue 5 §7): the desk, registering a case, the case file with its actions,
a resident's application (phone page) and a party's own view of their cases.

Reads go through selectors (a case the user may not see is a 404); every write is one call of
services.cases; each action on the case file is a POST to its own URL under /mediation/cases/<id>/…
that redirects back with a message, or re-renders the case file with the form's errors (422).
Every view of a case file is audited (services.cases.record_case_view).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.accounts.roles import ROLES, Perm, Role
from linjialin.accounts.scope import current_grants
from linjialin.accounts.selectors import users_holding
from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.places.models import Level, Place

from . import forms as f
from . import selectors
from .models import (
    Case,
    CaseDocument,
    CaseMember,
    CaseParty,
    CaseState,
    CourtState,
    DisputeType,
    FollowUp,
    Outcome,
    PreventionTask,
    Source,
)
from .services import cases
from .workflow import OPEN_STATES, workflow

PAGE_SIZE = 50

# the timeline's event kinds as the pages say them (unknown kinds are shown as they are)
EVENT_LABELS = {
    "registered": gettext_lazy("registered"),
    "repeat_flagged": gettext_lazy("flagged as a repeat dispute"),
    "risk_flagged": gettext_lazy("flagged: may turn violent or criminal"),
    "party_added": gettext_lazy("party added"),
    "police_notified": gettext_lazy("police notified"),
    "consent": gettext_lazy("a party's answer recorded"),
    "accepted": gettext_lazy("accepted for mediation"),
    "not_accepted": gettext_lazy("not accepted"),
    "withdrawn": gettext_lazy("withdrawn"),
    "member_added": gettext_lazy("team member added"),
    "member_removed": gettext_lazy("team member removed"),
    "objection": gettext_lazy("objection to a team member"),
    "session": gettext_lazy("mediation session held"),
    "document": gettext_lazy("document added"),
    "counselling": gettext_lazy("counselling"),
    "extended": gettext_lazy("time limit extended"),
    "agreement": gettext_lazy("agreement reached"),
    "failed": gettext_lazy("no agreement"),
    "court_applied": gettext_lazy("applied to the court for confirmation"),
    "court_accepted": gettext_lazy("the court accepted the application"),
    "court_extended": gettext_lazy("the court extended its decision period"),
    "court_confirmed": gettext_lazy("the court confirmed the agreement"),
    "court_rejected": gettext_lazy("the court rejected the application"),
    "followup": gettext_lazy("follow-up visit"),
    "followup_overdue": gettext_lazy("follow-up visit overdue"),
    "task_created": gettext_lazy("prevention task created"),
    "overdue": gettext_lazy("past the time limit"),
    "closed": gettext_lazy("closed"),
    "filing_pack_exported": gettext_lazy("filing pack exported (卷宗)"),
}


def _event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind.replace("_", " ")))


def _mediation_scope(user):
    """Where the user works for the centre (mediation.work ∪ mediation.manage)."""
    return scope_for(user, Perm.MEDIATION_WORK) | scope_for(user, Perm.MEDIATION_MANAGE)


def _staff_only(user):
    scope = _mediation_scope(user)
    if scope.is_empty:
        raise PermissionDenied
    return scope


def _days_left(due_on: date | None, today: date) -> int | None:
    return None if due_on is None else (due_on - today).days


# --- the desk -------------------------------------------------------------------------------------------
def _case_rows(qs):
    lead = Prefetch(
        "team",
        queryset=CaseMember.objects.filter(lead=True, ended_at__isnull=True).select_related("user"),
        to_attr="leads",
    )
    return qs.select_related("place").prefetch_related(lead)


def _filtered(qs, filters, communities):
    if filters["type"] in DisputeType.values:
        qs = qs.filter(dispute_type=filters["type"])
    if filters["source"] in Source.values:
        qs = qs.filter(source=filters["source"])
    if filters["state"] in CaseState.values:
        qs = qs.filter(state=filters["state"])
    if filters["community"].isdigit():
        community = next((c for c in communities if c.pk == int(filters["community"])), None)
        if community is not None:
            qs = qs.filter(path__startswith=community.path)
    return qs


@login_required
def desk(request):
    """The centre's desk: the queues by stage with their counts (selectors.desk_queues), my cases,
    filters by type, source, community and state."""
    user = request.user
    scope = _staff_only(user)
    today = timezone.localdate()
    queues = selectors.desk_queues(user, today)
    rules = selectors.rules()
    tab = request.GET.get("tab", "")
    if tab not in queues:
        tab = next(iter(queues), "")
    tabs = [(key, q.label, q.count) for key, q in queues.items()]
    communities = list(Place.objects.filter(level=Level.COMMUNITY).filter(scope.q()).order_by("path"))
    filters = {key: request.GET.get(key, "") for key in ("type", "source", "community", "state")}
    items = queues[tab].items if tab else Case.objects.none()
    kind = {FollowUp: "followups", PreventionTask: "tasks"}.get(items.model, "cases")
    if kind == "cases":
        items = _case_rows(_filtered(items, filters, communities).order_by("due_on", "-registered_at", "-id"))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        if kind == "cases":
            row.days_left = _days_left(row.due_on, today) if row.state in OPEN_STATES else None
            row.days_over = -row.days_left if row.days_left is not None and row.days_left < 0 else 0
            row.due = selectors.due_status(row, today, rules)
            row.lead_names = ", ".join(m.user.display_name for m in row.leads)
        else:
            row.days_left = _days_left(row.due_on, today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "tab": tab,
        "tabs": tabs,
        "kind": kind,
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "types": DisputeType.choices,
        "sources": Source.choices,
        "states": CaseState.choices,
        "communities": communities,
    }
    return render(request, "mediation/desk.html", context)


# --- registering a case ---------------------------------------------------------------------------------
def _register_places(user):
    scope = _mediation_scope(user)
    return Place.objects.filter(scope.q(), level__lte=Level.ENTRANCE).order_by("path")


@login_required
def case_new(request):
    """Register a case (staff): type, source, place, facts, dispute items, risk flag, the parties."""
    user = request.user
    _staff_only(user)
    places = _register_places(user)
    status = 200
    if request.method == "POST":
        form = f.CaseForm(request.POST, places=places)
        parties = f.PartyFormSet(request.POST, prefix="party")
        form_ok, parties_ok = form.is_valid(), parties.is_valid()
        if form_ok and parties_ok:
            data = form.cleaned_data
            row_forms = [p for p in parties if p.has_changed()]
            rows = [p.cleaned_data for p in row_forms]
            try:
                case = cases.register_case(
                    user,
                    source=data["source"],
                    title=data["title"],
                    dispute_type=data["dispute_type"],
                    place=data["place"],
                    facts=data["facts"],
                    dispute_items=data["dispute_items"],
                    parties=rows,
                    location=data["location"],
                    risk_flag=data["risk_flag"],
                    risk_note=data["risk_note"],
                    referred_by=data["referred_by"] if data["source"] == Source.REFERRAL else "",
                    referring_body=data["referring_body"] if data["source"] == Source.REFERRAL else "",
                )
            except ValidationError as exc:
                form.add_service_errors(exc, rows={"parties": row_forms})
            else:
                messages.success(request, _("Case %(n)s is registered.") % {"n": case.number})
                if case.risk_flag:
                    messages.warning(request, _("This case may turn violent: notify the police now."))
                return redirect("mediation:case", case_id=case.pk)
        status = 422
    else:
        form = f.CaseForm(places=places)
        parties = f.PartyFormSet(prefix="party", initial=f.party_initial())
    return render(request, "mediation/case_new.html", {"form": form, "parties": parties}, status=status)


# --- the case file --------------------------------------------------------------------------------------
def _staff_for(case):
    """Who may join the team: active users holding mediation.work over the case's place."""
    return users_holding(Perm.MEDIATION_WORK, case.path)


def _masked(party: CaseParty) -> CaseParty:
    party.mobile_masked = mask_mobile(party.mobile)
    party.id_masked = mask_id_number(party.id_number)
    party.rep_mobile_masked = mask_mobile(party.representative_mobile)
    return party


@dataclass(frozen=True)
class Action:
    """One action on the case file: its form (built from the case), the service call, the message."""

    build: Callable  # (case, data=None, files=None) -> form
    run: Callable  # (user, case, cleaned_data) -> object
    done: str
    anchor: str = ""


class Bundle:
    """A form and a formset submitted together (the agreement and its duties, closing and its tasks)."""

    def __init__(self, form, formset, rows_key):
        self.form, self.formset, self.rows_key = form, formset, rows_key

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.formset.is_valid()])  # both, for all the errors

    def rows(self) -> list:
        return [r for r in self.formset if r.has_changed()]

    @property
    def cleaned_data(self) -> dict:
        return {**self.form.cleaned_data, self.rows_key: [r.cleaned_data for r in self.rows()]}

    def add_service_errors(self, exc: ValidationError) -> None:
        self.form.add_service_errors(exc, rows={self.rows_key: self.rows()})


def _parties(case):
    return case.parties.all()


def _members(case):
    return case.team.filter(ended_at__isnull=True).select_related("user")


def _open_followups(case):
    return case.followups.filter(done_at__isnull=True)


def _agreement_items(case):
    from .models import AgreementItem

    return AgreementItem.objects.filter(agreement__case=case).select_related("party")


def _agreement_bundle(case, data=None, files=None):
    form = f.AgreementForm(data, initial={"facts": case.facts, "copies": 3}, parties=_parties(case))
    items = f.AgreementItemFormSet(data, prefix="item", form_kwargs={"parties": _parties(case)})
    return Bundle(form, items, "items")


def _close_bundle(case, data=None, files=None):
    form = f.CloseForm(data)
    tasks = f.TaskFormSet(data, prefix="task", form_kwargs={"staff": _staff_for(case)})
    return Bundle(form, tasks, "tasks")


ACTIONS: dict[str, Action] = {
    "police": Action(
        lambda case, data=None, files=None: f.PoliceForm(data),
        lambda user, case, d: cases.notify_police(user, case, how=d["how"]),
        gettext_lazy("The police notice is recorded."),
        "risk",
    ),
    "consent": Action(
        lambda case, data=None, files=None: f.ConsentForm(data, parties=_parties(case)),
        lambda user, case, d: cases.record_consent(
            user, case, d["party"], consent=d["consent"], rights_told=d["rights_told"], note=d["note"]
        ),
        gettext_lazy("The party's answer is recorded."),
        "parties",
    ),
    "accept": Action(
        lambda case, data=None, files=None: f.StyledForm(data),
        lambda user, case, d: cases.accept_case(user, case),
        gettext_lazy("The case is accepted: the one-month limit runs from today."),
    ),
    "refuse": Action(
        lambda case, data=None, files=None: f.RefuseForm(data),
        lambda user, case, d: cases.refuse_case(user, case, reason=d["reason"], referral=d["referral"]),
        gettext_lazy("The case is recorded as not accepted."),
    ),
    "withdraw": Action(
        lambda case, data=None, files=None: f.ReasonForm(data),
        lambda user, case, d: cases.withdraw_case(user, case, reason=d["reason"]),
        gettext_lazy("The withdrawal is recorded."),
    ),
    "add_member": Action(
        lambda case, data=None, files=None: f.MemberForm(data, staff=_staff_for(case)),
        lambda user, case, d: cases.add_member(user, case, user=d["user"], role=d["role"], lead=d["lead"]),
        gettext_lazy("The team member is added."),
        "team",
    ),
    "remove_member": Action(
        lambda case, data=None, files=None: f.RemoveMemberForm(data, members=_members(case)),
        lambda user, case, d: cases.remove_member(user, case, d["member"], reason=d["reason"]),
        gettext_lazy("The team member is removed."),
        "team",
    ),
    "objection": Action(
        lambda case, data=None, files=None: f.ObjectionForm(
            data, parties=_parties(case), members=_members(case), staff=_staff_for(case)
        ),
        lambda user, case, d: cases.record_objection(
            user,
            case,
            party=d["party"],
            member=d["member"],
            reason=d["reason"],
            replacement=d["replacement"],
            role=d["role"] or None,
        ),
        gettext_lazy("The objection is recorded and the member replaced."),
        "team",
    ),
    "session": Action(
        lambda case, data=None, files=None: f.SessionForm(data),
        lambda user, case, d: cases.record_session(
            user,
            case,
            held_at=d["held_at"],
            location=d["location"],
            public=d["public"],
            attendees=d["attendees"],
            minutes=d["minutes"],
        ),
        gettext_lazy("The session is recorded."),
        "sessions",
    ),
    "document": Action(
        lambda case, data=None, files=None: f.DocumentForm(data, files, sessions=case.sessions.all()),
        lambda user, case, d: cases.add_document(
            user, case, kind=d["kind"], upload=d["upload"], session=d["session"]
        ),
        gettext_lazy("The document is added."),
        "documents",
    ),
    "counselling": Action(
        lambda case, data=None, files=None: f.CounsellingNoteForm(data),
        lambda user, case, d: cases.add_counselling_note(user, case, text=d["text"]),
        gettext_lazy("Your note is saved."),
        "counselling",
    ),
    "extend": Action(
        lambda case, data=None, files=None: f.ExtensionForm(data),
        lambda user, case, d: cases.extend_case(
            user, case, days=d["days"], reason=d["reason"], consent_note=d["consent_note"]
        ),
        gettext_lazy("The time limit is extended."),
    ),
    "agreement": Action(
        _agreement_bundle,
        lambda user, case, d: cases.record_agreement(
            user,
            case,
            written=d["written"],
            facts=d["facts"],
            terms=d["terms"],
            performance=d["performance"],
            signed_on=d["signed_on"],
            signatures=d["signatures"],
            sealed_on=d["sealed_on"],
            copies=d["copies"],
            items=d["items"],
        ),
        gettext_lazy("The agreement is recorded; the follow-up visits are planned."),
        "agreement",
    ),
    "fail": Action(
        lambda case, data=None, files=None: f.FailureForm(data),
        lambda user, case, d: cases.record_failure(
            user, case, channel=d["channel"], detail=d["detail"], note=d["note"]
        ),
        gettext_lazy("No agreement: the referral is recorded."),
    ),
    "court_apply": Action(
        lambda case, data=None, files=None: f.CourtApplicationForm(
            data, courts=selectors.competent_courts(case), parties=_parties(case)
        ),
        lambda user, case, d: cases.record_court_application(
            user, case, court=d["court"], applied_on=d["applied_on"], consents=d["consents"]
        ),
        gettext_lazy("The application for court confirmation is recorded."),
        "court",
    ),
    "court_step": Action(
        lambda case, data=None, files=None: f.CourtStepForm(data),
        lambda user, case, d: cases.record_court_step(
            user, case, state=d["state"], on=d["on"], extended=d["extended"], note=d["note"]
        ),
        gettext_lazy("The court's step is recorded."),
        "court",
    ),
    "followup": Action(
        lambda case, data=None, files=None: f.FollowUpForm(
            data, followups=_open_followups(case), items=_agreement_items(case)
        ),
        lambda user, case, d: cases.record_followup(
            user,
            d["followup"],
            performance=d["performance"],
            note=d["note"],
            performed_items=list(d["performed_items"]),
        ),
        gettext_lazy("The follow-up visit is recorded."),
        "followups",
    ),
    "close": Action(
        _close_bundle,
        lambda user, case, d: cases.close_case(user, case, lesson=d["lesson"], tasks=d["tasks"]),
        gettext_lazy("The case is closed."),
    ),
}


def _build(name: str, case, data=None, files=None):
    """The action's form, its ids prefixed with the action's name (many forms share field names)."""
    form = ACTIONS[name].build(case, data, files)
    (form.form if isinstance(form, Bundle) else form).auto_id = f"{name}-%s"
    return form


def _may(case, user, roles: set, available: set) -> dict:
    """Which forms the page shows this user now (the services check again)."""
    staff = bool(roles & {"manager", "member", "lead"})
    steering = bool(roles & {"manager", "lead"})
    agreement = getattr(case, "agreement_obj", None)
    court = getattr(case, "court_obj", None)
    return {
        "staff": staff,
        "police": staff and case.risk_flag and case.police_notified_at is None,
        "consent": staff and case.state == CaseState.REGISTERED,
        "unmask": staff,
        "accept": "accept" in available,
        "refuse": "refuse" in available,
        "withdraw": "withdraw" in available,
        "team": steering
        and case.state in (CaseState.REGISTERED, CaseState.ACCEPTED, CaseState.AGREED, CaseState.FAILED),
        "session": staff and case.state == CaseState.ACCEPTED,
        "document": staff and case.state != CaseState.CLOSED,
        "counselling": "counsellor" in roles,
        "extend": steering and case.state == CaseState.ACCEPTED,
        "agreement": "agree" in available,
        "fail": "fail" in available,
        "close": "close" in available,
        "court_apply": staff and selectors.court_apply_open(case),
        "court_step": staff
        and court is not None
        and court.state in (CourtState.APPLIED, CourtState.ACCEPTED),
        "followup": staff and agreement is not None,
        "documents_out": staff and agreement is not None,
        "filing_pack": agreement is not None and scope_for(user, Perm.MEDIATION_EXPORT).covers(case.path),
    }


def _one_to_one(case, name):
    try:
        return getattr(case, name)
    except ObjectDoesNotExist:  # no agreement / no court application yet
        return None


def _case_context(request, case, bound: dict | None = None, unmasked: dict | None = None) -> dict:
    user = request.user
    today = timezone.localdate()
    roles = set(selectors.case_roles(user, case))
    available = {t.name for t in workflow.available(case, user)}
    case.agreement_obj = _one_to_one(case, "agreement")
    case.court_obj = _one_to_one(case, "court")
    may = _may(case, user, roles, available)
    bound = bound or {}
    forms = {}
    for name in ACTIONS:
        show = may.get(name) or (name in ("add_member", "remove_member", "objection") and may["team"])
        if (show or name in bound) and name != "followup":
            forms[name] = bound.get(name) or _build(name, case)
    parties = [_masked(p) for p in case.parties.all()]
    unmasked = unmasked or {}
    for p in parties:
        p.numbers = unmasked.get(p.pk)
        p.unmask_form = (
            bound["unmask"] if "unmask" in bound and _bound_party(bound["unmask"]) == p.pk else None
        )
    days_left = _days_left(case.due_on, today) if case.state in OPEN_STATES else None
    visible = selectors.visible_cases(user)
    repeats = list(case.repeat_of.filter(pk__in=visible.values("pk")).only("pk", "number", "title"))
    followups = list(case.followups.select_related("done_by"))
    bound_followup = bound.get("followup")
    bound_followup_id = _bound_value(bound_followup, "followup") if bound_followup else None
    for fu in followups:
        fu.days_left = _days_left(fu.due_on, today)
        fu.form, fu.form_open = None, False
        if may["followup"] and fu.done_at is None:
            if fu.pk == bound_followup_id:
                fu.form, fu.form_open = bound_followup, True
            else:
                fu.form = f.FollowUpForm(
                    initial={"followup": fu.pk},
                    followups=_open_followups(case),
                    items=_agreement_items(case),
                    auto_id=f"followup{fu.pk}-%s",
                )
    events = list(case.events.select_related("actor"))
    for e in events:
        e.label = _event_label(e.kind)
    return {
        "case": case,
        "roles": roles,
        "may": may,
        "forms": forms,
        "parties": parties,
        "team": list(case.team.select_related("user").order_by("ended_at", "-lead", "id")),
        "objections": list(case.objections.select_related("party", "member__user", "replacement__user")),
        "sessions": list(case.sessions.select_related("recorded_by")),
        "documents": list(case.documents.select_related("session", "uploaded_by")),
        "notes": list(selectors.counselling_notes(user, case)) if "counsellor" in roles else [],
        "extensions": list(case.extensions.all()),
        "agreement": case.agreement_obj,
        "items": list(case.agreement_obj.items.select_related("party")) if case.agreement_obj else [],
        "court": case.court_obj,
        "signatures": list(case.agreement_obj.signatures.select_related("party"))
        if case.agreement_obj
        else [],
        "court_consents": list(case.court_obj.consents.select_related("party")) if case.court_obj else [],
        "court_exclusion": selectors.court_exclusion(case)
        if case.agreement_obj and case.agreement_obj.written
        else "",
        "clocks": selectors.court_clocks(case) if case.agreement_obj else {},
        "followups": followups,
        "tasks": list(case.tasks.select_related("owner")),
        "events": events,
        "repeats": repeats,
        "days_left": days_left,
        "days_over": -days_left if days_left is not None and days_left < 0 else 0,
        "due": selectors.due_status(case, today),
        "clock_rows": _clock_rows(selectors.court_clocks(case, today)) if case.agreement_obj else [],
        "urls": _document_urls(case) if case.agreement_obj else {},
        "error_action": "",
    }


def _clock_rows(clocks: dict | None) -> list:
    """The court's clocks that apply now (selectors.court_clocks: apply by, accept by, decide by)."""
    return [c for c in (clocks or {}).values() if c is not None]


def _document_urls(case) -> dict:
    """Engineer D's agreement and filing-pack URLs (absent until their module is in)."""
    urls = {}
    for name in ("agreement_pdf", "agreement_docx", "filing_pack"):
        try:
            urls[name] = reverse(f"mediation:{name}", args=[case.pk])
        except NoReverseMatch:
            pass
    return urls


def _bound_value(form, name) -> int | None:
    value = form.data.get(name, "") if form.is_bound else ""
    return int(value) if str(value).isdigit() else None


def _bound_party(form) -> int | None:
    return _bound_value(form, "party")


def _staff_view(user, case):
    roles = set(selectors.case_roles(user, case))
    return bool(roles & {"manager", "member", "lead", "counsellor"})


@login_required
def case_detail(request, case_id):
    """The case file (the team and the centre's managers; a party is sent to their own view)."""
    case = selectors.get_case_for_user(request.user, case_id)
    if not _staff_view(request.user, case):
        return redirect("mediation:my_case", case_id=case.pk)
    cases.record_case_view(request.user, case)
    return render(request, "mediation/case.html", _case_context(request, case))


@login_required
@require_POST
def case_act(request, case_id, action):
    """One action on the case file; bad input re-renders the page with the form's errors (422)."""
    user = request.user
    case = selectors.get_case_for_user(user, case_id)
    spec = ACTIONS.get(action)
    if spec is None or not _staff_view(user, case):
        raise Http404
    form = _build(action, case, request.POST, request.FILES)
    back = reverse("mediation:case", args=[case.pk]) + (f"#{spec.anchor}" if spec.anchor else "")
    if form.is_valid():
        try:
            spec.run(user, case, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except (TransitionNotAllowed, Conflict) as exc:
            messages.error(request, str(exc))
            return redirect(back)
        else:
            messages.success(request, str(spec.done))
            return redirect(back)
    case.refresh_from_db()
    messages.error(request, _("Please correct the marked fields."))
    context = _case_context(request, case, bound={action: form})
    context["error_action"] = action
    return render(request, "mediation/case.html", context, status=422)


@login_required
@require_POST
def case_unmask(request, case_id):
    """A party's full numbers, after a reason (audited by the service). htmx swaps the party's numbers;
    without htmx the case file is shown again with them."""
    user = request.user
    case = selectors.get_case_for_user(user, case_id)
    if not _staff_view(user, case):
        raise Http404
    form = f.UnmaskForm(request.POST, parties=case.parties.all(), auto_id="unmask-%s")
    numbers = None
    if form.is_valid():
        try:
            numbers = cases.unmask_party(user, form.cleaned_data["party"], reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_service_errors(exc)
    status = 200 if numbers is not None else 422
    if request.htmx:
        party_id = _bound_party(form)
        party = get_object_or_404(CaseParty, pk=party_id or 0, case=case)
        _masked(party)
        party.numbers = numbers
        party.unmask_form = None if numbers is not None else form
        context = {"p": party, "case": case, "may": {"unmask": True}}
        return render(request, "mediation/_party_numbers.html", context, status=status)
    if numbers is None:
        context = _case_context(request, case, bound={"unmask": form})
    else:
        party = form.cleaned_data["party"]
        context = _case_context(request, case, unmasked={party.pk: numbers})
    return render(request, "mediation/case.html", context, status=status)


@login_required
def case_document(request, case_id, document_id):
    """A document of the case file, after the case's visibility check (no public media URL)."""
    case = selectors.get_case_for_user(request.user, case_id)
    if not _staff_view(request.user, case):
        raise Http404
    document = get_object_or_404(CaseDocument, pk=document_id, case=case)
    cases.record_document_view(request.user, document)
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type or "application/octet-stream",
        as_attachment=True,
        filename=document.name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the resident's application (phone page) ------------------------------------------------------------
def _apply_household(user) -> Place | None:
    """The household the user applies for: their resident grant's household (mediation.apply)."""
    for grant in current_grants(user):
        spec = ROLES.get(Role(grant.role))
        if spec and Perm.APPLY_MEDIATION in spec.perms and grant.place.level == Level.HOUSEHOLD:
            return grant.place
    return None


@login_required
def apply(request):
    """A resident applies for mediation of their dispute: short and plain, the rights notice, one case
    per tap (client_token)."""
    user = request.user
    if scope_for(user, Perm.APPLY_MEDIATION).is_empty:
        raise PermissionDenied
    household = _apply_household(user)
    if household is None:
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = f.ApplyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = cases.apply_for_mediation(
                    user,
                    household=household,
                    dispute_type=data["dispute_type"],
                    title=data["title"],
                    facts=data["facts"],
                    other_party_name=data["other_party_name"],
                    other_party_mobile=data["other_party_mobile"],
                    client_token=data["client_token"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("mediation:apply_done", case_id=case.pk)
        status = 422
    else:
        form = f.ApplyForm(initial={"client_token": uuid.uuid4().hex})
    return render(request, "mediation/apply.html", {"form": form, "household": household}, status=status)


@login_required
def apply_done(request, case_id):
    """The confirmation after applying: the number and what happens next."""
    case = get_object_or_404(selectors.my_cases(request.user), pk=case_id)
    return render(request, "mediation/apply_done.html", {"case": case, **_centre_phone()})


# --- a party's own view ---------------------------------------------------------------------------------
def _centre_phone() -> dict:
    """The centre's phone (MediationRules.centre_phone, admin-editable) and its tel: form."""
    phone = (selectors.rules().centre_phone or "").strip()
    return {"centre_phone": phone, "centre_tel": re.sub(r"[^\d+]", "", phone)}


def _next_date(case, today, followups=None) -> tuple[date | None, str]:
    """The next date that matters to a party: a follow-up visit, a court clock, the case's limit."""
    candidates: list[tuple[date, str]] = []
    if followups is None:
        followups = case.followups.filter(done_at__isnull=True, due_on__gte=today).order_by("due_on")[:1]
    for fu in followups:
        if fu.done_at is None and fu.due_on >= today:
            candidates.append((fu.due_on, _("follow-up visit")))
    if case.state in (CaseState.AGREED, CaseState.CLOSED):
        for clock in selectors.court_clocks(case, today).values():
            if clock is not None and not clock.done and clock.by >= today:
                candidates.append((clock.by, str(clock.label)))
    if case.state in OPEN_STATES and case.due_on:
        candidates.append((case.due_on, _("mediation to end by")))
    upcoming = sorted((c for c in candidates if c[0] >= today), key=lambda c: c[0])
    return upcoming[0] if upcoming else (None, "")


@login_required
def my_cases(request):
    """The cases where the user is a party: state and the next date."""
    today = timezone.localdate()
    rows = list(selectors.my_cases(request.user).order_by("-registered_at"))
    for case in rows:
        case.next_on, case.next_what = _next_date(case, today)
    may_apply = not scope_for(request.user, Perm.APPLY_MEDIATION).is_empty
    return render(request, "mediation/my_cases.html", {"rows": rows, "may_apply": may_apply})


@login_required
def my_case(request, case_id):
    """A party's own view of their case: the state, the next date, the public events. No other party's
    numbers, no minutes, no counselling notes (selectors.party_view)."""
    today = timezone.localdate()
    view = selectors.party_view(request.user, case_id)
    case = view.case
    for e in view.events:
        e.label = _event_label(e.kind)
    next_on, next_what = _next_date(case, today, view.followups)
    context = {
        "case": case,
        "events": view.events,
        "mine": view.parties,
        "court": view.court,
        "next_on": next_on,
        "next_what": next_what,
        "others": [p.name for p in case.parties.exclude(user_id=request.user.pk)],
        # why it ended without an agreement (not accepted, withdrawn, failed), and the agreement itself
        "ended_note": case.outcome in (Outcome.NOT_ACCEPTED, Outcome.WITHDRAWN, Outcome.NO_AGREEMENT)
        and bool(case.outcome_note),
        "has_agreement": case.outcome in (Outcome.WRITTEN, Outcome.ORAL),
        **_centre_phone(),
    }
    return render(request, "mediation/my_case.html", context)


@login_required
@require_POST
def from_request(request, request_id):
    """A handler refers the dispute behind a micro-request to the centre (services.cases
    .open_case_from_request); back to the request with the case number, or on to the case when the
    handler is mediation staff and sees it."""
    from linjialin.service_requests import selectors as request_selectors

    req = request_selectors.get_request_for_user(request.user, request_id)  # 404 when not visible
    back = reverse("requests:detail", args=[req.pk])
    form = f.ReferRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    try:
        data = form.cleaned_data
        case = cases.open_case_from_request(
            request.user, req, title=data["title"], dispute_type=data["dispute_type"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    done = _("Referred to the mediation centre as case %(number)s.") % {"number": case.number}
    messages.success(request, done)
    if selectors.visible_cases(request.user).filter(pk=case.pk).exists():
        return redirect("mediation:case", case_id=case.pk)
    return redirect(back)


urlpatterns = [
    path("from-request/<int:request_id>/", from_request, name="from_request"),
    path("", desk, name="desk"),
    path("cases/new/", case_new, name="case_new"),
    path("cases/<int:case_id>/", case_detail, name="case"),
    path("cases/<int:case_id>/unmask/", case_unmask, name="case_unmask"),
    path("cases/<int:case_id>/documents/<int:document_id>/", case_document, name="case_document"),
    path("cases/<int:case_id>/<slug:action>/", case_act, name="case_act"),
    path("apply/", apply, name="apply"),
    path("apply/<int:case_id>/", apply_done, name="apply_done"),
    path("mine/", my_cases, name="my_cases"),
    path("mine/<int:case_id>/", my_case, name="my_case"),
]
