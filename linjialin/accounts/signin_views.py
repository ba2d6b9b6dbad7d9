"""Pages of one's own sign-in: the account page (the user menu's entry), change password, two-factor
enrolment and verification, one's sessions with "sign out others", and the Django admin's login (which
is ours). Each view parses input and calls one service (services, two_factor, sessions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services, sessions, two_factor
from .forms import PasswordChangeForm, TokenForm


def _next(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def admin_login(request, extra_context=None):
    """The Django admin's login page: the site's own sign-in (throttled, with two-factor) instead."""
    if request.user.is_authenticated:
        raise PermissionDenied(_("Your account may not use the administration site."))
    return redirect(reverse("accounts:login") + "?" + urlencode({"next": _next(request, "admin:index")}))


@login_required
def account(request):
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "has_two_factor": two_factor.has_device(user),
            "needs_two_factor": two_factor.needs_second_factor(user),
            "session_count": len(sessions.list_sessions_for_user(user)),
        },
    )


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    forced = two_factor.pending_step(request) == two_factor.CHANGE_PASSWORD
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.change_password(
                request.user,
                old=form.cleaned_data["old_password"],
                new=form.cleaned_data["new_password1"],
                keep_session_key=request.session.session_key,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field, error)
        else:
            update_session_auth_hash(request, request.user)  # stay signed in here (the key is cycled)
            sessions.track(request, request.user)
            message = _("Your password was changed.")
            if ended:
                message += " " + _("Your other sessions were signed out.")
            messages.success(request, message)
            return redirect(_next(request, "accounts:account"))
    return render(request, "accounts/password_change.html", {"form": form, "forced": forced})


@login_required
def two_factor_setup(request):
    user = request.user
    if two_factor.has_device(user) and not request.user.is_verified():
        return redirect("accounts:two_factor_verify")
    if two_factor.has_device(user) and request.method == "GET" and "again" not in request.GET:
        return render(request, "accounts/two_factor_done.html", {"codes": None})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request, token=form.cleaned_data["token"])
        except ValidationError as exc:
            for error in exc.message_dict.get("token", exc.messages):
                form.add_error("token", error)
        else:
            return render(request, "accounts/two_factor_done.html", {"codes": codes, "next": _next(request)})
    device = two_factor.pending_device(user)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.qr_svg(device),
            "secret": two_factor.secret_for_typing(device),
            "forced": two_factor.pending_step(request) == two_factor.ENROL,
        },
    )


@login_required
def two_factor_verify(request):
    if two_factor.pending_step(request) != two_factor.VERIFY:
        return redirect(_next(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, token=form.cleaned_data["token"]):
            return redirect(_next(request))
        form.add_error("token", _("That code is not right. Try the current code, or a recovery code."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


@login_required
def session_list(request):
    rows = sessions.list_sessions_for_user(request.user)
    current = request.session.session_key
    return render(request, "accounts/sessions.html", {"rows": rows, "current": current})


@login_required
@require_POST
def sign_out_others(request):
    ended = sessions.sign_out_other_sessions(request.user, keep_key=request.session.session_key)
    messages.success(request, _("Signed out %(count)d other sessions.") % {"count": ended})
    return redirect("accounts:sessions")
