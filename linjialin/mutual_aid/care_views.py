"""The care list (关爱走访) pages: the 楼门长's / 网格员's list (phone-first: big rows, overdue first) and
a care household's page (its consented sensitive tags, its visits, the plan and record forms).

Who: `mutual_aid.care` (care_selectors). The list page to someone without that permission anywhere: 403;
a household outside the scope or not on the list: 404. Every view is audited (services.care)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict

from . import care_selectors as selectors
from .services import care as services


class PlanForm(forms.Form):
    planned_on = forms.DateField(
        label=gettext_lazy("Visit on"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    visitor = forms.ModelChoiceField(
        label=gettext_lazy("Visitor"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("me"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, visitors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visitor"].queryset = visitors
        self.fields["visitor"].label_from_instance = lambda u: u.display_name


class RecordForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("How did the visit go?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    done_at = forms.DateTimeField(
        label=gettext_lazy("Visited at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}),
        help_text=gettext_lazy("Leave empty for now."),
    )


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@login_required
def care(request):
    user = request.user
    if selectors.care_scope(user).is_empty:
        raise PermissionDenied
    today = timezone.localdate()
    query = request.GET.get("q", "").strip()[: selectors.CARE_QUERY_MAX]
    found = selectors.care_page_for_user(user, query=query, page=request.GET.get("page"), today=today)
    services.record_care_list_view(user, rows=len(found.rows))
    context = {
        "rows": found.rows,
        "page": found.page,
        "total": found.total,
        "overdue": found.overdue,
        "query": query,
        "today": today,
    }
    return render(request, "mutual_aid/care/list.html", context)


def _render_household(request, row, *, plan_form=None, record_form=None, status=200):
    household = row.household
    services.record_care_household_view(request.user, household)  # every page showing the tags
    visits = list(selectors.visits_of(household))
    visitors = selectors.visitors_for(household)
    context = {
        "row": row,
        "household": household,
        "visits": visits,
        "plan_form": plan_form or PlanForm(visitors=visitors, initial={"planned_on": timezone.localdate()}),
        "record_form": record_form or RecordForm(),
        "today": timezone.localdate(),
    }
    return render(request, "mutual_aid/care/household.html", context, status=status)


@login_required
def care_household(request, household_id):
    row = selectors.get_care_household_for_user(request.user, household_id)
    return _render_household(request, row)


@login_required
@require_POST
def care_plan(request, household_id):
    row = selectors.get_care_household_for_user(request.user, household_id)
    form = PlanForm(request.POST, visitors=selectors.visitors_for(row.household))
    if form.is_valid():
        try:
            services.plan_visit(
                request.user,
                household=row.household,
                planned_on=form.cleaned_data["planned_on"],
                visitor=form.cleaned_data["visitor"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Visit planned."))
            return redirect("mutual_aid:care_household", household_id=row.household.pk)
    return _render_household(request, row, plan_form=form, status=422)


@login_required
@require_POST
def care_record(request, household_id):
    """Record the next planned visit (`visit` posted), or a visit made without a plan."""
    row = selectors.get_care_household_for_user(request.user, household_id)
    form = RecordForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        visit_id = request.POST.get("visit")
        try:
            if visit_id:
                visit = selectors.get_visit_for_user(request.user, visit_id)
                if visit.household_id != row.household.pk:
                    raise PermissionDenied
                services.record_visit(request.user, visit, note=d["note"], done_at=d["done_at"])
            else:
                services.record_unplanned_visit(
                    request.user, household=row.household, note=d["note"], done_at=d["done_at"]
                )
        except ValidationError as exc:
            _errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("mutual_aid:care_household", household_id=row.household.pk)
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("mutual_aid:care_household", household_id=row.household.pk)
    return _render_household(request, row, record_form=form, status=422)


urlpatterns = [
    path("care/", care, name="care"),
    path("care/<int:household_id>/", care_household, name="care_household"),
    path("care/<int:household_id>/plan/", care_plan, name="care_plan"),
    path("care/<int:household_id>/record/", care_record, name="care_record"),
]
