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


# --- subjects: grouping, reading on open and on move-on, language ------------------------------------------
def test_each_recipient_reads_the_same_message_in_their_own_language(resident_a, resident_b):
    from django.utils.translation import gettext_lazy

    resident_a.language = "en"
    resident_a.save(update_fields=["language"])
    with translation.override("zh-hans"):  # the sender's language does not matter
        services.notify(
            [resident_a, resident_b],
            kind="test",
            title=gettext_lazy("Request %(number)s is resolved: please rate it"),
            params={"number": "20261207000001"},
            subject="service_requests.servicerequest:1",
        )
    titles = dict(Notification.objects.values_list("user_id", "title"))
    assert titles[resident_a.pk] == "Request 20261207000001 is resolved: please rate it"
    assert titles[resident_b.pk] == "诉求 20261207000001 已办结，请评价"


def test_the_inbox_shows_one_row_per_object_with_the_newest_message_and_a_count(client, login, resident_a):
    services.notify(
        [resident_a], kind="test", title="诉求一：待受理", subject="service_requests.servicerequest:1"
    )
    services.notify([resident_a], kind="test", title="无关的通知")
    services.notify(
        [resident_a], kind="test", title="诉求一：已办结", subject="service_requests.servicerequest:1"
    )
    login(resident_a)
    with translation.override("en"):
        page = client.get(reverse("notifications:inbox")).content.decode()
    assert page.count('<li class="list-group-item') == 2
    assert "诉求一：已办结" in page and "诉求一：待受理" not in page  # the newest message of the group
    assert "2 messages about this" in page
    assert page.index("诉求一：已办结") < page.index("无关的通知")


def test_mark_read_reads_the_whole_group_and_nothing_else(client, login, resident_a, resident_b):
    subject = "service_requests.servicerequest:7"
    first = services.notify([resident_a], kind="test", title="一", subject=subject)[0]
    newest = services.notify([resident_a], kind="test", title="二", subject=subject)[0]
    other = services.notify(
        [resident_a], kind="test", title="别的", subject="service_requests.servicerequest:8"
    )[0]
    theirs = services.notify([resident_b], kind="test", title="别人的", subject=subject)[0]
    login(resident_a)
    client.post(reverse("notifications:mark_read", args=[newest.pk]))
    read = dict(Notification.objects.values_list("pk", "read_at"))
    assert read[first.pk] and read[newest.pk]
    assert read[other.pk] is None and read[theirs.pk] is None


def test_opening_an_object_and_its_moving_on_mark_read(resident_a, resident_b):
    subject = "service_requests.servicerequest:9"
    services.notify([resident_a, resident_b], kind="request.new", title="请受理", subject=subject)
    services.notify([resident_a], kind="request.accepted", title="已受理", subject=subject)
    assert services.mark_subject_read(resident_b, subject) == 1
    assert services.mark_subject_read(resident_b, subject) == 0  # twice is harmless
    assert services.settle(subject, kinds=["request.new"], keep=[resident_b]) == 1
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("user_id", "kind"))
    assert unread == {(resident_a.pk, "request.accepted")}  # an informational message stays


def test_the_inbox_query_count_does_not_grow_with_the_inbox(
    client, login, resident_a, django_assert_max_num_queries
):
    login(resident_a)
    services.notify([resident_a], kind="test", title="一", subject="x.y:1")
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("notifications:inbox"))
    services.notify_many(
        [
            services.Message(users=[resident_a], kind="test", title=f"通知 {i}", subject=f"x.y:{i % 40}")
            for i in range(120)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("notifications:inbox")).content.decode()
    assert page.count('<li class="list-group-item') == 30  # 40 groups, 30 a page
    assert "?page=2" in page
