"""Forms of the request pages. They check the shape of the input; the rules are in services.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, RequestType, Satisfaction, Urgency
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


class BehalfForm(RequestForm):
    """代报: a leader submits for a household of their entrance, with the resident's contact."""

    household = forms.ModelChoiceField(
        label=_("Household"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a household from the list.")},
    )
    contact_name = forms.CharField(label=_("Resident's name"), max_length=50)
    contact_mobile = forms.RegexField(
        label=_("Resident's mobile"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("A mobile number has 11 digits and starts with 1.")},
    )

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["place"]
        self.fields["household"].queryset = households
        self.fields["household"].widget.attrs["class"] = "form-select form-select-lg"
        for name in ("contact_name", "contact_mobile"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-lg"
        self.fields["contact_mobile"].widget.attrs["inputmode"] = "tel"
        self.order_fields(["household", "contact_name", "contact_mobile"])


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
