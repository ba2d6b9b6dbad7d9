"""The inbox on a phone (375×812): the nav badge, a long message without sideways scrolling, mark read."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from linjialin.notifications import services
from linjialin.notifications.models import Notification

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_inbox_on_a_phone(phone, tree, entrance_leader_a):
    page = phone
    services.notify([entrance_leader_a], kind="test", title="诉求 20261102000001 即将到期")
    (long,) = services.notify(
        [entrance_leader_a],
        kind="test",
        title="诉求 20261102000002 已超期（督办）" + "很长的内容" * 30,
        body="https://example.invalid/" + "x" * 120,
    )
    log_in(page, entrance_leader_a.mobile)
    page.goto(page.url_for(reverse("notifications:inbox")))
    fits_phone(page)
    assert page.locator("h1 .badge").inner_text() == "2"
    screenshot(page, "notifications-inbox")
    button = page.locator("main li", has_text="20261102000002").get_by_role(
        "button", name=re.compile("^(Mark read|标为已读)$")
    )
    assert button.bounding_box()["height"] >= 44
    button.click()
    page.wait_for_url(page.url_for(reverse("notifications:inbox")))
    assert page.locator("h1 .badge").inner_text() == "1"
    assert Notification.objects.get(pk=long.pk).read_at is not None
    fits_phone(page)
