"""The staff three-rates table (issue 3 §4, §5): 响应率, 解决率, 满意率, the sign-off and completion rates
and the composite score at a place, per child place, per handling level and per handling unit, for a
period; with the counts behind each rate, the formulas and weights, and CSV / xlsx exports.

Permission is the rates API's rule: the place must lie in the user's requests.view scope (else 404);
a user with no requests.view anywhere gets 403. Only the requests that scope reaches are counted.
Definitions: docs/rates.md; computation: metrics.rates_table (a fixed number of queries).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import scope_for
from linjialin.places.models import Place
from linjialin.places.selectors import get_place_for_user, top_places_for_user

from . import callbacks, metrics

PERIOD_CHOICES = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_quarter", _("This quarter")),
    ("custom", _("Custom dates")),
]


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=PERIOD_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("Choose a period from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        messages = {"invalid": _("Enter a date like 2026-11-30.")}
        widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(
            label=_("From (custom dates)"), required=False, widget=widget, error_messages=messages
        )
        self.fields["to"] = forms.DateField(
            label=_("To, inclusive (custom dates)"), required=False, widget=widget, error_messages=messages
        )
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "period" else "form-control"

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "this_month"
        if data["period"] == "custom" and not self.errors:
            for name in ("from", "to"):
                if not data.get(name):
                    self.add_error(name, _("A custom period needs both days."))
        return data

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"


def _place(user, place_id):
    """The place asked for (404 outside the requests.view scope), or the user's first top place."""
    if place_id:
        return get_place_for_user(user, place_id, "requests.view")
    tops = top_places_for_user(user, "requests.view")
    if not tops:
        raise Http404
    return tops[0]


@login_required
def rates(request):
    user = request.user
    if scope_for(user, "requests.view").is_empty:
        raise PermissionDenied
    place = _place(user, request.GET.get("place"))
    form = PeriodForm(request.GET)
    context = {"place": place, "form": form, "crumbs": _crumbs(user, place)}
    if not form.is_valid():
        form.mark_invalid()
        return render(request, "service_requests/rates.html", context, status=422)
    data = form.cleaned_data
    first, last = metrics.period_days(data["period"], timezone.localdate(), data.get("from"), data.get("to"))
    instants = metrics.period_instants(first, last)
    table = metrics.rates_table(user, place, instants)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in metrics.EXPORT_FORMATS:
            raise Http404
        content, content_type, filename = metrics.export_rates(user, table, fmt=fmt, first=first, last=last)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    params = {"period": data["period"]}
    if data["period"] == "custom":
        params.update({"from": first.isoformat(), "to": last.isoformat()})
    context.update(
        table=table,
        first=first,
        last=last,
        query=urlencode(params),
        columns=[metrics.rate_names(table.rules)[key] for key in table.keys],
        definitions=metrics.definitions(table.rules),
        others=[p for p in top_places_for_user(user, "requests.view") if p.pk != place.pk][:20],
        callbacks=callbacks.summary_for_place(user, place, *instants),
    )
    return render(request, "service_requests/rates.html", context)


def _crumbs(user, place) -> list[tuple[Place, bool]]:
    """The place's ancestors from the top, linked where the user's requests.view scope covers them."""
    scope = scope_for(user, "requests.view")
    ancestors = {p.path: p for p in Place.objects.filter(path__in=place.ancestor_paths[:-1])}
    return [(ancestors[p], scope.covers(p)) for p in place.ancestor_paths[:-1] if p in ancestors]
