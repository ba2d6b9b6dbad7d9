"""Sign-in controls of 等保 level 3 (docs/security.md, sign-in): the admin behind the site's login and
two-factor, throttling instead of a lock strangers can trigger, the same answer for known and unknown
numbers, 429 with Retry-After, the password policy and change page, the forced change of a password
someone else chose, staff two-factor (enrol, verify, recovery codes, reset by an admin), an exact idle
timeout, one's sessions with "sign out others", and X-Forwarded-For trusted only when configured."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linjialin.accounts import services, throttle, two_factor
from linjialin.accounts.models import User, UserSession
from linjialin.core.models import AuditEvent
from linjialin.notifications.models import Notification
from linjialin.testing.plugin import PASSWORD

LOGIN = "accounts:login"
STRANGER, OWNER_HOME = "203.0.113.66", "198.51.100.7"


def post_login(client, mobile, password, ip="127.0.0.1", **extra):
    return client.post(reverse(LOGIN), {"username": mobile, "password": password, **extra}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def code_for(device: TOTPDevice, *, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + later
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def production(settings):
    """Outside demo mode: two-factor and password changes are forced."""
    settings.DEMO_MODE = False
    return settings


@pytest.fixture
def superuser(tree):
    return User.objects.create_superuser("13900000099", PASSWORD, display_name="超级管理员")


# --- finding 1: the Django admin's login ----------------------------------------------------------
def test_admin_login_respects_the_lock(client, superuser):
    """A locked superuser: 20 wrong passwords at /admin/login/ are not even checked there (the admin's
    login is the site's), and the right password is refused while the lock runs, which stays."""
    until = timezone.now() + timedelta(hours=1)
    User.objects.filter(pk=superuser.pk).update(locked_until=until)
    admin_login = reverse("admin:login")
    for _ in range(20):
        response = client.post(admin_login, {"username": superuser.mobile, "password": "Wrong-pass-1"})
        assert response.status_code == 302 and response["Location"].startswith(reverse(LOGIN))
    response = post_login(client, superuser.mobile, PASSWORD)
    assert response.status_code == 200
    [error] = response.context["form"].errors.as_data()["__all__"]
    assert error.code == "locked" and str(error.message) in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    superuser.refresh_from_db()
    assert superuser.locked_until == until
    assert not AuditEvent.objects.filter(action="login.success").exists()


def test_admin_login_redirects_to_the_site_login_keeping_next(client, superuser):
    response = client.get(reverse("admin:login"), {"next": "/admin/core/auditevent/"})
    assert response.status_code == 302
    assert response["Location"] == reverse(LOGIN) + "?next=%2Fadmin%2Fcore%2Fauditevent%2F"
    # and an admin page sends an anonymous visitor the same way
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse(LOGIN))


def test_admin_requires_a_verified_second_factor(client, superuser, production):
    device = TOTPDevice.objects.create(user=superuser, name="app", confirmed=True)
    assert post_login(client, superuser.mobile, PASSWORD).status_code == 302
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:two_factor_verify")
    )
    client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_without_a_second_factor_must_enrol_first(client, superuser, production):
    post_login(client, superuser.mobile, PASSWORD)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:two_factor_setup")
    )


def test_a_signed_in_non_staff_user_gets_403_from_the_admin_not_a_loop(client, resident_a):
    post_login(client, resident_a.mobile, PASSWORD)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


