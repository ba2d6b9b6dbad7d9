"""The API token page at 375×812: an admin creates a token (the secret shown once, selectable), the
list fits the phone width, the token works on the API, and revoking it with a reason stops it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from linjialin.accounts.models import ApiToken
from linjialin.accounts.services import create_service_account

from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_admin_creates_and_revokes_a_token_on_a_phone(phone, tree, admin):
    # integration tokens belong to a service account (a person's account holds only its owner's tokens)
    hotline = create_service_account(None, mobile="19900012345", display_name="12345热线接口")
    page = phone
    log_in(page, admin.mobile)
    page.goto(page.url_for(reverse("accounts:tokens")))
    fits_phone(page)
    page.get_by_label(re.compile("Account|账号")).fill(hotline.mobile)
    page.get_by_label(re.compile("^(Name|名称)")).fill("12345 热线对接（区热线平台，生产环境）")
    days = page.get_by_label(re.compile("Valid for|有效天数"))
    assert days.input_value() == "365"  # the default from ApiTokenRules
    button = page.get_by_role("button", name=re.compile("Create token|创建令牌"))
    assert button.bounding_box()["height"] >= 44
    button.click()
    secret_box = page.locator("#new-secret")
    secret = secret_box.input_value()
    assert secret.startswith("ljl_") and ApiToken.objects.get().prefix == secret[:12]
    fits_phone(page)
    assert secret_box.bounding_box()["width"] <= 375
    screenshot(page, "api-token-created")

    api = Client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    page.goto(page.url_for(reverse("accounts:tokens")))  # the secret is not shown again
    assert secret not in page.content() and f"{secret[:12]}…" in page.locator("main").inner_text()
    card = page.locator("main li", has_text="12345")
    card.get_by_label(re.compile("Reason for revoking|吊销原因")).fill("对接合同到期")
    revoke = card.get_by_role("button", name=re.compile("^(Revoke|吊销)$"))
    assert revoke.bounding_box()["height"] >= 44
    revoke.click()
    page.wait_for_url(page.url_for(reverse("accounts:tokens")))
    assert "对接合同到期" in page.locator("main").inner_text()
    fits_phone(page)
    screenshot(page, "api-token-revoked")
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert page.console_errors == []
