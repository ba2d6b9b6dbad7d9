"""Screening (前端预防), legal consultations and the prevention tasks: the centre staff's pages.

Who sees what: `mediation.work` or `mediation.manage` over the place (services.screening.work_scope);
a session outside it answers 404, a list page to someone with no such scope 403. The tasks page also
shows tasks the case selectors show the user (owned by them, on their cases). Writes:
services/screening.py and services/cases.py (finish_task, cancel_task); views only parse and render.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict
from linjialin.core.workflow import TransitionNotAllowed

from . import screening_forms as forms
from . import selectors
from .models import FindingOutcome, RiskLevel, ScreeningState
from .services import screening as services
from .workflow import screening_workflow


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _need_scope(user) -> None:
    if services.work_scope(user).is_empty:
        raise PermissionDenied


# --- screening sessions -----------------------------------------------------------------------------------
@login_required
def screenings(request):
    _need_scope(request.user)
    places = services.places_for(request.user)
    form = forms.PlanForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            session = services.plan_screening(
                request.user, place=d["place"], planned_for=d["planned_for"], location=d["location"]
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Screening session planned."))
            return redirect("mediation:screening", session_id=session.pk)
    sessions = services.list_sessions_for_user(request.user)
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    upcoming = sessions.filter(state=ScreeningState.PLANNED, planned_for__gte=today).order_by(
        "planned_for", "id"
    )
    past = sessions.exclude(pk__in=upcoming.values("pk")).order_by("-planned_for", "-id")
    page = Paginator(past, 30).get_page(request.GET.get("page"))
    context = {"form": form, "upcoming": list(upcoming[:100]), "page": page, "today": today}
    return render(request, "mediation/screening/sessions.html", context, status=422 if form.errors else 200)


def _names(parties: str) -> list[str]:
    return [n.strip() for n in re.split(r"[\n,，、;；/]+", parties or "") if n.strip()]


def _finding_forms(findings, *, bound_key="", bound_form=None, staff=None, places=()):
    """The three ways to handle each open finding (prefixed per finding); `bound_form` replaces the
    one named `bound_key` (the one that was posted, with its errors)."""
    for f in findings:
        if f.outcome != FindingOutcome.OPEN:
            continue
        names = _names(f.parties)
        case_key, task_key, close_key = f"case-{f.pk}", f"task-{f.pk}", f"close-{f.pk}"
        f.case_form = forms.FindingCaseForm(
            prefix=case_key,
            places=places,
            initial={
                "title": f.description[:40],
                "dispute_type": f.dispute_type,
                "place": f.place_id,
                "facts": f.description,
                "applicant": names[0] if names else "",
                "respondent": names[1] if len(names) > 1 else "",
                "risk_flag": f.level == RiskLevel.HIGH,
            },
        )
        f.task_form = forms.FindingTaskForm(
            prefix=task_key,
            owners=staff,
            initial={"title": f.description[:100]},
        )
        f.close_form = forms.CloseFindingForm(prefix=close_key)
        f.open_form = ""
        for key, attr in ((case_key, "case_form"), (task_key, "task_form"), (close_key, "close_form")):
            if bound_key == key and bound_form is not None:
                setattr(f, attr, bound_form)
                f.open_form = key.split("-")[0]


def _render_session(request, session, *, bound_key="", bound_form=None, status=200):
    user = request.user
    findings = list(services.session_findings(session))
    staff = list(services.staff_for(session.path))
    places = services.finding_places(session) if session.state == ScreeningState.HELD else []
    _finding_forms(findings, bound_key=bound_key, bound_form=bound_form, staff=staff, places=places)
    context = {
        "session": session,
        "findings": findings,
        "hold_form": forms.HoldForm(
            staff=staff, initial={"held_at": timezone.localtime().replace(second=0, microsecond=0)}
        ),
        "cancel_form": forms.CancelForm(),
        "finding_form": forms.FindingForm(places=places, initial={"place": session.place_id}),
        "counts": {o: sum(1 for f in findings if f.outcome == o) for o in FindingOutcome.values},
        "outcomes": FindingOutcome,
        "may_act": services.may_work(user, session.path),
    }
    if bound_form is not None and bound_key in context:
        context[bound_key] = bound_form
    return render(request, "mediation/screening/session.html", context, status=status)


@login_required
def screening(request, session_id):
    session = services.get_session_for_user(request.user, session_id)
    return _render_session(request, session)


def _act(request, session, key, form, call):
    """Run one posted session form: on bad input the page again with the form's errors (422)."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        except (Conflict, TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
            return redirect("mediation:screening", session_id=session.pk)
        else:
            messages.success(request, _("Saved."))
            return redirect("mediation:screening", session_id=session.pk)
    return _render_session(request, session, bound_key=key, bound_form=form, status=422)


