"""Staff two-factor sign-in (TOTP with django-otp) and the sign-in steps after the password.

Who needs a second factor: everyone holding a current grant of a staff role (RoleSpec.staff in
roles.py: grid workers, community and subdistrict staff, dispatchers, department handlers, the
mediation centre's professionals, auditors, system administrators) and every Django admin user
(is_staff / is_superuser). Residents and the volunteer posts (层长, 楼门长, 楼长, 社区贤达, volunteers)
do not: they sign in on a phone with a password, see only their own entrance's data, and a second
factor would lock out the elderly leaders the system depends on. They may still enrol.

Steps after the password (pending_step), in this order:
1. a confirmed device and the session not yet verified → give a code (VERIFY), whoever the user;
2. needs a second factor, none enrolled, outside DEMO_MODE → enrol (ENROL);
3. a password someone else chose (must_change_password), outside DEMO_MODE → change it.
In DEMO_MODE steps 2 and 3 are offered, not forced, so the published demo logins keep working.

Enrolment: an unconfirmed TOTP device with a QR code (segno, inline SVG) is confirmed by one code from
the app; ten one-time recovery codes (a django-otp static device) are then shown once. An administrator
resets a lost second factor (reset_two_factor): audited, and the person is notified.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linjialin.core import audit
from linjialin.core.scope import scope_for

from .models import User
from .roles import ROLES, Perm, Role
from .scope import current_grants

VERIFY, ENROL, CHANGE_PASSWORD = "verify", "enrol", "change_password"
RECOVERY_CODES = 10
TOTP_NAME = "authenticator app"
RECOVERY_NAME = "recovery codes"


def needs_second_factor(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return any(ROLES[Role(g.role)].staff for g in current_grants(user))


def has_device(user) -> bool:
    """A confirmed authenticator app (recovery codes are made with it and removed with it, so one
    query answers for both)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_step(request) -> str | None:
    """The sign-in step the request's user still has to take, or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    cached = request.__dict__.get("_signin_step", False)
    if cached is not False:
        return cached
    step = None
    verified = _verified(request, user)
    if not verified and _has_device_cached(request, user):
        step = VERIFY
    elif not verified and not settings.DEMO_MODE and needs_second_factor(user):
        step = ENROL
    elif user.must_change_password and not settings.DEMO_MODE:
        step = CHANGE_PASSWORD
    request.__dict__["_signin_step"] = step
    return step


def _verified(request, user) -> bool:
    """OTPMiddleware's answer; without that middleware (the live feed's own ASGI endpoint), the same
    check: the device the session was verified with belongs to the user."""
    if hasattr(user, "is_verified"):
        return user.is_verified()
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk


NO_DEVICE = "_two_factor_none"  # session: the user (pk) had no device when this session looked


def _has_device_cached(request, user) -> bool:
    """Whether the user has a confirmed device, looked up once per session while they have none (two
    queries on every page otherwise). A device is added by enrolling, which verifies this session at
    once; one an administrator adds elsewhere counts from the user's next sign-in."""
    session = getattr(request, "session", None)
    if session is not None and session.get(NO_DEVICE) == user.pk:
        return False
    found = has_device(user)
    if not found and session is not None:
        session[NO_DEVICE] = user.pk
    return found


def admin_verified(request) -> bool:
    """The Django admin needs a verified second factor (in DEMO_MODE: unless none is enrolled)."""
    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return True
    return settings.DEMO_MODE and not has_device(user)


# --- enrolment ------------------------------------------------------------------------------------
def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created on first call; the same key until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request; the page's CSP allows it)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title=None
    )
    return out.getvalue().decode()


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an app that cannot scan."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirm_enrolment(request, *, token: str) -> list[str]:
    """Confirm the pending device with a code from the app; returns the recovery codes (shown once).
    A wrong code raises ValidationError and changes nothing."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    token = (token or "").strip().replace(" ", "")
    if device is None:
        raise ValidationError({"token": _("Start again: open the two-factor page.")})
    if not token.isdigit() or not device.verify_token(token):
        raise ValidationError(
            {"token": _("That code is not right. Check the time on your phone and try again.")}
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record("two_factor.enrolled", actor=user, obj=user, path="")
    otp_login(request, device)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def verify(request, *, token: str) -> bool:
    """Check a code from the app or a recovery code (used up); on success the session is verified.
    The devices slow repeated failures themselves (django-otp's throttling)."""
    user = request.user
    token = (token or "").strip().replace(" ", "").lower()
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                audit.record("two_factor.recovery_code_used", actor=user, obj=user, path="")
            return True
    audit.record("two_factor.failure", actor=user, obj=user, path="")
    return False


# --- reset by an administrator --------------------------------------------------------------------
def can_reset(actor: User) -> bool:
    return actor.is_superuser or not scope_for(actor, Perm.MANAGE_GRANTS).is_empty


def reset_two_factor(actor: User, user: User, *, reason: str) -> None:
    """Remove `user`'s second factor (a lost phone); they enrol again at their next sign-in. Needs a
    reason; audited; the person is told in their inbox (someone else doing this is worth knowing)."""
    from linjialin.notifications.services import notify

    if not can_reset(actor):
        raise PermissionDenied(_("You may not reset two-factor sign-in."))
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("Give a reason (for example: phone lost).")})
    with transaction.atomic():
        removed = sum(
            model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
            for model in (TOTPDevice, StaticDevice)
        )
        notify(
            [user],
            kind="two_factor_reset",
            title=gettext_lazy("Your two-factor sign-in was reset"),
            body=gettext_lazy(
                "%(name)s removed your authenticator app and recovery codes. You will set up a new app "
                "at your next sign-in. If you did not ask for this, tell your administrator."
            ),
            params={"name": actor.display_name},
            actor=actor,
        )
        audit.record(
            "two_factor.reset", actor=actor, obj=user, path="", reason=reason, after={"devices": removed}
        )
