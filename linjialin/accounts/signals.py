"""Login audit: Django raises these signals from `authenticate()`/`login()`; services record them, the
throttle counts failures (accounts/throttle.py) and the session is listed on the sessions page."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from linjialin.core.middleware import client_ip

from . import services, sessions, throttle


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    services.record_login_success(user)
    if request is not None:
        throttle.register_success(user.mobile, client_ip(request))
        sessions.track(request, user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    mobile = credentials.get("mobile") or credentials.get("username") or ""
    ip = client_ip(request) if request is not None else None
    wait = throttle.register_failure(mobile, ip)
    services.record_login_failure(mobile, wait_seconds=wait)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.record_logout(user)
    if request is not None:
        sessions.forget(request)