def _check_session_action(request, session, transition: str) -> None:
    try:
        screening_workflow.check(session, transition, request.user)
    except TransitionNotAllowed:
        if session.state in screening_workflow[transition].sources:
            raise PermissionDenied from None


@login_required
@require_POST
def screening_hold(request, session_id):
    session = services.get_session_for_user(request.user, session_id)
    _check_session_action(request, session, "hold")
    form = forms.HoldForm(request.POST, staff=services.staff_for(session.path))
    return _act(
        request,
        session,
        "hold_form",
        form,
        lambda d: services.record_screening(
            request.user,
            session,
            held_at=d["held_at"],
            participants=d["participants"],
            summary=d["summary"],
            staff=list(d["staff"]),
        ),
    )


@login_required
@require_POST
def screening_cancel(request, session_id):
    session = services.get_session_for_user(request.user, session_id)
    _check_session_action(request, session, "cancel")
    form = forms.CancelForm(request.POST)
    return _act(
        request,
        session,
        "cancel_form",
        form,
        lambda d: services.cancel_screening(request.user, session, reason=d["reason"]),
    )


@login_required
@require_POST
def finding_add(request, session_id):
    session = services.get_session_for_user(request.user, session_id)
    if not services.may_work(request.user, session.path):
        raise PermissionDenied
    if session.state != ScreeningState.HELD:
        messages.error(request, _("Findings are added to a session once it has been held."))
        return redirect("mediation:screening", session_id=session.pk)
    form = forms.FindingForm(request.POST, places=services.finding_places(session))
    return _act(
        request,
        session,
        "finding_form",
        form,
        lambda d: services.add_finding(
            request.user,
            session,
            place=d["place"],
            dispute_type=d["dispute_type"],
            level=d["level"],
            description=d["description"],
            parties=d["parties"],
        ),
    )


@login_required
@require_POST
def finding_case(request, session_id, finding_id):
    session = services.get_session_for_user(request.user, session_id)
    finding = services.get_finding(session, finding_id)
    key = f"case-{finding.pk}"
    form = forms.FindingCaseForm(request.POST, prefix=key, places=services.finding_places(session))
    return _act(
        request,
        session,
        key,
        form,
        lambda d: services.finding_to_case(
            request.user,
            finding,
            title=d["title"],
            facts=d["facts"],
            parties=form.parties(),
            dispute_type=d["dispute_type"],
            place=d["place"],
            risk_flag=d["risk_flag"],
        ),
    )


@login_required
@require_POST
def finding_task(request, session_id, finding_id):
    session = services.get_session_for_user(request.user, session_id)
    finding = services.get_finding(session, finding_id)
    key = f"task-{finding.pk}"
    form = forms.FindingTaskForm(request.POST, prefix=key, owners=services.staff_for(session.path))
    return _act(
        request,
        session,
        key,
        form,
        lambda d: services.finding_to_task(
            request.user, finding, kind=d["kind"], title=d["title"], due_on=d["due_on"], owner=d["owner"]
        ),
    )


@login_required
@require_POST
def finding_close(request, session_id, finding_id):
    session = services.get_session_for_user(request.user, session_id)
    finding = services.get_finding(session, finding_id)
    key = f"close-{finding.pk}"
    form = forms.CloseFindingForm(request.POST, prefix=key)
    return _act(
        request, session, key, form, lambda d: services.close_finding(request.user, finding, note=d["note"])
    )


# --- legal consultations ----------------------------------------------------------------------------------
LAST_PLACE = "mediation_consultation_place"


