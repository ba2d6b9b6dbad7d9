from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PlaceLevel

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": _("Enter a date like 2026-11-30.")}


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


class LevelForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Where"), choices=[("", _("all levels")), *PlaceLevel.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, empty_label=None)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE, error_messages=DATE_ERRORS)
    note = forms.CharField(
        label=_("What will be done"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda u: u.display_name or u.get_username()
        _style(self)


class TaskActionForm(forms.Form):
    result = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ThemeForm(forms.Form):
    place = forms.ModelChoiceField(label=_("Place"), queryset=None, empty_label=None)
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Enter a month like 2026-11.")},
    )
    title = forms.CharField(label=_("Theme"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        from linjialin.places.models import Place

        self.fields["place"].queryset = Place.objects.filter(pk__in=[p.pk for p in places]).order_by("path")
        _style(self)


class ProblemForm(forms.Form):
    hotspot = forms.TypedChoiceField(label=_("From a hotspot"), coerce=int, required=False, empty_value=None)
    title = forms.CharField(label=_("Or enter the problem"), max_length=200, required=False)
    text = forms.CharField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, hotspots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hotspot"].choices = [("", _("— none —"))] + [
            (h.pk, f"{h.place_label} · {h.label} ({h.count})") for h in hotspots
        ]
        _style(self)


class PolicyForm(forms.Form):
    title = forms.CharField(label=_("Policy"), max_length=200)
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class AttachForm(forms.Form):
    problem = forms.TypedChoiceField(label=_("Problem"), coerce=int)
    task = forms.TypedChoiceField(label=_("Task"), coerce=int)

    def __init__(self, *args, problems=(), tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["problem"].choices = [(p.pk, p.title) for p in problems]
        self.fields["task"].choices = [(t.pk, f"{t.title} · {t.get_state_display()}") for t in tasks]
        _style(self)


class ReportForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Enter a month like 2026-11.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
