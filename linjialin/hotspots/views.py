"""Hotspot boards (subdistrict, community, grid), 立项 and the proactive tasks, 每月一题 and its report.

Who sees what: a board, a hotspot, a task or a theme needs requests.view over its place (else 404).
立项 needs requests.supervise or requests.handle over the hotspot's place (else 403); themes are kept
by requests.supervise holders at a subdistrict or community (else 403). Writes: services.py.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict
from linjialin.core.workflow import TransitionNotAllowed

from . import forms, report, selectors, services
from .models import TaskState, ThemeProblem
from .workflow import workflow


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def chart_option(trend: list) -> dict:
    """The ECharts option of a hotspot's trend line (drawn by static/linjialin/hotspots.js)."""
    return {
        "animation": False,
        "grid": {"left": 32, "right": 12, "top": 12, "bottom": 28},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [d[5:] for d, _n in trend], "axisLabel": {"fontSize": 11}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "line", "data": [n for _d, n in trend], "symbolSize": 6}],
    }


# --- boards -----------------------------------------------------------------------------------------------
@login_required
def index(request):
    places = selectors.board_places(request.user)
    if len(places) == 1:
        return redirect("hotspots:board", place_id=places[0].pk)
    return render(request, "hotspots/index.html", {"places": places})


@login_required
def board(request, place_id):
    place = selectors.board_place(request.user, place_id)
    form = forms.LevelForm(request.GET or None)
    level = form.cleaned_data["level"] if form.is_valid() else ""
    hotspots = selectors.board_hotspots(request.user, place, level)
    tasks = selectors.board_tasks(request.user, place)
    taken = selectors.tasks_by_request(tasks)
    may_create = services.may_create_task(request.user, place.path)
    rows = []
    for h in hotspots:
        task = next((taken[pk] for pk in h.request_ids if pk in taken), None)
        rows.append(
            {
                "h": h,
                "growth": None if h.growth is None else round(h.growth * 100),
                "task": task,
                "may_create": may_create or services.may_create_task(request.user, h.path),
            }
        )
    charts = {str(h.pk): chart_option(h.trend) for h in hotspots}
    context = {
        "place": place,
        "form": form,
        "rows": rows,
        "charts": charts,
        "tasks": tasks,
        "run": selectors.latest_run(),
        "window_days": selectors.rules().window_days,
    }
    return render(request, "hotspots/board.html", context)