# --- finding 4: throttling instead of a lock ------------------------------------------------------
def test_strangers_cannot_lock_an_account(client, resident_a):
    """20 wrong passwords from a stranger's address (each after the wait it was asked for): no lock;
    the owner, from home, waits at most the short per-number ceiling (60 s by default) and then signs
    in with the right password, while the stranger's address waits far longer for this number."""
    now = last = timezone.now()
    for _ in range(20):
        with time_machine.travel(now, tick=False):
            assert post_login(client, resident_a.mobile, "Wrong-pass-1", ip=STRANGER).status_code == 200
            last, now = now, now + timedelta(seconds=throttle.wait_seconds(resident_a.mobile, STRANGER))
    now = last + timedelta(seconds=1)  # the owner tries right after the stranger's last attempt
    resident_a.refresh_from_db()
    assert resident_a.locked_until is None and resident_a.failed_logins == 20
    ceiling = throttle.rules().max_delay_account_seconds
    with time_machine.travel(now, tick=False):
        owner = Client()
        response = post_login(owner, resident_a.mobile, PASSWORD, ip=OWNER_HOME)
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= ceiling
    with time_machine.travel(now + timedelta(seconds=int(response["Retry-After"])), tick=False):
        assert post_login(owner, resident_a.mobile, PASSWORD, ip=OWNER_HOME).status_code == 302
        stranger = post_login(Client(), resident_a.mobile, "Wrong-pass-1", ip=STRANGER)
        assert stranger.status_code == 429 and int(stranger["Retry-After"]) > ceiling


def test_delays_grow_with_each_failure(client, resident_a):
    r = throttle.rules()
    start = timezone.now()
    waits = []
    now = start
    for _ in range(r.free_failures_per_account + 4):
        with time_machine.travel(now, tick=False):
            assert post_login(client, resident_a.mobile, "Wrong-pass-1").status_code == 200
            waits.append(throttle.wait_seconds(resident_a.mobile, "127.0.0.1"))
            now = now + timedelta(seconds=waits[-1])
    free = r.free_failures_per_account
    first = r.first_delay_seconds
    assert waits == [0] * free + [first, 2 * first, 4 * first, 8 * first]
    failures = AuditEvent.objects.filter(action="login.failure").order_by("seq")
    assert [e.after.get("wait_seconds", 0) for e in failures] == waits


def test_known_and_unknown_numbers_get_the_same_answer_and_work(client, resident_a, monkeypatch):
    """The same page, status and message for a registered and an unregistered number, and the same
    password hashing work (Django's backend hashes a dummy for an unknown number); the throttle counts
    both alike, so the 429 tells nothing either."""
    from django.contrib.auth import hashers

    calls = []
    hasher = hashers.get_hasher()
    for name in ("encode", "verify"):
        original = getattr(type(hasher), name)
        monkeypatch.setattr(
            type(hasher),
            name,
            lambda self, *a, _o=original, _n=name, **k: calls.append(_n) or _o(self, *a, **k),
        )

    def attempt(mobile):
        calls.clear()
        response = post_login(Client(), mobile, "Wrong-pass-1", ip="192.0.2.1")
        html = _without_tokens(response.content.decode())
        return response.status_code, html, len(calls)

    known, unknown = attempt(resident_a.mobile), attempt("13512345678")
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1]
    assert known[2] == unknown[2] == 1
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(5):
            post_login(Client(), resident_a.mobile, "Wrong-pass-1", ip="192.0.2.2")
            post_login(Client(), "13512345678", "Wrong-pass-1", ip="192.0.2.3")
        a = post_login(Client(), resident_a.mobile, "Wrong-pass-1", ip="192.0.2.2")
        b = post_login(Client(), "13512345678", "Wrong-pass-1", ip="192.0.2.3")
        assert a.status_code == b.status_code == 429 and a["Retry-After"] == b["Retry-After"]
        assert _without_tokens(a.content.decode()) == _without_tokens(b.content.decode())


def _without_tokens(html: str) -> str:
    """The page without its CSRF tokens and the typed number (the only parts that may differ)."""
    return re.sub(r'value="[^"]*"|[A-Za-z0-9]{32,}', "", html)


def test_a_spray_from_one_address_gets_429(client, resident_a, resident_b, entrance_leader_a):
    """30 numbers, one wrong password each, from one address: after the address's free failures the
    next attempts are refused with 429, Retry-After and a friendly page (the password is not checked)."""
    numbers = [resident_a.mobile, resident_b.mobile, entrance_leader_a.mobile] + [
        f"1371234{n:04d}" for n in range(27)
    ]
    statuses = []
    with time_machine.travel(timezone.now(), tick=False):
        for number in numbers:
            response = post_login(client, number, "Wrong-pass-1", ip=STRANGER)
            statuses.append(response.status_code)
    free = throttle.rules().free_failures_per_address
    assert statuses[:free] == [200] * free
    assert set(statuses[free + 1 :]) == {429}
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Please try again in" in html or "秒后再试" in html
    assert AuditEvent.objects.filter(action="login.failure").count() == free + 1


