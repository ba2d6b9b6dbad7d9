"""Login audit: Django raises these signals from `authenticate()`/`login()`; services record them."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import services


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    services.record_login_success(user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    services.record_login_failure(credentials.get("mobile") or credentials.get("username") or "")


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.record_logout(user)
