from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MixedClassesValidator:
    """At least three of: lower case, upper case, digits, symbols (等保 common practice)."""

    def validate(self, password, user=None):
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                _("The password must mix at least three of: lower case, upper case, digits, symbols."),
                code="password_classes",
            )

    def get_help_text(self):
        return _("Use at least three of: lower case, upper case, digits, symbols.")


class NotTheMobileValidator:
    """Not the account's mobile number, nor a password containing it (nor its last eight digits): the
    number is printed on rosters and known to neighbours."""

    def validate(self, password, user=None):
        mobile = (getattr(user, "mobile", "") or "").strip()
        if not mobile:
            return
        if mobile in password or (len(mobile) >= 8 and mobile[-8:] in password):
            raise ValidationError(
                _("The password must not contain your mobile number."), code="password_has_mobile"
            )

    def get_help_text(self):
        return _("Do not use your mobile number in the password.")