def test_the_wait_page_is_translated(client, db):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(throttle.rules().free_failures_per_account + 1):
            post_login(client, "13512345678", "Wrong-pass-1")
        zh = post_login(client, "13512345678", "Wrong-pass-1")
        en = client.post("/en" + reverse(LOGIN), {"username": "13512345678", "password": "x"})
    assert zh.status_code == en.status_code == 429
    assert "秒" in zh.content.decode() and "Please try again in" in en.content.decode()


# --- password policy, change page (finding 10) and forced change ----------------------------------
@pytest.mark.parametrize("password", ["Ab-13900000001", "x13900000001Y!", "Zz-00000001-q"])
def test_the_password_must_not_contain_the_mobile(resident_a, password):
    with pytest.raises(ValidationError):
        validate_password(password, resident_a)


def test_create_user_applies_the_password_policy(tree, community_worker):
    with pytest.raises(ValidationError) as exc:
        services.create_user(community_worker, mobile="13712345678", display_name="x", password="password")  # noqa: S106
    assert "password" in exc.value.message_dict
    assert not User.objects.filter(mobile="13712345678").exists()
    with pytest.raises(ValidationError):
        services.create_user(None, mobile="13712345678", display_name="x", password="Ab-13712345678")  # noqa: S106
    user = services.create_user(
        community_worker,
        mobile="13712345678",
        display_name="x",
        password="Tongyun-Jie-8",  # noqa: S106
    )
    assert user.must_change_password  # someone else chose it


def test_change_password_page_changes_it_and_signs_out_other_sessions(client, resident_a):
    other = Client()
    post_login(other, resident_a.mobile, PASSWORD, ip=OWNER_HOME)
    post_login(client, resident_a.mobile, PASSWORD)
    assert signed_in(other) and signed_in(client)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    new = "Neighbour-Gate-7"
    response = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    resident_a.refresh_from_db()
    assert resident_a.check_password(new)
    assert signed_in(client) and not signed_in(other)
    assert AuditEvent.objects.filter(action="password.changed", actor=resident_a).exists()
    assert AuditEvent.objects.get(action="sessions.signed_out_others").after == {"sessions": 1}


@pytest.mark.parametrize(
    ("old", "one", "two", "field"),
    [
        ("Wrong-pass-1", "Neighbour-Gate-7", "Neighbour-Gate-7", "old_password"),
        (PASSWORD, "Neighbour-Gate-7", "Neighbour-Gate-8", "new_password2"),
        (PASSWORD, "Ab-13900000001", "Ab-13900000001", "new_password1"),  # contains the mobile
        (PASSWORD, "password", "password", "new_password1"),  # common, short, one class
        (PASSWORD, PASSWORD, PASSWORD, "new_password1"),  # unchanged
    ],
)
def test_change_password_refuses_bad_input_and_writes_nothing(client, resident_a, old, one, two, field):
    post_login(client, resident_a.mobile, PASSWORD)
    response = client.post(
        reverse("accounts:password_change"), {"old_password": old, "new_password1": one, "new_password2": two}
    )
    assert response.status_code == 200 and response.context["form"].errors[field]
    resident_a.refresh_from_db()
    assert resident_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password.changed").exists()


def test_a_password_someone_else_chose_must_be_changed_outside_demo_mode(client, resident_a, production):
    User.objects.filter(pk=resident_a.pk).update(must_change_password=True)
    response = post_login(client, resident_a.mobile, PASSWORD)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:password_change")
    )
    assert client.get(reverse("places:tree") if False else reverse("notifications:inbox")).status_code == 302
    new = "Neighbour-Gate-7"
    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert signed_in(client)
    resident_a.refresh_from_db()
    assert not resident_a.must_change_password


def test_in_demo_mode_the_demo_password_may_stay(client, resident_a, settings):
    settings.DEMO_MODE = True
    User.objects.filter(pk=resident_a.pk).update(must_change_password=True)
    post_login(client, resident_a.mobile, PASSWORD)
    assert signed_in(client)


