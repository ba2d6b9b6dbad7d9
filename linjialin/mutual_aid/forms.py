"""Forms of the mutual aid pages. They check the shape of the input (required, lengths, choices, the
photo's content); the rules (who may, reach, the medicine check, rate limits, minors …) are in
services/posts.py, whose ValidationErrors are put under the field they name (`add_service_errors`)."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from .models import AidCategory, ContactKind, HandoffMode, Kind, Reach, ReportReason, ReportState, Urgency

# how long a post stays open, offered on the form ("" = the rules' default)
EXPIRY_CHOICES = [
    ("", _("the usual time")),
    (6, _("6 hours")),
    (12, _("12 hours")),
    (24, _("1 day")),
    (72, _("3 days")),
    (168, _("1 week")),
]
TIME = {"type": "time"}
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


def style(form: forms.BaseForm, *, large: bool = False) -> None:
    """Bootstrap classes on every widget, and is-invalid / aria on the fields with errors."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select" + (" form-select-lg" if large else "")
        else:
            css = "form-control" + (" form-control-lg" if large else "")
        widget.attrs["class"] = css
        widget.attrs.pop("aria-invalid", None)
        if form.is_bound and form._errors is not None and name in form._errors:
            widget.attrs["class"] += " is-invalid"
            widget.attrs["aria-invalid"] = "true"
            widget.attrs["aria-describedby"] = f"{form.auto_id % form.add_prefix(name)}-error"


class StyledForm(forms.Form):
    large = True  # phone pages for residents and the 楼门长: large controls everywhere

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self, large=self.large)

    def full_clean(self):
        super().full_clean()
        style(self, large=self.large)

    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's ValidationError onto the form: under the field it names, else on top."""
        items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for field, messages in items:
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        style(self, large=self.large)


def household_label(place) -> str:
    return place.name


class HouseholdMixin:
    """A household picker when the user acts for several (a 楼门长 or 网格员 for the households they
    cover); hidden when there is one."""

    # the post page chooses with the household picker (places/picker.py), never a list of all of them
    uses_picker = False

    def set_households(self, households, label):
        field = self.fields["household"]
        field.queryset = households
        field.label = label
        field.label_from_instance = household_label
        first_two = list(households[:2])  # one household or several: never the whole scope
        self.picks_household = self.uses_picker and len(first_two) > 1
        if self.picks_household:
            field.widget = forms.HiddenInput(attrs={"data-picker": ""})  # the picker takes the focus
        elif len(first_two) == 1:
            field.widget = forms.HiddenInput()
        if len(first_two) == 1:
            field.initial = first_two[0].pk


