import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import sessions, two_factor


class IdleTimeoutMiddleware:
    """Log a session out after exactly SESSION_IDLE_TIMEOUT_MINUTES without a request.

    The time of the last request is written on every request (one session save): writing it only
    every 30 s, as before, ended sessions up to 30 s early. A session idle for less than the limit
    lives; at the limit it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get("last_seen", now)
            if now - last >= settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
            else:
                request.session["last_seen"] = now
                sessions.touch(request)
        return self.get_response(request)


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
