"""The mutual aid figures page (`mutual_aid:figures`, /mutual-aid/figures/): for the holders of
mutual_aid.view_figures (community secretary, subdistrict staff) over their places — a row per community
(a subdistrict) or per entrance (a community), and the total, for a period of local dates. Counts only.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core.scope import scope_for
from linjialin.places.models import Level, Place

from . import figures

PERM = "mutual_aid.view_figures"
MAX_DAYS = 3 * 366


def figure_places(user):
    """The subdistricts and communities whose figures the user may see."""
    scope = scope_for(user, PERM)
    if scope.is_empty:
        return Place.objects.none()
    return Place.objects.filter(scope.q(), level__in=[Level.SUBDISTRICT, Level.COMMUNITY]).order_by("path")


class FiguresForm(forms.Form):
    place = forms.ModelChoiceField(
        label=gettext_lazy("Place"), queryset=Place.objects.none(), empty_label=None
    )
    start = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date like 2026-11-01.")},
    )
    end = forms.DateField(
        label=gettext_lazy("Up to (not including)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date like 2026-12-01.")},
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["place"].widget.attrs["class"] = "form-select form-select-lg"
        for name in ("start", "end"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-lg"

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                self.add_error("end", _("The end must be after the start."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("Choose a period of at most three years."))
        return data


COLUMNS = (
    ("posts", gettext_lazy("Posts")),
    ("needs", gettext_lazy("Needs")),
    ("offers", gettext_lazy("Offers")),
    ("median_response_minutes", gettext_lazy("Median minutes to first response")),
    ("fulfilled_rate", gettext_lazy("Fulfilled")),
    ("helpers", gettext_lazy("Helpers")),
    ("responders", gettext_lazy("Neighbours who offered help")),
    ("chains", gettext_lazy("Passed on")),
)


def _cells(values: dict) -> list[str]:
    out = []
    for key, _label in COLUMNS:
        v = values[key]
        if key == "fulfilled_rate":
            out.append(figures.rate_text(v))
        elif v is None:
            out.append("—")
        else:
            out.append(str(v))
    return out


@login_required
def figure_page(request):
    places = figure_places(request.user)
    first = places.first()
    if first is None:
        raise PermissionDenied
    today = timezone.localdate()
    month = today.replace(day=1)
    initial = {"place": first, "start": month, "end": (month + timedelta(days=32)).replace(day=1)}
    form = FiguresForm(request.GET if request.GET else None, initial=initial, places=places)
    if form.is_bound:
        valid = form.is_valid()
        chosen = form.cleaned_data if valid else {}
    else:
        valid, chosen = True, initial
    table, total = [], None
    if valid:
        rows, total_row = figures.rows(chosen["place"], chosen["start"], chosen["end"])
        table = [(r.label, _cells(r.figures)) for r in rows]
        total = (total_row.label, _cells(total_row.figures), total_row.figures)
    return render(
        request,
        "mutual_aid/figures/figures.html",
        {
            "form": form,
            "columns": [label for _k, label in COLUMNS],
            "table": table,
            "total": total,
            "chosen": chosen,
            "by_entrance": valid and chosen["place"].level != Level.SUBDISTRICT,
        },
        status=200 if valid else 422,
    )


urlpatterns = [path("figures/", figure_page, name="figures")]
