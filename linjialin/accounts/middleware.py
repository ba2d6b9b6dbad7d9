import hashlib
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import sessions, two_factor

SEEN_COOKIE = "ljl_seen"
SEEN_SALT = "linjialin.accounts.idle"
SESSION_WRITE_EVERY = 30  # seconds: the session row keeps the time coarsely, the signed cookie exactly


def last_activity(request) -> float | None:
    """The time of the session's last request: the later of the session's coarse `last_seen` and the
    signed cookie every response carries (bound to the session key, so it cannot be reused elsewhere,
    and signed, so a client cannot move it forward; an older one adds nothing)."""
    last = request.session.get("last_seen")
    value = request.get_signed_cookie(SEEN_COOKIE, default=None, salt=SEEN_SALT)
    if value and request.session.session_key:
        tag, _sep, at = value.rpartition(":")
        try:
            if tag == _session_tag(request.session.session_key):
                last = max(float(at), last or 0.0)
        except ValueError:
            pass
    return last


def _session_tag(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:16]  # names the session, does not reveal it


def is_idle(request, now: float) -> bool:
    last = last_activity(request)
    return last is not None and now - last >= settings.SESSION_IDLE_TIMEOUT_MINUTES * 60


class IdleTimeoutMiddleware:
    """Log a session out after exactly SESSION_IDLE_TIMEOUT_MINUTES without a request: idle for less
    than the limit it lives, at the limit it ends.

    Writing the time into the session only every 30 s (to spare a database write per request) ended
    sessions up to 30 s early. The exact time now travels in a signed cookie set on every response;
    the session row still gets it every 30 s (a client that drops cookies is judged by that)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seen = None
        if request.user.is_authenticated:
            now = time.time()
            if is_idle(request, now):
                logout(request)
            else:
                if now - request.session.get("last_seen", 0) >= SESSION_WRITE_EVERY:
                    request.session["last_seen"] = now
                sessions.touch(request)
                seen = now
        response = self.get_response(request)
        key = getattr(request, "session", None) and request.session.session_key
        if seen is not None and key and request.user.is_authenticated:
            response.set_signed_cookie(
                SEEN_COOKIE,
                f"{_session_tag(key)}:{seen!r}",
                salt=SEEN_SALT,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        elif SEEN_COOKIE in request.COOKIES and not request.user.is_authenticated:
            response.delete_cookie(SEEN_COOKIE, samesite="Lax")
        return response


# pages a signed-in user may open while a sign-in step is pending (by URL name)
STEP_PAGES = {
    "accounts:logout",
    "accounts:language",
    "accounts:two_factor_verify",
    "accounts:two_factor_setup",
    "accounts:password_change",
    "javascript-catalog",
    "set_language",
    "healthz",
}
STEP_URLS = {
    two_factor.VERIFY: "accounts:two_factor_verify",
    two_factor.ENROL: "accounts:two_factor_setup",
    two_factor.CHANGE_PASSWORD: "accounts:password_change",
}


class SignInStepsMiddleware:
    """A signed-in user with a step pending (two_factor.pending_step: the second factor to give, to
    enrol, or a password to change) reaches only that step's page and logging out; every other page
    sends them there, and the API answers 403. (Integrations call the API with a token and no session,
    so they never have a step pending.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = two_factor.pending_step(request)
        if step is None:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            # even with an Authorization header: a wrong token falls back to this session in the API
            return JsonResponse({"detail": _("Finish signing in on the website first.")}, status=403)
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            name = ""
        if name in STEP_PAGES:
            return self.get_response(request)
        target = reverse(STEP_URLS[step])
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