# --- 立项 and tasks ------------------------------------------------------------------------------------
@login_required
def create_task(request, hotspot_id):
    hotspot = selectors.get_hotspot(request.user, hotspot_id)
    if not services.may_create_task(request.user, hotspot.path):
        raise PermissionDenied
    owners = selectors.owners_for(hotspot.path)
    initial = {"title": hotspot.label, "deadline": timezone.localdate() + timedelta(days=30)}
    form = forms.TaskForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task(
                request.user,
                hotspot,
                title=data["title"],
                owner=data["owner"],
                deadline=data["deadline"],
                note=data["note"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Task created."))
            return redirect("hotspots:task", task_id=task.pk)
    return render(
        request,
        "hotspots/task_form.html",
        {"hotspot": hotspot, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
def task(request, task_id):
    t = selectors.get_task(request.user, task_id)
    form = forms.TaskActionForm()
    context = {
        "task": t,
        "linked": selectors.task_requests(request.user, t),
        "actions": workflow.available(t, request.user),
        "form": form,
        "window_days": selectors.rules().window_days,
    }
    return render(request, "hotspots/task.html", context)


@login_required
@require_POST
def task_act(request, task_id):
    t = selectors.get_task(request.user, task_id)
    name = request.POST.get("action", "")
    if name not in {tr.name for tr in workflow.transitions}:
        raise Http404
    form = forms.TaskActionForm(request.POST)
    form.is_valid()
    try:
        services.move_task(
            request.user,
            t,
            name,
            result=form.cleaned_data.get("result", ""),
            reason=form.cleaned_data.get("reason", ""),
        )
    except TransitionNotAllowed as exc:
        if t.state in workflow[name].sources:
            raise PermissionDenied(str(exc)) from None
        messages.error(request, str(exc))
    except (ValidationError, Conflict) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("Saved."))
    return redirect("hotspots:task", task_id=t.pk)


# --- 每月一题 ---------------------------------------------------------------------------------------------
@login_required
def themes(request):
    qs = selectors.themes_for(request.user).prefetch_related("problems__tasks", "policies")
    places = selectors.theme_places(request.user)
    if not selectors.may_see_themes(request.user, places):
        raise Http404
    return render(
        request,
        "hotspots/themes.html",
        {
            "themes": qs[:60],
            "may_edit": bool(places),
            "report_form": forms.ReportForm(initial={"month": timezone.localdate()}),
        },
    )


@login_required
def theme_edit(request, theme_id=None):
    theme = selectors.get_theme(request.user, theme_id) if theme_id else None
    places = selectors.theme_places(request.user)
    if not places or (theme and not services.may_keep_themes(request.user, theme.place)):
        raise PermissionDenied
    initial = {"month": timezone.localdate(), "place": places[0]}
    if theme:
        initial = {
            "month": theme.month,
            "place": theme.place,
            "title": theme.title,
            "description": theme.description,
        }
    form = forms.ThemeForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            theme = services.save_theme(
                request.user,
                theme,
                place=d["place"],
                month=d["month"],
                title=d["title"],
                description=d["description"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Theme saved."))
            return redirect("hotspots:theme", theme_id=theme.pk)
    return render(
        request,
        "hotspots/theme_form.html",
        {"theme": theme, "form": form},
        status=422 if form.errors else 200,
    )


def _theme_forms(user, theme, data=None, which=""):
    hotspots = selectors.board_hotspots(user, theme.place)[:30]
    problems = list(theme.problems.all())
    tasks = list(selectors.tasks_for(user, theme.place).exclude(state=TaskState.CANCELLED)[:100])
    return {
        "problem_form": forms.ProblemForm(data if which == "problem" else None, hotspots=hotspots),
        "policy_form": forms.PolicyForm(data if which == "policy" else None),
        "attach_form": forms.AttachForm(data if which == "attach" else None, problems=problems, tasks=tasks),
        "hotspots": {h.pk: h for h in hotspots},
    }


@login_required
def theme(request, theme_id):
    t = selectors.get_theme(request.user, theme_id)
    may_edit = services.may_keep_themes(request.user, t.place)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    if request.method == "POST" and not may_edit:
        raise PermissionDenied
    ctx = _theme_forms(request.user, t, request.POST, which)
    if request.method == "POST":
        try:
            if which == "problem" and ctx["problem_form"].is_valid():
                d = ctx["problem_form"].cleaned_data
                hotspot = ctx["hotspots"].get(d["hotspot"]) if d["hotspot"] else None
                if d["hotspot"] and hotspot is None:
                    raise ValidationError({"hotspot": _("Choose a hotspot from the list.")})
                services.add_problem(request.user, t, title=d["title"], text=d["text"], hotspot=hotspot)
                return redirect("hotspots:theme", theme_id=t.pk)
            if which == "policy" and ctx["policy_form"].is_valid():
                d = ctx["policy_form"].cleaned_data
                services.add_policy(request.user, t, title=d["title"], text=d["text"], link=d["link"])
                return redirect("hotspots:theme", theme_id=t.pk)
            if which == "attach" and ctx["attach_form"].is_valid():
                d = ctx["attach_form"].cleaned_data
                problem = get_object_or_404(ThemeProblem, pk=d["problem"], theme=t)
                task_ = selectors.get_task(request.user, d["task"])
                services.attach_task(request.user, problem, task_)
                return redirect("hotspots:theme", theme_id=t.pk)
            if which == "remove":
                problem = get_object_or_404(ThemeProblem, pk=request.POST.get("problem"), theme=t)
                services.remove_problem(request.user, problem)
                return redirect("hotspots:theme", theme_id=t.pk)
        except ValidationError as exc:
            form = ctx.get(f"{which}_form")
            if form is not None:
                _errors(form, exc)
            else:
                for m in exc.messages:
                    messages.error(request, m)
    status = 422 if request.method == "POST" else 200
    context = {"theme": t, "may_edit": may_edit, "progress": report.theme_progress(t), **ctx}
    return render(request, "hotspots/theme.html", context, status=status)


@login_required
def monthly_report(request, fmt):
    if fmt not in ("xlsx", "pdf"):
        raise Http404
    form = forms.ReportForm(request.GET or None)
    if not form.is_valid():
        return HttpResponse(
            _("Enter a month like 2026-11."), status=422, content_type="text/plain; charset=utf-8"
        )
    month = form.cleaned_data["month"].replace(day=1)
    themes_ = list(
        selectors.themes_for(request.user).filter(month=month).prefetch_related("problems__tasks", "policies")
    )
    places = selectors.board_places(request.user)
    if not places:
        raise Http404
    data = report.build(themes_, month)
    body, content_type = (
        (report.xlsx(data), report.XLSX) if fmt == "xlsx" else (report.pdf(data), "application/pdf")
    )
    services.record_export(request.user, month=month, place=places[0], fmt=fmt, themes=len(themes_))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="monthly-report-{month:%Y-%m}.{fmt}"'
    return response