def test_the_demo_logins_must_change_the_published_password():
    """The demo loader marks its logins (their password is published in the README)."""
    import inspect

    from linjialin.places import demo

    source = inspect.getsource(demo._create_logins)
    assert "must_change_password=True" in source


def test_the_admin_can_require_a_password_change(tree, admin, resident_a):
    services.require_password_change(admin, resident_a)
    resident_a.refresh_from_db()
    assert resident_a.must_change_password
    assert AuditEvent.objects.filter(action="password.change_required", actor=admin).exists()
    with pytest.raises(PermissionDenied):
        services.require_password_change(resident_a, admin)


# --- two-factor for staff ----------------------------------------------------------------------------
def test_staff_roles_need_a_second_factor_and_residents_and_leaders_do_not(
    resident_a, entrance_leader_a, grid_worker, community_worker, auditor, admin, subdistrict_dispatcher
):
    assert not two_factor.needs_second_factor(resident_a)
    assert not two_factor.needs_second_factor(entrance_leader_a)
    for user in (grid_worker, community_worker, auditor, admin, subdistrict_dispatcher):
        assert two_factor.needs_second_factor(user), user


def test_staff_enrol_before_reaching_any_page_then_verify_at_each_sign_in(
    client, community_worker, production
):
    post_login(client, community_worker.mobile, PASSWORD)
    for url in (reverse("home"), reverse("notifications:inbox"), reverse("accounts:sessions")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:two_factor_setup")
        )
    assert client.get("/api/v1/requests/").status_code == 403
    assert client.get("/api/v1/requests/", HTTP_AUTHORIZATION="Bearer ljl_wrong").status_code == 403
    page = client.get(reverse("accounts:two_factor_setup"))
    html = page.content.decode()
    assert (
        page.status_code == 200
        and "<svg" in html
        and "<script" not in html.split("<main")[1].split("</main>")[0]
    )
    device = TOTPDevice.objects.get(user=community_worker, confirmed=False)
    # a wrong code changes nothing
    response = client.post(
        reverse("accounts:two_factor_setup"),
        {"token": "000000" if code_for(device) != "000000" else "111111"},
    )
    assert response.status_code == 200 and response.context["form"].errors["token"]
    assert not TOTPDevice.objects.filter(user=community_worker, confirmed=True).exists()
    # the right one (after the app's short wait that follows a wrong code): ten recovery codes, shown once
    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(reverse("accounts:two_factor_setup"), {"token": code_for(device)})
    codes = response.context["codes"]
    assert len(codes) == 10 and all(c in response.content.decode() for c in codes)
    assert signed_in(client)
    assert AuditEvent.objects.filter(action="two_factor.enrolled", actor=community_worker).exists()
    assert client.get(reverse("accounts:two_factor_setup")).context["codes"] is None  # not shown again
    # next sign-in: password, then a code
    client.post(reverse("accounts:logout"))
    later = timezone.now() + timedelta(seconds=60)
    with time_machine.travel(later, tick=False):
        post_login(client, community_worker.mobile, PASSWORD)
        response = client.get(reverse("home"))
        assert response["Location"].startswith(reverse("accounts:two_factor_verify"))
        response = client.post(reverse("accounts:two_factor_verify"), {"token": "12345"})
        assert response.status_code == 200 and not signed_in(client)
        assert AuditEvent.objects.filter(action="two_factor.failure").exists()
        device.refresh_from_db()
        device.throttling_failure_count = 0
        device.throttling_failure_timestamp = None
        device.save()
        client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})
        assert signed_in(client)


def test_a_recovery_code_signs_in_once(client, community_worker, production):
    device = TOTPDevice.objects.create(user=community_worker, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=community_worker, name="codes", confirmed=True)
    static.token_set.create(token="abcd2345")  # noqa: S106
    assert device
    post_login(client, community_worker.mobile, PASSWORD)
    client.post(reverse("accounts:two_factor_verify"), {"token": "abcd2345"})
    assert signed_in(client)
    client.post(reverse("accounts:logout"))
    post_login(client, community_worker.mobile, PASSWORD)
    client.post(reverse("accounts:two_factor_verify"), {"token": "abcd2345"})
    assert not signed_in(client)


