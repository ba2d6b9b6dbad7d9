from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .services import is_locked, record_login_refused


class MobileLoginForm(AuthenticationForm):
    """Login by mobile number. The same answer for a wrong password and an unknown number (and the
    same work: Django's backend hashes a dummy password for an unknown one); failures are slowed by
    accounts/throttle.py, not by a lock. Only an administrator's lock refuses the right password, and
    only after it was checked, so the refusal tells nothing to someone who does not know it."""

    username = forms.CharField(
        label=_("Mobile number"),
        max_length=11,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("Wrong mobile number or password."),
        "inactive": _("This account is disabled."),
        "locked": _("This account has been locked by an administrator. Please contact them."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_locked(user):
            record_login_refused(user)
            raise forms.ValidationError(self.error_messages["locked"], code="locked")


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


# --- 楼门长 coverage ------------------------------------------------------------------------------
MOBILE_RE = r"^1\d{10}$"


class AssignLeaderForm(forms.Form):
    """Who becomes 楼门长 / 层长 / 楼长: a person picked from the search, or one typed in by mobile."""

    role = forms.ChoiceField(label=_("Post"))
    floor = forms.TypedChoiceField(label=_("Floor"), coerce=int, required=False, empty_value=None)
    candidate = forms.CharField(label=_("Person found by the search"), required=False)
    mobile = forms.RegexField(
        label=_("Mobile number"),
        regex=MOBILE_RE,
        required=False,
        max_length=11,
        error_messages={"invalid": _("A mobile number is 11 digits starting with 1.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    reason = forms.CharField(
        label=_("Reason for replacing the current holder"), max_length=200, required=False
    )
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, roles, floors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        self.fields["floor"].choices = [("", "—")] + [(f, f) for f in floors]

    def clean_candidate(self):
        value = (self.cleaned_data.get("candidate") or "").strip()
        if not value:
            return None
        kind, _sep, pk = value.partition(":")
        if kind not in ("user", "resident") or not pk.isdigit():
            raise forms.ValidationError(_("Pick a person from the search results."))
        return kind, int(pk)

    def clean_seen(self):
        raw = (self.cleaned_data.get("seen") or "").strip()
        if raw == "":
            return set()
        try:
            return {int(x) for x in raw.split(",") if x}
        except ValueError:
            raise forms.ValidationError(_("The form is out of date; reload the page.")) from None

    def clean(self):
        data = super().clean()
        if data.get("role") == "floor_leader" and data.get("floor") is None and "floor" not in self.errors:
            self.add_error("floor", _("Choose the floor this floor leader looks after."))
        has_candidate, mobile, name = (
            data.get("candidate"),
            data.get("mobile"),
            (data.get("name") or "").strip(),
        )
        if not has_candidate and "candidate" not in self.errors:
            if not mobile and "mobile" not in self.errors:
                self.add_error("mobile", _("Pick a person from the search, or enter their mobile number."))
            elif mobile and not name:
                if not User.objects.filter(mobile=mobile).exists():
                    self.add_error("name", _("Enter the name of the new person."))
        data["name"] = name
        return data


class EndGrantForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for ending"),
        max_length=200,
        error_messages={"required": _("Please give a reason (for example: moved away, stepped down).")},
    )
