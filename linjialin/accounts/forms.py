from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .services import is_locked


class MobileLoginForm(AuthenticationForm):
    """Login by mobile number; a locked account is refused before the password is checked."""

    username = forms.CharField(
        label=_("Mobile number"), max_length=11,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("Wrong mobile number or password."),
        "inactive": _("This account is disabled."),
        "locked": _("Too many failed attempts. This account is locked for a while; try again later."),
    }

    def clean(self):
        mobile = (self.cleaned_data.get("username") or "").strip()
        user = User.objects.filter(mobile=mobile).first()
        if user is not None and is_locked(user):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().clean()
