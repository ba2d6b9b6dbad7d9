"""Retention per data class as data, enforced by a nightly job that is itself audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from linjialin.core import beat, retention
from linjialin.core.models import AuditEvent, RetentionRule
from linjialin.notifications.models import Notification
from linjialin.service_requests import services as request_services
from linjialin.service_requests.models import Category, ServiceRequest


def test_audit_retention_below_six_months_is_refused(db, admin):
    with pytest.raises(ValidationError) as exc:
        retention.set_keep_days(admin, "audit", keep_days=182)
    assert "keep_days" in exc.value.message_dict
    assert retention.rule("audit").keep_days == 3 * 365  # the default, untouched
    rule = RetentionRule(data_class="audit", keep_days=100)
    with pytest.raises(ValidationError):
        rule.clean()  # the admin form's check
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionRule.objects.filter(data_class="audit").update(keep_days=100)  # the database's
    retention.set_keep_days(admin, "audit", keep_days=183)
    assert AuditEvent.objects.filter(action="retention.rule_changed").count() == 1


def test_every_class_is_a_rule_row_with_a_default(db):
    codes = set(retention.classes())
    assert {"audit", "sessions", "notifications", "closed_request_contacts"} <= codes
    retention.enforce()
    assert set(RetentionRule.objects.values_list("data_class", flat=True)) == codes
    assert RetentionRule.objects.get(data_class="notifications").keep_days == 3 * 365


def test_nightly_job_purges_old_data_keeps_recent_and_is_audited(tree, resident_a, admin):
    now = timezone.now()
    retention.set_keep_days(admin, "notifications", keep_days=30)
    retention.set_keep_days(admin, "closed_request_contacts", keep_days=90)
    old = Notification.objects.create(user=resident_a, kind="t", title="old")
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=31))
    fresh = Notification.objects.create(user=resident_a, kind="t", title="new")
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now - timedelta(days=40))
    Session.objects.create(session_key="y" * 32, session_data="", expire_date=now + timedelta(days=1))
    req = request_services.submit_request(
        resident_a,
        place=tree.household_a1,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
        contact_name="张三",
        contact_mobile="13912345678",
    )
    ServiceRequest.objects.filter(pk=req.pk).update(state="closed", closed_at=now - timedelta(days=100))
    audits_before = AuditEvent.objects.count()

    report = retention.enforce(now)

    assert (
        not Notification.objects.filter(pk=old.pk).exists()
        and Notification.objects.filter(pk=fresh.pk).exists()
    )
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
    req.refresh_from_db()
    assert (req.contact_name, req.contact_mobile) == ("", "") and req.place_id == tree.household_a1.pk
    assert AuditEvent.objects.filter(pk__gt=0).count() == audits_before + 1  # one event per run
    event = AuditEvent.objects.get(action="retention.enforced")
    assert event.after["classes"]["notifications"]["purged"] >= 1
    assert event.after["classes"]["closed_request_contacts"]["purged"] == 1
    assert event.after["classes"]["audit"]["purged"] == 0  # the chain is never cut
    assert report["sessions"]["purged"] == 1


def test_enforce_retention_is_scheduled_nightly():
    job = beat.JOBS["enforce_retention"]
    assert job.cron == "45 3 * * *"


def test_sign_in_records_past_their_time_are_deleted(resident_a):
    from linjialin.accounts.models import UserSession

    now = timezone.now()
    old = UserSession.objects.create(user=resident_a, session_key="o" * 32, ip="10.0.0.1")
    UserSession.objects.filter(pk=old.pk).update(last_seen=now - timedelta(days=91))
    fresh = UserSession.objects.create(user=resident_a, session_key="f" * 32, ip="10.0.0.2")
    counts = retention.enforce()
    assert counts["signin_records"] == {"days": 90, "purged": 1}
    assert list(UserSession.objects.values_list("pk", flat=True)) == [fresh.pk]
