"""One's own account at 375×812: a resident reaches their personal data from the account page and asks
for a correction; a community worker outside demo mode is made to set up two-factor sign-in, scans the
QR code (here: computes the code from the key) and keeps the recovery codes."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from linjialin.places.models import CorrectionRequest
from linjialin.testing.plugin import PASSWORD

from .conftest import fits_phone, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, mobile: str) -> None:
    page.goto(page.url_for(reverse("accounts:login")))
    page.get_by_label(re.compile("Mobile|手机")).fill(mobile)
    page.get_by_label(re.compile("Password|密码")).fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_a_resident_finds_their_data_and_asks_for_a_correction(phone, tree, resident_a):
    page = phone
    sign_in(page, resident_a.mobile)
    page.wait_for_url(page.url_for(reverse("home")))
    page.goto(page.url_for(reverse("accounts:account")))
    fits_phone(page)
    screenshot(page, "account-resident")
    page.get_by_role("link", name=re.compile("我的个人信息|My personal data")).click()
    page.wait_for_url(page.url_for(reverse("accounts:my_data")))
    fits_phone(page)
    download = page.get_by_role("button", name=re.compile("下载我的信息|Download my data"))
    assert download.bounding_box()["height"] >= 44
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.endswith(".zip")
    page.get_by_label(re.compile("哪一项有误|What is wrong")).select_option("birth_year")
    page.get_by_label(re.compile("正确的内容|The correct value")).fill("1961")
    page.get_by_role("button", name=re.compile("提交申请|Send the request")).click()
    page.wait_for_url(page.url_for(reverse("accounts:my_data")))
    fits_phone(page)
    screenshot(page, "my-data-correction-asked")
    assert CorrectionRequest.objects.filter(resident=tree.resident_a1, field="birth_year").count() == 1
    assert page.console_errors == []


@override_settings(DEMO_MODE=False)
def test_a_community_worker_must_set_up_two_factor_and_keeps_the_recovery_codes(
    phone, tree, community_worker
):
    page = phone
    sign_in(page, community_worker.mobile)
    page.wait_for_url(re.compile(re.escape(reverse("accounts:two_factor_setup"))))
    fits_phone(page)
    assert page.locator(".qr svg").bounding_box()["width"] <= 375
    screenshot(page, "two-factor-setup")
    device = TOTPDevice.objects.get(user=community_worker, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    page.get_by_label(re.compile("验证码|code", re.I)).fill(f"{totp.token():0{device.digits}d}")
    page.get_by_role("button", name=re.compile("开启两步验证|Turn on two-factor sign-in")).click()
    page.wait_for_load_state()
    fits_phone(page)
    screenshot(page, "two-factor-recovery-codes")
    assert TOTPDevice.objects.get(user=community_worker).confirmed
    page.goto(page.url_for(reverse("home")))  # set up: no longer sent back to the set-up page
    assert reverse("accounts:two_factor_setup") not in page.url
    assert page.console_errors == []
