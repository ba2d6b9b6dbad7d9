"""The inbox and the channels: notify (dedupe, tasks in the same transaction), mark read, the page."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from linjialin.core.models import AuditEvent
from linjialin.notifications import services
from linjialin.notifications.models import Notification
from linjialin.notifications.tasks import deliver

SENT: list = []


class RecordingChannel:
    """A test channel (stands in for SMS / WeChat)."""

    def send(self, notification):
        SENT.append((notification.pk, notification.user_id, notification.title))


RECORDING = "linjialin.notifications.tests.test_notifications.RecordingChannel"
LOG = "linjialin.notifications.channels.LogChannel"


def tasks_for(rows):
    ids = {r.pk for r in rows}
    return [t for t in DBTaskResult.objects.all() if t.args_kwargs["args"][0] in ids]


def test_notify_writes_the_inbox_and_enqueues_one_task_per_channel(settings, resident_a, resident_b):
    settings.NOTIFICATION_CHANNELS = [LOG, RECORDING]
    rows = services.notify([resident_a, resident_b, resident_a], kind="test", title="停水通知", body="明天")
    assert sorted(r.user_id for r in rows) == sorted([resident_a.pk, resident_b.pk])
    tasks = tasks_for(rows)
    assert len(tasks) == 4
    assert {t.args_kwargs["args"][1] for t in tasks} == {LOG, RECORDING}
    assert all(t.task_path == "linjialin.notifications.tasks.deliver" for t in tasks)
    assert AuditEvent.objects.filter(action="notification.sent").count() == 1


def test_the_same_dedupe_key_never_notifies_twice(resident_a, resident_b):
    first = services.notify([resident_a], kind="test", title="提醒", dedupe_key="remind:1:x")
    again = services.notify([resident_a, resident_b], kind="test", title="提醒", dedupe_key="remind:1:x")
    assert len(first) == 1
    assert [r.user_id for r in again] == [resident_b.pk]  # only the one who had not got it
    assert Notification.objects.filter(dedupe_key="remind:1:x").count() == 2
    assert services.notify([resident_a], kind="test", title="提醒", dedupe_key="remind:1:x") == []
    assert len(tasks_for(first + again)) == 2


def test_inactive_users_and_nobody_get_nothing(resident_a):
    resident_a.is_active = False
    resident_a.save()
    assert services.notify([resident_a, None], kind="test", title="x") == []
    assert not Notification.objects.exists() and not DBTaskResult.objects.exists()


def test_a_rolled_back_change_leaves_no_message_and_no_task(resident_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify([resident_a], kind="test", title="不会发出")
        assert DBTaskResult.objects.count() == 1  # enqueued inside the transaction …
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()  # … and gone with it


def test_the_delivery_task_sends_over_the_channel(settings, resident_a, caplog):
    settings.NOTIFICATION_CHANNELS = [LOG, RECORDING]
    SENT.clear()
    (row,) = services.notify([resident_a], kind="test", title="通知")
    assert deliver.call(row.pk, RECORDING) is True
    assert SENT == [(row.pk, resident_a.pk, "通知")]
    with caplog.at_level(logging.INFO, logger="linjialin.notifications"):
        deliver.call(row.pk, LOG)
    assert f"notification {row.pk} to user {resident_a.pk}" in caplog.text
    with pytest.raises(ValueError, match="not a configured"):
        deliver.call(row.pk, "os.system")
    row.delete()
    assert deliver.call(row.pk, RECORDING) is False


def test_only_the_recipient_marks_a_message_read(resident_a, resident_b):
    (row,) = services.notify([resident_a], kind="test", title="通知")
    with pytest.raises(PermissionDenied):
        services.mark_read(resident_b, row)
    assert Notification.objects.get(pk=row.pk).read_at is None
    assert services.mark_read(resident_a, row) is True
    assert services.mark_read(resident_a, row) is False  # twice is harmless
    assert Notification.objects.get(pk=row.pk).read_at is not None


def test_inbox_lists_newest_first_with_the_unread_badge(client, login, resident_a, resident_b):
    services.notify([resident_a], kind="test", title="第一条")
    services.notify([resident_a], kind="test", title="第二条", link="/places/")
    services.notify([resident_b], kind="test", title="别人的")
    login(resident_a)
    with translation.override("en"):
        page = client.get(reverse("notifications:inbox")).content.decode()
    assert page.index("第二条") < page.index("第一条")
    assert "别人的" not in page
    assert '<span class="badge text-bg-danger">2<span class="visually-hidden"> unread' in page


def test_mark_read_from_the_page(client, login, resident_a, resident_b):
    (mine,) = services.notify([resident_a], kind="test", title="我的", link="/places/")
    (theirs,) = services.notify([resident_b], kind="test", title="别人的")
    login(resident_a)
    url = reverse("notifications:mark_read", args=[mine.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/places/"
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[99999])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_an_outside_link_is_not_followed(client, login, resident_a):
    (row,) = services.notify([resident_a], kind="test", title="x", link="https://evil.example/")
    login(resident_a)
    response = client.post(reverse("notifications:mark_read", args=[row.pk]), {"open": "1"})
    assert response["Location"] == reverse("notifications:inbox")


def test_mark_all_read_and_login_required(client, login, resident_a):
    services.notify([resident_a], kind="test", title="一")
    services.notify([resident_a], kind="test", title="二")
    assert client.get(reverse("notifications:inbox")).status_code == 302  # anonymous → login
    login(resident_a)
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(user=resident_a, read_at__isnull=True).exists()
