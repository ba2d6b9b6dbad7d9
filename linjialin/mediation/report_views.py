"""The centre's documents and figures on the web: the agreement (PDF, .docx), the court filing pack, and the
monthly/yearly report (a page with the figures, downloads as xlsx and PDF).

Views parse, call one service (services/exports.py) or read (report.build), and render. A case the user
may not see answers 404 (selectors.get_case_for_user); a visible case where the action is not allowed 403.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core.scope import scope_for
from linjialin.places.models import Level, Place

from . import report, selectors
from .services import exports


def _download(name: str, data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- the agreement and the filing pack ------------------------------------------------------------------
class IdentityReasonForm(forms.Form):
    """Why the parties' full identity leaves (the filing pack, the signing copy): recorded in the audit."""

    reason = forms.CharField(
        label=gettext_lazy("Why are you exporting the parties' identity?"),
        max_length=500,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Give the reason for exporting the parties' identity.")},
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _agreement(request, case_id: int, fmt: str):
    """GET: the agreement, numbers masked. The signing copy (full identity) is a POST with a reason, as
    the filing pack (DESIGN §6: who, whose, when, why); a GET with ?identity=full gets the form. 403
    without the permission."""
    case = selectors.get_case_for_user(request.user, case_id)  # 404 when missing or not visible
    if request.method == "POST" or request.GET.get("identity") == "full":
        return _signing_copy(request, case, fmt)
    try:
        name, data, content_type = exports.export_agreement(request.user, case, fmt=fmt)
    except ValidationError as exc:  # no agreement recorded
        for m in exc.messages:
            messages.error(request, m)
        return redirect("mediation:case", case_id=case.pk)
    return _download(name, data, content_type)


def _signing_copy(request, case, fmt: str):
    if not exports.may_export_signing_copy(request.user, case):
        raise PermissionDenied
    form = IdentityReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            name, data, content_type = exports.export_agreement(
                request.user, case, fmt=fmt, full=True, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _download(name, data, content_type)
    return render(
        request,
        "mediation/reports/signing_copy.html",
        {"case": case, "form": form, "fmt": fmt},
        status=422 if form.errors else 200,
    )


@login_required
def agreement_pdf(request, case_id):
    return _agreement(request, case_id, "pdf")


@login_required
def agreement_docx(request, case_id):
    return _agreement(request, case_id, "docx")


@login_required
def filing_pack(request, case_id):
    """GET: the form asking for the reason; POST: the zip. 403 without mediation.export_sensitive."""
    case = selectors.get_case_for_user(request.user, case_id)
    if not exports.may_export_filing_pack(request.user, case):
        raise PermissionDenied
    form = IdentityReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            name, data, content_type = exports.export_filing_pack(
                request.user, case, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _download(name, data, content_type)
    return render(
        request,
        "mediation/reports/filing_pack.html",
        {"case": case, "form": form},
        status=422 if form.errors else 200,
    )


# --- the figures ---------------------------------------------------------------------------------------
def figure_places(user):
    """The subdistricts and communities whose figures the user may see (view_figures or manage)."""
    scope = scope_for(user, "mediation.view_figures") | scope_for(user, "mediation.manage")
    if scope.is_empty:
        return Place.objects.none()
    return Place.objects.filter(scope.q(), level__in=[Level.SUBDISTRICT, Level.COMMUNITY]).order_by("path")


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Monthly or yearly"),
        choices=[("month", gettext_lazy("monthly")), ("year", gettext_lazy("yearly"))],
        initial="month",
    )
    month = forms.DateField(
        label=gettext_lazy("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": gettext_lazy("Enter a month like 2026-11.")},
    )
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False, min_value=2000, max_value=2100)
    place = forms.ModelChoiceField(
        label=gettext_lazy("Place"), queryset=Place.objects.none(), empty_label=None
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        for f in self.fields.values():
            f.widget.attrs.setdefault(
                "class", "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "year":
            if not data.get("year"):
                self.add_error("year", _("Enter the year, like 2026."))
            else:
                data["period"] = report.Period.parse(str(data["year"]))
        elif data.get("kind") == "month":
            if not data.get("month"):
                if "month" not in self.errors:
                    self.add_error("month", _("Enter a month like 2026-11."))
            else:
                data["period"] = report.Period.parse(data["month"].strftime("%Y-%m"))
        return data


def _report_form(request):
    places = figure_places(request.user)
    first = places.first()
    if first is None:
        raise PermissionDenied
    today = timezone.localdate()
    initial = {"kind": "month", "month": today.replace(day=1), "year": today.year, "place": first}
    params = request.GET if request.GET.get("kind") else None
    return ReportForm(params, initial=initial, places=places)


@login_required
def reports(request):
    """The figures on a page: the headline (sessions, consultations, resolved, success rate), then each
    group as a table with a row per community and the total."""
    form = _report_form(request)
    if form.is_bound:
        valid = form.is_valid()
        place = form.cleaned_data.get("place") if valid else None
        period = form.cleaned_data.get("period") if valid else None
    else:
        valid, place, period = (
            True,
            form.initial["place"],
            report.Period.parse(form.initial["month"].strftime("%Y-%m")),
        )
    data = report.build(place, period) if valid else None
    query = urlencode({"kind": period.kind, "period": period.key, "place": place.pk}) if valid else ""
    return render(
        request,
        "mediation/reports/index.html",
        {
            "form": form,
            "data": data,
            "tables": data.tables() if data else [],
            "definitions": report.definitions(),
            "query": query,
        },
        status=200 if valid else 422,
    )


@login_required
def report_download(request):
    """GET ?period=2026-11|2026&place=<id>&fmt=xlsx|pdf → the file (exports.export_report, audited)."""
    places = figure_places(request.user)
    if not places.exists():
        raise PermissionDenied
    place = (
        places.filter(pk=request.GET.get("place") or 0).first()
        if (request.GET.get("place") or "").isdigit()
        else None
    )
    if place is None:
        return HttpResponse(_("Choose a place."), status=422, content_type="text/plain; charset=utf-8")
    try:
        name, data, content_type = exports.export_report(
            request.user, place, period=request.GET.get("period", ""), fmt=request.GET.get("fmt", "")
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=422, content_type="text/plain; charset=utf-8")
    return _download(name, data, content_type)


urlpatterns = [
    path("cases/<int:case_id>/agreement.pdf", agreement_pdf, name="agreement_pdf"),
    path("cases/<int:case_id>/agreement.docx", agreement_docx, name="agreement_docx"),
    path("cases/<int:case_id>/filing-pack.zip", filing_pack, name="filing_pack"),
    path("reports/", reports, name="reports"),
    path("reports/download", report_download, name="report_download"),
]
