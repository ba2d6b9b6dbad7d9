"""Labels of the sign-in audit actions (throttle, two-factor, passwords, sessions) for the audit page."""

from django.utils.translation import gettext_lazy as _

SIGNIN_ACTION_LABELS = {
    "two_factor.enrolled": _("Two-factor sign-in set up"),
    "two_factor.failure": _("Two-factor code refused"),
    "two_factor.recovery_code_used": _("Recovery code used"),
    "two_factor.reset": _("Two-factor sign-in reset by an administrator"),
    "password.changed": _("Password changed"),
    "password.change_required": _("Password change required at next sign-in"),
    "sessions.signed_out_others": _("Other sessions signed out"),
}

# keys of those events' details (the audit detail page shows these words, never the keys)
SIGNIN_FIELDS = {
    "failures": _("failed sign-ins"),
    "wait_seconds": _("wait before the next attempt (seconds)"),
    "sessions": _("sessions"),
    "devices": _("devices removed"),
}
