"""Forms of the centre's pages. They check the shape of the input (required, lengths, dates, choices);
the rules (who may, which state, every party consented …) are in services/cases.py."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import (
    Consent,
    Court,
    CourtState,
    DisputeType,
    DocumentKind,
    PartyKind,
    PartySide,
    Performance,
    ReferralChannel,
    ReferredBy,
    Source,
    TaskKind,
    TeamRole,
)

DATE = {"type": "date"}
DATE_ERRORS = {"invalid": _("Enter a date like 2026-11-30.")}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
MOBILE = re.compile(r"^1\d{10}$")
ID_NUMBER = re.compile(r"^[0-9A-Za-z]{18}$")
MAX_UPLOAD_MB = 20
REPREVENTION_KINDS = (TaskKind.TALK, TaskKind.HOUSE_RULE, TaskKind.REPAIR, TaskKind.PREVENTION)


def date_field(label, required=True):
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages=DATE_ERRORS,
    )


def style(form: forms.BaseForm, *, large: bool = False, errors: bool = True) -> None:
    """Bootstrap classes on every widget, and is-invalid / aria on the fields with errors (bound
    forms: call after is_valid, or again before rendering)."""
    size = " form-control-lg" if large else ""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select" + (" form-select-lg" if large else "")
        else:
            css = "form-control" + size
        widget.attrs["class"] = css
        if errors and form.is_bound and form._errors is not None and name in form._errors:
            widget.attrs["class"] += " is-invalid"
            widget.attrs["aria-invalid"] = "true"
            widget.attrs["aria-describedby"] = f"{form.auto_id % form.add_prefix(name)}-error"


class StyledForm(forms.Form):
    large = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self, large=self.large, errors=False)

    def full_clean(self):
        super().full_clean()
        style(self, large=self.large)

    def add_service_errors(self, exc: ValidationError, rows: dict | None = None) -> None:
        """A service's ValidationError onto the form: under the field it names, else on top. `rows`
        maps a list key of the service ("parties", "items", "tasks") to the forms of its rows, for
        errors named like "parties.1.mobile"."""
        items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for field, messages in items:
            for message in messages:
                key, _dot, rest = (field or "").partition(".")
                index, _dot, name = rest.partition(".")
                row_forms = (rows or {}).get(key)
                if row_forms and index.isdigit() and int(index) < len(row_forms):
                    target = row_forms[int(index)]
                    target.add_error(name if name in target.fields else None, message)
                    style(target, large=target.large)
                else:
                    self.add_error(field if field in self.fields else None, message)
        style(self, large=self.large)


def _per_party(exc: ValidationError, key: str, prefix: str) -> ValidationError:
    """A service's per-party errors ("signatures.<party id>") renamed to the form's fields
    ("signed_<party id>")."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {}
    for field, messages in exc.message_dict.items():
        head, _dot, party = field.partition(".")
        renamed[f"{prefix}{party}" if head == key and party.isdigit() else field] = messages
    return ValidationError(renamed)


def _user_label(user) -> str:
    return user.display_name or user.get_username()


# --- registration -------------------------------------------------------------------------------------
STAFF_SOURCES = [
    (Source.APPLICATION, Source.APPLICATION.label),
    (Source.REFERRAL, Source.REFERRAL.label),
    (Source.SCREENING, Source.SCREENING.label),
]