# --- a post ------------------------------------------------------------------------------------------
class PostForm(HouseholdMixin, StyledForm):
    uses_picker = True
    household = forms.ModelChoiceField(
        queryset=None,
        error_messages={
            "required": _("Choose the household the post is for."),
            "invalid_choice": _(
                "This household is not one you may post for, or it no longer exists: "
                "search for the household again."
            ),
        },
    )
    kind = forms.ChoiceField(
        label=_("I need help, or I can offer something?"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you need help or can offer something.")},
    )
    category = forms.ChoiceField(
        label=_("What is it about?"),
        choices=AidCategory.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what it is about.")},
    )
    text = forms.CharField(
        label=_("In a few words"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("e.g. need two fever tablets for a child tonight; can lend a wheelchair this week"),
        error_messages={"required": _("Write a few words about what is needed or offered.")},
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    urgency = forms.ChoiceField(
        label=_("How urgent?"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=forms.RadioSelect
    )
    max_reach = forms.TypedChoiceField(
        label=_("How far at most?"),
        choices=Reach.choices,
        coerce=int,
        initial=Reach.COMMUNITY,
        widget=forms.RadioSelect,
        help_text=_("It starts with your entrance and reaches further by itself when nobody answers."),
    )
    expires_in_hours = forms.TypedChoiceField(
        label=_("Open for"), choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )
    client_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, households=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_households(households, _("For which household?"))

    def clean_photo(self):
        """The request photos' checks (content, not name; size; re-encoded without EXIF/GPS)."""
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        from linjialin.service_requests.photos import check_photo, photo_rules

        clean = check_photo(upload, photo_rules())
        return ContentFile(clean.content, name=f"{uuid.uuid4().hex}.{clean.extension}")


# --- answering and the hand-off -------------------------------------------------------------------------
class RespondForm(HouseholdMixin, StyledForm):
    household = forms.ModelChoiceField(
        queryset=None, error_messages={"required": _("Choose the household you help from.")}
    )
    note = forms.CharField(
        label=_("A note for your neighbour (optional)"),
        max_length=200,
        required=False,
        help_text=_("e.g. I have some at home, I can bring it after 6 pm"),
    )

    def __init__(self, *args, households=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_households(households, _("You help as"))


class PickForm(StyledForm):
    response = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    contact = forms.ChoiceField(
        label=_("What the helper may see of you"),
        choices=ContactKind.choices,
        initial=ContactKind.RELAY,
        widget=forms.RadioSelect,
    )
    mode = forms.ChoiceField(
        label=_("How it changes hands"),
        choices=HandoffMode.choices,
        initial=HandoffMode.DOOR,
        widget=forms.RadioSelect,
    )
    guardian = forms.CharField(
        label=_("Guardian present (for a helper under 18 meeting in person)"), max_length=100, required=False
    )

    def __init__(self, *args, responses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["response"].queryset = responses


class ContactForm(StyledForm):
    contact = forms.ChoiceField(
        label=_("What the other side may see of you"), choices=ContactKind.choices, widget=forms.RadioSelect
    )


class FinishForm(StyledForm):
    thanks = forms.CharField(label=_("A word of thanks (optional)"), max_length=200, required=False)


class WithdrawForm(StyledForm):
    reason = forms.CharField(label=_("Why (optional)"), max_length=500, required=False)


class PassOnForm(StyledForm):
    text = forms.CharField(
        label=_("What is left to pass on"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what is left to pass on.")},
    )


REPORT_TARGETS = [("post", _("this post")), ("person", _("this person"))]


class ReportForm(StyledForm):
    target = forms.ChoiceField(
        label=_("What do you report?"), choices=REPORT_TARGETS, initial="post", widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(
        label=_("Why?"),
        choices=ReportReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why you report it.")},
    )
    note = forms.CharField(label=_("More detail (optional)"), max_length=500, required=False)


# --- moderation ------------------------------------------------------------------------------------------
class HideForm(StyledForm):
    reason = forms.CharField(
        label=_("Why is it hidden?"),
        max_length=500,
        error_messages={"required": _("Say why the post is hidden.")},
    )


DECISIONS = [(ReportState.UPHELD, _("uphold: hide the post")), (ReportState.DISMISSED, _("dismiss"))]


class ModerateForm(StyledForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


# --- the opt-in ------------------------------------------------------------------------------------------
class SubscriptionForm(StyledForm):
    active = forms.BooleanField(label=_("Tell me at once about neighbours' needs"), required=False)
    reach = forms.TypedChoiceField(
        label=_("How far?"),
        choices=Reach.choices,
        coerce=int,
        initial=Reach.BUILDING,
        widget=forms.RadioSelect,
    )
    categories = forms.MultipleChoiceField(
        label=_("Which kinds of need? (none ticked: every kind)"),
        choices=AidCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quiet_from = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(attrs=TIME, format="%H:%M"),
        error_messages={"invalid": _("Enter a time like 22:00.")},
    )
    quiet_until = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(attrs=TIME, format="%H:%M"),
        error_messages={"invalid": _("Enter a time like 07:00.")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_from"), data.get("quiet_until")
        if (
            (start is None) != (end is None)
            and "quiet_from" not in self.errors
            and "quiet_until" not in self.errors
        ):
            self.add_error(
                "quiet_until" if start else "quiet_from", _("Give both times of the quiet hours, or none.")
            )
        return data
