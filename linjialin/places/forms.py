from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TagType

MAX_COUNT = 10000


class EntranceProfileForm(forms.Form):
    """The entered parts of a 楼门 profile; the rest is computed from household and resident records."""

    ebikes = forms.IntegerField(label=_("E-bikes"), min_value=0, max_value=MAX_COUNT)
    wechat_group = forms.CharField(label=_("WeChat group"), max_length=100, required=False)
    wechat_members = forms.IntegerField(
        label=_("WeChat group members"), min_value=0, max_value=MAX_COUNT, required=False
    )
    spare_keys = forms.IntegerField(
        label=_("Spare keys held"),
        min_value=0,
        max_value=MAX_COUNT,
        help_text=_("Households whose spare key the entrance leader keeps."),
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, households: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.households = households
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
            if isinstance(field, forms.IntegerField):
                field.widget.attrs.update(inputmode="numeric")

    def mark_invalid(self) -> None:
        """Bootstrap's is-invalid and aria-describedby on fields with errors (call before rendering)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"

    def clean_spare_keys(self):
        value = self.cleaned_data["spare_keys"]
        if self.households is not None and value is not None and value > self.households:
            raise forms.ValidationError(
                _("More spare keys (%(keys)d) than households in this entrance (%(households)d)."),
                params={"keys": value, "households": self.households},
            )
        return value


class ResidentTagForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", _("add")), ("remove", _("remove"))])
    tag = forms.ModelChoiceField(
        label=_("Tag"),
        queryset=TagType.objects.all(),
        to_field_name="code",
        error_messages={"invalid_choice": _("Unknown tag.")},
    )
    consent_source = forms.CharField(label=_("Where the consent came from"), max_length=200, required=False)