class CaseForm(StyledForm):
    dispute_type = forms.ChoiceField(label=_("Type of dispute"), choices=DisputeType.choices)
    source = forms.ChoiceField(label=_("Source"), choices=STAFF_SOURCES, initial=Source.APPLICATION)
    referred_by = forms.ChoiceField(
        label=_("Referred by (for a referral)"), choices=[("", "—"), *ReferredBy.choices], required=False
    )
    referring_body = forms.CharField(label=_("Referring body"), max_length=100, required=False)
    title = forms.CharField(label=_("Short title"), max_length=100)
    place = forms.ModelChoiceField(label=_("Place"), queryset=None)
    location = forms.CharField(label=_("Where exactly"), max_length=200, required=False)
    facts = forms.CharField(label=_("Facts"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    dispute_items = forms.CharField(
        label=_("What is disputed"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    risk_flag = forms.BooleanField(label=_("May turn violent or criminal"), required=False)
    risk_note = forms.CharField(
        label=_("Risk note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, places=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["place"].label_from_instance = lambda p: p.name

    def clean(self):
        data = super().clean()
        if data.get("source") == Source.REFERRAL and not data.get("referred_by"):
            self.add_error("referred_by", _("Say who referred the case."))
        if data.get("risk_flag") and not (data.get("risk_note") or "").strip():
            self.add_error("risk_note", _("Say what the risk is."))
        return data


class PartyForm(StyledForm):
    side = forms.ChoiceField(label=_("Side"), choices=PartySide.choices, initial=PartySide.APPLICANT)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartyKind.choices, initial=PartyKind.PERSON)
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), max_length=11, required=False)
    id_number = forms.CharField(label=_("ID number or credit code"), max_length=18, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    representative = forms.CharField(label=_("Representative"), max_length=100, required=False)
    representative_mobile = forms.CharField(label=_("Representative's mobile"), max_length=11, required=False)

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        if value and not MOBILE.match(value):
            raise ValidationError(_("A mobile number has 11 digits and starts with 1."))
        return value

    def clean_representative_mobile(self):
        value = self.cleaned_data["representative_mobile"].strip()
        if value and not MOBILE.match(value):
            raise ValidationError(_("A mobile number has 11 digits and starts with 1."))
        return value

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        if value and not ID_NUMBER.match(value):
            raise ValidationError(_("An ID number or credit code has 18 characters."))
        return value.upper()


class BasePartyFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]
        if len(filled) < 2:
            raise ValidationError(_("A dispute has at least two parties: fill in at least two rows."))


PartyFormSet = forms.formset_factory(PartyForm, formset=BasePartyFormSet, extra=4, max_num=20)


def party_initial() -> list[dict]:
    return [{"side": PartySide.APPLICANT}, {"side": PartySide.RESPONDENT}]


class PoliceForm(StyledForm):
    how = forms.CharField(
        label=_("How were the police told?"),
        max_length=200,
        help_text=_("e.g. phoned the community police station, officer Wang, 14:20"),
    )


# --- the resident's application -----------------------------------------------------------------------
class ApplyForm(StyledForm):
    large = True

    dispute_type = forms.ChoiceField(
        label=_("What is the dispute about?"),
        choices=DisputeType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what the dispute is about.")},
    )
    title = forms.CharField(
        label=_("In a few words"),
        max_length=100,
        help_text=_("e.g. water leaking from the flat upstairs"),
        error_messages={"required": _("Write a few words about the dispute.")},
    )
    facts = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Tell us what happened.")},
    )
    other_party_name = forms.CharField(
        label=_("Who is the other side? (name)"),
        max_length=100,
        error_messages={"required": _("Give the other side's name.")},
    )
    other_party_mobile = forms.CharField(
        label=_("Their phone number (if you know it)"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    client_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def clean_other_party_mobile(self):
        value = self.cleaned_data["other_party_mobile"].strip()
        if value and not MOBILE.match(value):
            raise ValidationError(_("A mobile number has 11 digits and starts with 1."))
        return value


# --- the case file's actions --------------------------------------------------------------------------
class PartyChoiceMixin:
    def set_parties(self, parties, *names):
        for name in names:
            self.fields[name].queryset = parties
            self.fields[name].label_from_instance = lambda p: f"{p.name} ({p.get_side_display()})"


class UnmaskForm(StyledForm, PartyChoiceMixin):
    party = forms.ModelChoiceField(label=_("Party"), queryset=None, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why do you need the full numbers?"), max_length=500)

    def __init__(self, *args, parties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_parties(parties, "party")


CONSENT_CHOICES = [(Consent.GIVEN, Consent.GIVEN.label), (Consent.REFUSED, Consent.REFUSED.label)]


class ConsentForm(StyledForm, PartyChoiceMixin):
    party = forms.ModelChoiceField(label=_("Party"), queryset=None)
    rights_told = forms.BooleanField(
        label=_(
            "Told their rights: free of charge, voluntary, may choose mediators, may ask for a "
            "non-public session, may stop at any time"
        ),
        required=False,
    )
    consent = forms.ChoiceField(label=_("Answer"), choices=CONSENT_CHOICES, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note (how, or why refused)"), max_length=500, required=False)

    def __init__(self, *args, parties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_parties(parties, "party")


class MemberForm(StyledForm):
    user = forms.ModelChoiceField(label=_("Person"), queryset=None)
    role = forms.ChoiceField(label=_("Role on the team"), choices=TeamRole.choices)
    lead = forms.BooleanField(label=_("Lead mediator"), required=False)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff
        self.fields["user"].label_from_instance = _user_label


class RemoveMemberForm(StyledForm):
    member = forms.ModelChoiceField(label=_("Team member"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: (
            f"{_user_label(m.user)} ({m.get_role_display()})"
        )


class ObjectionForm(StyledForm, PartyChoiceMixin):
    party = forms.ModelChoiceField(label=_("Party who objects"), queryset=None)
    member = forms.ModelChoiceField(label=_("Team member objected to"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    replacement = forms.ModelChoiceField(label=_("Replaced by"), queryset=None)
    role = forms.ChoiceField(
        label=_("Role of the replacement (if different)"),
        choices=[("", "—"), *TeamRole.choices],
        required=False,
    )

    def __init__(self, *args, parties=None, members=None, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_parties(parties, "party")
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: (
            f"{_user_label(m.user)} ({m.get_role_display()})"
        )
        self.fields["replacement"].queryset = staff
        self.fields["replacement"].label_from_instance = _user_label


class RefuseForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    referral = forms.CharField(label=_("Referred to (optional)"), max_length=200, required=False)


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class SessionForm(StyledForm):
    held_at = forms.DateTimeField(
        label=_("Held at"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Enter a date and time like 2026-11-30 14:00.")},
    )
    location = forms.CharField(label=_("Where"), max_length=200)
    public = forms.BooleanField(label=_("Public session"), required=False)
    attendees = forms.CharField(
        label=_("Attendees (one a line)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    minutes = forms.CharField(label=_("Minutes"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6}))


class DocumentForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices)
    upload = forms.FileField(label=_("File"))
    session = forms.ModelChoiceField(label=_("Session (optional)"), queryset=None, required=False)

    def __init__(self, *args, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = lambda s: f"{s.held_at:%Y-%m-%d %H:%M} {s.location}"

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_MB})
        return upload


class CounsellingNoteForm(StyledForm):
    text = forms.CharField(label=_("Note"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4}))


class ExtensionForm(StyledForm):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    consent_note = forms.CharField(label=_("How both parties consented"), max_length=500)


class AgreementForm(StyledForm):
    written = forms.TypedChoiceField(
        label=_("Form of the agreement"),
        choices=[("1", _("written agreement")), ("0", _("oral agreement"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    facts = forms.CharField(
        label=_("Facts, dispute and liabilities"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    terms = forms.CharField(
        label=_("Agreed rights and duties"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    performance = forms.CharField(
        label=_("How, where and by when it is performed"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    signed_on = date_field(_("Date of the agreement (oral: the day the parties agreed)"))
    sealed_on = date_field(_("Mediator signed and committee sealed on (written)"), required=False)
    copies = forms.IntegerField(label=_("Copies"), min_value=1, max_value=20, initial=3)

    def __init__(self, *args, parties=(), **kwargs):
        """One date per party: the day they signed, sealed or thumbprinted a written agreement. The day
        it takes effect is derived from these and the seal (services.agreements), not typed."""
        super().__init__(*args, **kwargs)
        self.parties = list(parties)
        for party in self.parties:
            self.fields[f"signed_{party.pk}"] = date_field(
                _("%(name)s signed on (written)") % {"name": party.name}, required=False
            )
        style(self, large=self.large, errors=False)

    def add_service_errors(self, exc: ValidationError, rows: dict | None = None) -> None:
        super().add_service_errors(_per_party(exc, "signatures", "signed_"), rows)

    def clean(self):
        """`signatures`: {party id: date} of the dates given (the service says which are missing)."""
        data = super().clean()
        given = {p.pk: data.get(f"signed_{p.pk}") for p in self.parties}
        data["signatures"] = {pk: day for pk, day in given.items() if day}
        return data


class AgreementItemForm(StyledForm, PartyChoiceMixin):
    party = forms.ModelChoiceField(label=_("Who performs it"), queryset=None)
    duty = forms.CharField(label=_("Duty"), max_length=2000)
    how = forms.CharField(label=_("How"), max_length=200, required=False)
    where = forms.CharField(label=_("Where"), max_length=200, required=False)
    due_on = date_field(_("By when"))

    def __init__(self, *args, parties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_parties(parties, "party")


class BaseItemFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not [f for f in self.forms if f.has_changed()]:
            raise ValidationError(_("An agreement has at least one duty: fill in a row."))


AgreementItemFormSet = forms.formset_factory(AgreementItemForm, formset=BaseItemFormSet, extra=3, max_num=20)


class FailureForm(StyledForm):
    channel = forms.ChoiceField(label=_("Referred on to"), choices=ReferralChannel.choices)
    detail = forms.CharField(label=_("Referral detail"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CourtApplicationForm(StyledForm):
    court = forms.ModelChoiceField(
        label=_("Court (competent for this case)"),
        queryset=None,
        empty_label=None,
        help_text=_(
            "The basic-level courts where a party lives, where the subject matter is or where the "
            "mediation organisation is."
        ),
    )
    applied_on = date_field(_("Applied on"))

    def __init__(self, *args, courts=(), parties=(), **kwargs):
        """The court is chosen from the competent ones; each party consents to the joint application
        (a date each)."""
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = Court.objects.filter(pk__in=[c.pk for c in courts])
        self.parties = list(parties)
        for party in self.parties:
            self.fields[f"consent_{party.pk}"] = date_field(
                _("%(name)s consented to apply on") % {"name": party.name}, required=False
            )
        style(self, large=self.large, errors=False)

    def add_service_errors(self, exc: ValidationError, rows: dict | None = None) -> None:
        super().add_service_errors(_per_party(exc, "consents", "consent_"), rows)

    def clean(self):
        """`consents`: {party id: date} of the dates given (the service says which are missing)."""
        data = super().clean()
        given = {p.pk: data.get(f"consent_{p.pk}") for p in self.parties}
        data["consents"] = {pk: day for pk, day in given.items() if day}
        return data


COURT_STEPS = [(s, s.label) for s in (CourtState.ACCEPTED, CourtState.CONFIRMED, CourtState.REJECTED)]


class CourtStepForm(StyledForm):
    state = forms.ChoiceField(label=_("Step"), choices=COURT_STEPS)
    on = date_field(_("On"))
    extended = forms.BooleanField(label=_("Decision period extended"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class FollowUpForm(StyledForm):
    followup = forms.ModelChoiceField(label=_("Planned visit"), queryset=None, widget=forms.HiddenInput)
    performance = forms.ChoiceField(
        label=_("Performance"), choices=Performance.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("Record"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    performed_items = forms.ModelMultipleChoiceField(
        label=_("Duties performed"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, followups=None, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["followup"].queryset = followups
        self.fields["performed_items"].queryset = items
        self.fields["performed_items"].label_from_instance = lambda i: f"{i.duty} ({i.due_on:%Y-%m-%d})"


class CloseForm(StyledForm):
    lesson = forms.CharField(
        label=_("Lesson learned"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TaskForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", "—"), *[(k, k.label) for k in REPREVENTION_KINDS]],
        required=False,
    )
    title = forms.CharField(label=_("Re-prevention task"), max_length=200, required=False)
    due_on = date_field(_("Due on"), required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff
        self.fields["owner"].label_from_instance = _user_label

    def clean(self):
        data = super().clean()
        if self.has_changed():
            for name in ("kind", "title", "due_on"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Fill in the kind, the title and the date of the task."))
        return data


TaskFormSet = forms.formset_factory(TaskForm, extra=3, max_num=3)


class ReferRequestForm(StyledForm):
    """A request handler refers a dispute from a micro-request to the mediation centre."""

    title = forms.CharField(label=_("Short title"), max_length=100)
    dispute_type = forms.ChoiceField(label=_("Type"), choices=DisputeType.choices)
