"""The whole demo (`linjialin demo`: the subdistrict, its year of requests, mediation and mutual aid)
loaded once for the tests in this folder, inside a transaction rolled back afterwards, so other tests
never see it. Every test module here sets `pytestmark = [pytest.mark.xdist_group("demo-site"),
pytest.mark.usefixtures("demo_site", "db")]`: one worker builds the demo once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo's logins, checked quickly


@pytest.fixture(scope="package")
def demo_site(django_db_setup, django_db_blocker):
    """The loaded demo; its tests also take `db` (a savepoint inside the demo's transaction)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("demo", "--no-progress", "--no-logins")
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