@login_required
def consultations(request):
    _need_scope(request.user)
    user = request.user
    places = services.places_for(user)
    me_lawyer = services.is_lawyer(user)
    lawyers = list(services.lawyers_in_scope(user))
    initial = {"place": request.session.get(LAST_PLACE) or (places[0].pk if places else None)}
    form = forms.ConsultationForm(
        request.POST or None, places=places, lawyers=lawyers, me_lawyer=me_lawyer, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.log_consultation(
                user,
                place=d["place"],
                asked_at=d["asked_at"],
                topic=d["topic"],
                anonymous=d["anonymous"],
                asker_name=d["asker_name"],
                question=d["question"],
                lawyer=d["lawyer"],
                answer=d["answer"],
                referral=d["referral"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            request.session[LAST_PLACE] = d["place"].pk
            messages.success(request, _("Consultation logged."))
            return redirect(request.get_full_path())
    filters = forms.ConsultationFilterForm(request.GET or None)
    month, topic = None, ""
    if filters.is_valid():
        month, topic = filters.cleaned_data["month"], filters.cleaned_data["topic"]
    qs = services.list_consultations_for_user(user, month=month, topic=topic)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in request.GET.items() if k != "page" and v)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": query,
        "counts": services.consultation_counts(qs),
        "me_lawyer": me_lawyer,
    }
    return render(
        request, "mediation/screening/consultations.html", context, status=422 if form.errors else 200
    )


# --- prevention tasks -------------------------------------------------------------------------------------
def _render_tasks(request, *, bound_key="", bound_form=None, status=200):
    from .services import cases

    user = request.user
    tasks = list(services.list_tasks_for_user(user))
    if not tasks and services.work_scope(user).is_empty:
        raise PermissionDenied
    today = timezone.localdate()
    soon = today + timedelta(days=selectors.rules().due_soon_days)
    for t in tasks:
        t.overdue = t.due_on < today
        t.due_soon = not t.overdue and t.due_on <= soon
        t.may_change = cases.may_change_task(user, t)
        finish_key, cancel_key = f"finish-{t.pk}", f"cancel-{t.pk}"
        t.finish_form = forms.FinishTaskForm(prefix=finish_key)
        t.cancel_form = forms.CancelTaskForm(prefix=cancel_key)
        t.open_form = ""
        if bound_form is not None and bound_key in (finish_key, cancel_key):
            t.open_form = bound_key.split("-")[0]
            setattr(t, f"{t.open_form}_form", bound_form)
    context = {"tasks": tasks, "overdue": sum(1 for t in tasks if t.overdue), "today": today}
    return render(request, "mediation/screening/tasks.html", context, status=status)


@login_required
def tasks(request):
    return _render_tasks(request)


def _task_act(request, task_id, which):
    from .services import cases

    task = services.get_task_for_user(request.user, task_id)
    key = f"{which}-{task.pk}"
    form = (forms.FinishTaskForm if which == "finish" else forms.CancelTaskForm)(request.POST, prefix=key)
    if form.is_valid():
        try:
            if which == "finish":
                cases.finish_task(request.user, task, note=form.cleaned_data["note"])
            else:
                cases.cancel_task(request.user, task, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _errors(form, exc)
            return _render_tasks(request, bound_key=key, bound_form=form, status=422)
        except (Conflict, TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Task done.") if which == "finish" else _("Task cancelled."))
        return redirect("mediation:tasks")
    return _render_tasks(request, bound_key=key, bound_form=form, status=422)


@login_required
@require_POST
def task_finish(request, task_id):
    return _task_act(request, task_id, "finish")


@login_required
@require_POST
def task_cancel(request, task_id):
    return _task_act(request, task_id, "cancel")


urlpatterns = [
    path("screening/", screenings, name="screenings"),
    path("screening/<int:session_id>/", screening, name="screening"),
    path("screening/<int:session_id>/hold/", screening_hold, name="screening_hold"),
    path("screening/<int:session_id>/cancel/", screening_cancel, name="screening_cancel"),
    path("screening/<int:session_id>/findings/", finding_add, name="finding_add"),
    path("screening/<int:session_id>/findings/<int:finding_id>/case/", finding_case, name="finding_case"),
    path("screening/<int:session_id>/findings/<int:finding_id>/task/", finding_task, name="finding_task"),
    path("screening/<int:session_id>/findings/<int:finding_id>/close/", finding_close, name="finding_close"),
    path("consultations/", consultations, name="consultations"),
    path("tasks/", tasks, name="tasks"),
    path("tasks/<int:task_id>/finish/", task_finish, name="task_finish"),
    path("tasks/<int:task_id>/cancel/", task_cancel, name="task_cancel"),
]