def test_residents_are_not_forced_to_enrol(client, resident_a, entrance_leader_a, production):
    for user in (resident_a, entrance_leader_a):
        c = Client()
        post_login(c, user.mobile, PASSWORD)
        assert signed_in(c)


def test_in_demo_mode_staff_are_offered_two_factor_but_not_forced(client, community_worker, settings):
    settings.DEMO_MODE = True
    post_login(client, community_worker.mobile, PASSWORD)
    assert signed_in(client)
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200


def test_an_admin_resets_a_lost_second_factor_audited_and_the_person_is_told(tree, admin, community_worker):
    TOTPDevice.objects.create(user=community_worker, name="app", confirmed=True)
    StaticDevice.objects.create(user=community_worker, name="codes", confirmed=True)
    with pytest.raises(ValidationError):
        two_factor.reset_two_factor(admin, community_worker, reason="")
    with pytest.raises(PermissionDenied):
        two_factor.reset_two_factor(community_worker, admin, reason="phone lost")
    assert TOTPDevice.objects.filter(user=community_worker).exists()
    two_factor.reset_two_factor(admin, community_worker, reason="phone lost")
    assert not TOTPDevice.objects.filter(user=community_worker).exists()
    assert not StaticDevice.objects.filter(user=community_worker).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.object_id, event.reason) == (admin, str(community_worker.pk), "phone lost")
    note = Notification.objects.get(user=community_worker)
    assert "系统管理员" in note.body


# --- finding 10: exact idle timeout ----------------------------------------------------------------
def test_idle_timeout_is_exact(client, resident_a, settings):
    """Requests at t0 and t0+20 s; idle for just under the limit after the last one: alive (before, the
    20 s request was not recorded and the session ended up to 30 s early); idle for the limit: ended."""
    limit = timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        post_login(client, resident_a.mobile, PASSWORD)
        assert signed_in(client)
    with time_machine.travel(t0 + timedelta(seconds=20), tick=False):
        assert signed_in(client)
    last = t0 + timedelta(seconds=20) + limit - timedelta(milliseconds=1)
    with time_machine.travel(last, tick=False):
        assert signed_in(client)
    with time_machine.travel(last + limit, tick=False):
        assert not signed_in(client)


def test_the_idle_time_cannot_be_moved_forward_by_the_client(resident_a, settings):
    """The exact time travels in a signed cookie: an edited one is ignored (the session's own time
    decides), and a valid one from another session does not count for this one."""
    from linjialin.accounts.middleware import SEEN_COOKIE

    limit = timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    t0 = timezone.now()
    edited, borrowed, fresh = Client(), Client(), Client()
    with time_machine.travel(t0, tick=False):
        for c in (edited, borrowed, fresh):
            post_login(c, resident_a.mobile, PASSWORD)
            assert signed_in(c)
    with time_machine.travel(t0 + limit - timedelta(seconds=5), tick=False):
        assert signed_in(fresh)
    with time_machine.travel(t0 + limit, tick=False):
        value = edited.cookies[SEEN_COOKIE].value
        edited.cookies[SEEN_COOKIE] = value.replace(value.split(":")[1], repr((t0 + limit).timestamp()))
        borrowed.cookies[SEEN_COOKIE] = fresh.cookies[SEEN_COOKIE].value
        assert not signed_in(edited) and not signed_in(borrowed)
        assert signed_in(fresh)


# --- sessions ------------------------------------------------------------------------------------------
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0"
)


