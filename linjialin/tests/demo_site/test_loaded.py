"""The demo command loads every part of the demo into one database."""

import pytest

from linjialin.accounts.models import User
from linjialin.places.demo import DEMO_LOGINS

pytestmark = [pytest.mark.xdist_group("demo-site"), pytest.mark.usefixtures("demo_site", "db")]


def test_every_demo_login_exists():
    mobiles = {login.mobile for login in DEMO_LOGINS}
    assert mobiles <= set(User.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True))
