import time

from django.conf import settings
from django.contrib.auth import logout


class IdleTimeoutMiddleware:
    """Log a session out after SESSION_IDLE_TIMEOUT_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen", now)
            if now - last > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
            else:
                if now - last > 30:  # avoid a session write on every request
                    request.session["last_seen"] = now
                request.session.setdefault("last_seen", now)
        return self.get_response(request)