def test_my_sessions_page_lists_devices_and_signs_out_the_others(client, resident_a):
    phone = Client(HTTP_USER_AGENT=ANDROID_CHROME)
    post_login(phone, resident_a.mobile, PASSWORD, ip=OWNER_HOME)
    desk = Client(HTTP_USER_AGENT=WINDOWS_EDGE)
    post_login(desk, resident_a.mobile, PASSWORD)
    page = desk.get(reverse("accounts:sessions"))
    html = page.content.decode()
    # the device in words a person knows, not the raw user agent
    assert "Chrome · Android" in html and "Edge · Windows" in html and OWNER_HOME in html
    assert UserSession.objects.filter(user=resident_a).count() == 2
    response = desk.post(reverse("accounts:sign_out_others"))
    assert response.status_code == 302
    assert signed_in(desk) and not signed_in(phone)
    assert list(UserSession.objects.filter(user=resident_a).values_list("user_agent", flat=True)) == [
        WINDOWS_EDGE
    ]
    assert AuditEvent.objects.filter(action="sessions.signed_out_others", actor=resident_a).exists()


def test_the_account_page_links_password_two_factor_and_sessions_in_both_languages(client, resident_a):
    post_login(client, resident_a.mobile, PASSWORD)
    for prefix, words in (("", ("修改密码", "两步验证")), ("/en", ("Change password", "Two-factor sign-in"))):
        html = client.get(prefix + reverse("accounts:account")).content.decode()
        for name in (
            "accounts:password_change",
            "accounts:two_factor_setup",
            "accounts:sessions",
            "accounts:my_data",
        ):
            assert reverse(name).removeprefix("/") in html
        for word in words:
            assert word in html
    assert reverse("accounts:account") in client.get(reverse("home")).content.decode()  # the user menu


# --- finding 10: client address ---------------------------------------------------------------------
def test_forwarded_for_is_ignored_without_a_configured_proxy(rf, settings):
    from linjialin.core.middleware import client_ip

    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "127.0.0.1"


def test_the_web_server_does_not_rewrite_the_peer_from_forwarded_for():
    """uvicorn's default trusts X-Forwarded-For from 127.0.0.1: the worker `linjialin web` runs turns
    that off, so the peer stays the socket's address and client_ip alone decides."""
    import asyncio

    from django.utils.module_loading import import_string
    from uvicorn.config import Config

    from linjialin.core.management.commands.web import ASGI_WORKER

    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"]

    worker = import_string(ASGI_WORKER)
    config = Config(app, forwarded_allow_ips="127.0.0.1", **worker.CONFIG_KWARGS)
    config.load()
    scope = {
        "type": "http",
        "client": ("127.0.0.1", 5000),
        "headers": [(b"x-forwarded-for", b"203.0.113.9")],
        "scheme": "http",
    }
    asyncio.run(config.loaded_app(scope, None, None))
    assert seen["client"][0] == "127.0.0.1"


def test_the_admin_site_resets_two_factor_with_a_reason(client, superuser, community_worker):
    TOTPDevice.objects.create(user=community_worker, name="app", confirmed=True)
    post_login(client, superuser.mobile, PASSWORD)
    url = reverse("admin:accounts_user_changelist")
    listing = client.get(url)
    assert listing.status_code == 200 and community_worker.mobile not in listing.content.decode()  # masked
    data = {"action": "reset_two_factor", "_selected_action": [community_worker.pk]}
    page = client.post(url, data)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert TOTPDevice.objects.filter(user=community_worker).exists()
    client.post(url, {**data, "reason": "phone lost"})
    assert not TOTPDevice.objects.filter(user=community_worker).exists()
    assert AuditEvent.objects.get(action="two_factor.reset").actor == superuser


def test_the_live_feed_refuses_a_session_with_a_sign_in_step_pending(
    client, rf, community_worker, monkeypatch
):
    """The mutual aid feed's own ASGI endpoint runs no middleware: it checks the step itself."""
    from linjialin.mutual_aid import stream

    monkeypatch.setattr(stream.connections, "close_all", lambda: None)
    device = TOTPDevice.objects.create(user=community_worker, name="app", confirmed=True)
    post_login(client, community_worker.mobile, PASSWORD)

    def feed_status():
        request = rf.get("/mutual-aid/stream/")
        request.COOKIES = {k: v.value for k, v in client.cookies.items()}
        result = stream._setup(request)
        return result if isinstance(result, int) else 200

    assert feed_status() == 403
    client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})
    assert feed_status() == 204  # verified; staff have no household to listen from
