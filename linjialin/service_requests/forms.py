"""Forms of the request pages. They check the shape of the input; the rules are in services.py."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, Channel, RequestType, Satisfaction, Urgency
from .services import MAX_DESCRIPTION


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files from one input; their content is checked by photos.check_photos."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files]


class BootstrapForm(forms.Form):
    def mark_invalid(self) -> None:
        """Bootstrap's is-invalid and aria-describedby on fields with errors (call before rendering)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"


PLACE_CHOICES = [
    ("household", _("My household")),
    ("entrance", _("My entrance (stairwell, corridor)")),
    ("building", _("My building")),
]


REPEAT_CHOICES = [
    ("link", _("Nothing new: add my message to that request")),
    ("new", _("There are new facts, or it is another matter: submit it as a new request")),
]


class RequestForm(BootstrapForm):
    request_type = forms.ChoiceField(
        label=_("Type"),
        choices=RequestType.choices,
        initial=RequestType.HELP,
        error_messages={
            "invalid_choice": _("Choose a type: consultation, help, complaint, report or suggestion.")
        },
    )
    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(
            attrs={"rows": 5, "maxlength": MAX_DESCRIPTION, "data-counter": "description-count"}
        ),
        error_messages={
            "required": _("Please describe the problem."),
            "max_length": _(
                "The description may have at most %(limit_value)d characters (it has %(show_value)d)."
            ),
        },
    )
    category = forms.ModelChoiceField(
        label=_("Category (optional)"),
        queryset=Category.objects.filter(active=True),
        required=False,
        empty_label=_("— not sure —"),
        error_messages={"invalid_choice": _("Unknown category: choose one from the list.")},
    )
    place = forms.ChoiceField(
        label=_("Where"),
        choices=PLACE_CHOICES,
        initial="household",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose where the problem is.")},
    )
    urgency = forms.ChoiceField(
        label=_("How urgent"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Unknown urgency.")},
    )
    board_consent = forms.BooleanField(
        label=_("It may be shown on the entrance board without my name"), required=False
    )
    photos = PhotosField(label=_("Photos (optional)"), required=False)
    client_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    # intake (docs/intake.md): shown only after a diversion or a possible repeat
    not_diverted = forms.BooleanField(
        label=_(
            "This is not an emergency, a court case, arbitration or a petition (信访): "
            "handle it as a normal request"
        ),
        required=False,
    )
    repeat_answer = forms.ChoiceField(
        label=_("Is there anything new?"),
        choices=REPEAT_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Say whether there are new facts.")},
    )
    again = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("request_type", "category"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-lg"
        self.fields["description"].widget.attrs["class"] = "form-control form-control-lg"
        self.fields["photos"].widget.attrs["class"] = "form-control form-control-lg"
        for name in ("place", "urgency", "board_consent", "not_diverted", "repeat_answer"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


STAFF_CHANNELS = [
    (Channel.ON_BEHALF, _("In person, for a resident (代报)")),
    (Channel.PHONE, _("A phone call (电话受理)")),
    (Channel.PATROL, _("Found on patrol (巡查发现)")),
]
MOBILE = re.compile(r"^1\d{10}$")


class StaffRequestForm(RequestForm):
    """The staff entry page (docs/intake.md §5): how the matter came in — 代报 for a resident in person, a
    phone call, or a patrol finding — and where: a household in the submitter's scope, or a shared place
    (an entrance, a building, a compound's public area, the community; `targets`, built by the view)."""

    channel = forms.ChoiceField(
        label=_("How did it come in?"),
        choices=STAFF_CHANNELS,
        initial=Channel.ON_BEHALF,
        required=False,  # not given: 代报
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose how the matter came in.")},
    )
    # chosen with the household picker (places/picker.py): a hidden input, checked against the scope
    household = forms.ModelChoiceField(
        label=_("Household"),
        queryset=None,
        required=False,
        widget=forms.HiddenInput(attrs={"data-picker": ""}),  # the picker's search box takes the focus
        error_messages={
            "invalid_choice": _(
                "This household is not one you may enter requests for, or it no longer exists: "
                "search for the household again."
            )
        },
    )
    where = forms.ChoiceField(
        label=_("Or a shared place"),
        required=False,
        error_messages={"invalid_choice": _("Choose a place from the list.")},
    )
    contact_name = forms.CharField(label=_("Name of the resident or caller"), max_length=50, required=False)
    contact_mobile = forms.CharField(
        label=_("Mobile of the resident or caller"),
        max_length=20,
        required=False,
        error_messages={"max_length": _("A mobile number has 11 digits and starts with 1.")},
    )

    def __init__(self, *args, households, targets, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["place"]
        self.targets = {t.value: t for _group, items in targets for t in items}
        self.fields["where"].choices = [("", "—")] + [
            (group, [(t.value, t.label) for t in items]) for group, items in targets if items
        ]
        self.fields["household"].queryset = households
        if channel in dict(STAFF_CHANNELS):
            self.fields["channel"].initial = channel
        self.fields["where"].widget.attrs["class"] = "form-select form-select-lg"
        for name in ("contact_name", "contact_mobile"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-lg"
        self.fields["contact_mobile"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["channel"].widget.attrs["class"] = "form-check-input"
        self.order_fields(["channel", "household", "where", "contact_name", "contact_mobile"])

    def clean_contact_mobile(self) -> str:
        mobile = re.sub(r"[\s\-]", "", self.cleaned_data.get("contact_mobile", ""))
        if mobile and not MOBILE.match(mobile):
            raise forms.ValidationError(_("A mobile number has 11 digits and starts with 1."))
        return mobile

    def clean_channel(self) -> str:
        return self.cleaned_data.get("channel") or Channel.ON_BEHALF

    def clean_where(self):
        value = self.cleaned_data.get("where")
        return self.targets.get(value) if value else None

    def clean(self):
        data = super().clean()
        channel, household, where = data.get("channel"), data.get("household"), data.get("where")
        if household is not None and where is not None:
            self.add_error("where", _("Choose a household or a shared place, not both."))
        if channel == Channel.PATROL:
            # no requester: a finding is about a shared place, and nobody's contact is kept with it
            if household is not None:
                self.add_error("household", _("A patrol finding is about a shared place, not a household."))
            elif where is None and "where" not in self.errors:
                message = _(
                    "Choose where it was found: an entrance, a building, a public area or the community."
                )
                self.add_error("where", message)
            data["contact_name"] = data["contact_mobile"] = ""
        elif channel == Channel.ON_BEHALF:
            if household is None and "household" not in self.errors:
                self.add_error("household", _("代报 is for a resident's household: choose the household."))
            if not data.get("contact_name"):
                self.add_error("contact_name", _("Enter the resident's name."))
        elif channel == Channel.PHONE:
            if household is None and where is None and not {"household", "where"} & set(self.errors):
                self.add_error("where", _("Choose the caller's household or the place the call is about."))
            if not data.get("contact_name"):
                self.add_error("contact_name", _("Enter the caller's name."))
            if not data.get("contact_mobile") and "contact_mobile" not in self.errors:
                self.add_error("contact_mobile", _("Enter the caller's mobile number."))
        return data


class ActionForm(forms.Form):
    text = forms.CharField(max_length=2000, required=False)


class RateForm(BootstrapForm):
    solved = forms.TypedChoiceField(
        label=_("Was the problem solved?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Say whether it was solved.")},
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose 满意, 基本满意 or 不满意.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control form-control-lg"}),
    )
