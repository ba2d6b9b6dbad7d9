"""Forms of the screening, consultation and prevention-task pages (parse input only; the rules are in
services/screening.py and services/cases.py)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linjialin.accounts.models import User
from linjialin.places.models import Place

from .models import DisputeType, RiskLevel, TaskKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
DATE_ERRORS = {"invalid": _("Enter a date like 2026-11-30.")}
DATETIME_ERRORS = {"invalid": _("Enter a date and time like 2026-11-30 14:30.")}
MONTH_ERRORS = {"invalid": _("Enter a month like 2026-11.")}


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )


def _fix_choices(field, objects, label=str) -> None:
    """A model choice field over an already evaluated list: the queryset (by pk) validates a posted
    value, the fixed choices render without a query per form (a page shows a form per finding)."""
    objects = list(objects or ())
    field.queryset = field.queryset.model._default_manager.filter(pk__in=[o.pk for o in objects])
    blank = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = blank + [(o.pk, label(o)) for o in objects]


def _place_field(label):
    return forms.ModelChoiceField(label=label, queryset=Place.objects.none(), empty_label=None)


def _user_label(user) -> str:
    return user.display_name or user.get_username()


def _place_label(place) -> str:
    return place.name


def _datetime(label):
    return forms.DateTimeField(
        label=label, widget=DATETIME, input_formats=DATETIME_FORMATS, error_messages=DATETIME_ERRORS
    )


class PlanForm(forms.Form):
    place = _place_field(_("Community or grid"))
    planned_for = _datetime(_("Planned for"))
    location = forms.CharField(label=_("Where"), max_length=200, required=False)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["place"], places, _place_label)
        _style(self)


class HoldForm(forms.Form):
    held_at = _datetime(pgettext_lazy("screening", "Held at"))
    participants = forms.CharField(
        label=_("Participants (names and roles, one per line)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}))
    staff = forms.ModelMultipleChoiceField(
        label=_("Centre staff who took part"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["staff"], staff, _user_label)
        _style(self)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class FindingForm(forms.Form):
    place = _place_field(_("Where"))
    dispute_type = forms.ChoiceField(label=_("Type"), choices=DisputeType.choices)
    level = forms.ChoiceField(
        label=_("Risk level"), choices=RiskLevel.choices, initial=RiskLevel.LOW, widget=forms.RadioSelect
    )
    parties = forms.CharField(
        label=_("Parties, if known"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    description = forms.CharField(
        label=_("Description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["place"], places, _place_label)
        _style(self)


class FindingCaseForm(forms.Form):
    """A small case form, prefilled from the finding: title, facts, two parties, type, place."""

    title = forms.CharField(label=_("Short title"), max_length=100)
    dispute_type = forms.ChoiceField(label=_("Type"), choices=DisputeType.choices)
    place = _place_field(_("Where"))
    facts = forms.CharField(label=_("Facts"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    applicant = forms.CharField(label=_("First party (name)"), max_length=100)
    applicant_mobile = forms.RegexField(
        label=_("First party's mobile (optional)"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("Enter an 11-digit mobile number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    respondent = forms.CharField(label=_("Other party (name)"), max_length=100)
    respondent_mobile = forms.RegexField(
        label=_("Other party's mobile (optional)"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("Enter an 11-digit mobile number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    risk_flag = forms.BooleanField(label=_("May turn violent or criminal"), required=False)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["place"], places, _place_label)
        _style(self)

    def parties(self) -> list[dict]:
        d = self.cleaned_data
        blank = {
            "kind": "person",
            "id_number": "",
            "address": "",
            "representative": "",
            "representative_mobile": "",
            "resident": None,
            "user": None,
        }
        return [
            {**blank, "side": "applicant", "name": d["applicant"], "mobile": d["applicant_mobile"]},
            {**blank, "side": "respondent", "name": d["respondent"], "mobile": d["respondent_mobile"]},
        ]


class FindingTaskForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k, v) for k, v in TaskKind.choices if k != TaskKind.PROMPT]
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), widget=DATE, error_messages=DATE_ERRORS)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("— nobody yet —")
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["owner"], owners, _user_label)
        if not self.is_bound:
            self.initial.setdefault("due_on", timezone.localdate() + timedelta(days=14))
        _style(self)


class CloseFindingForm(forms.Form):
    note = forms.CharField(
        label=_("Why no case or task is needed"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ConsultationForm(forms.Form):
    """The quick log: made for speed (topic first, then who, question and answer)."""

    topic = forms.ChoiceField(label=_("Topic"), choices=DisputeType.choices)
    anonymous = forms.BooleanField(label=_("Anonymous (no name kept)"), required=False)
    asker_name = forms.CharField(label=_("Who asked"), max_length=50, required=False)
    question = forms.CharField(
        label=_("Question"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    answer = forms.CharField(
        label=_("Answer summary"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    referral = forms.CharField(label=_("Referred to"), max_length=200, required=False)
    place = _place_field(_("Community"))
    asked_at = _datetime(_("Asked at"))
    lawyer = forms.ModelChoiceField(label=_("Lawyer"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, places=(), lawyers=None, me_lawyer=False, **kwargs):
        super().__init__(*args, **kwargs)
        _fix_choices(self.fields["place"], places, _place_label)
        self.fields["lawyer"].empty_label = _("— me —") if me_lawyer else _("— none —")
        _fix_choices(self.fields["lawyer"], lawyers, _user_label)
        if not self.is_bound:
            self.initial.setdefault("asked_at", timezone.localtime().replace(second=0, microsecond=0))
        _style(self)


class ConsultationFilterForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages=MONTH_ERRORS,
        required=False,
    )
    topic = forms.ChoiceField(
        label=_("Topic"), choices=[("", pgettext_lazy("topic", "any")), *DisputeType.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class FinishTaskForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class CancelTaskForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
