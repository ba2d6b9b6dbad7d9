"""The hash-chained audit trail: verification, tampering, concurrency, request context, and that
every write service leaves exactly one event of the right kind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.urls import reverse

from linjialin.accounts import services as account_services
from linjialin.accounts.models import RoleGrant, User
from linjialin.core import audit
from linjialin.core.models import AuditChain, AuditEvent
from linjialin.places import services as place_services
from linjialin.places.models import Level, Place, TagType
from linjialin.testing.concurrency import at_once, outcomes
from linjialin.testing.plugin import PASSWORD


def _append(n: int, prefix: str = "test") -> None:
    for i in range(n):
        audit.record(
            f"{prefix}.event", object_type="test", object_id=str(i), path="110112008.", after={"i": i}
        )


@pytest.mark.django_db
def test_chain_verifies_after_many_events():
    _append(120)
    result = audit.verify(batch_size=50)  # crosses several batches
    assert result.ok and result.checked == 120
    assert AuditChain.objects.get(pk=1).last_seq == 120


@pytest.mark.django_db
def test_events_are_linked_by_their_hashes():
    _append(3)
    first, second, third = AuditEvent.objects.order_by("seq")
    assert first.prev_hash == audit.GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nothing to see"),
        ("actor_name", "someone else"),
        ("path", "110112008.002."),
        ("ip", "10.0.0.9"),
    ],
)
def test_a_row_edited_with_raw_sql_is_named_by_verify(column, value):
    _append(10)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE core_auditevent SET {column} = %s WHERE seq = %s", [value, 7])  # noqa: S608
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == 7
    assert result.checked == 6
    assert "edited" in result.problem


@pytest.mark.django_db
def test_a_rewritten_hash_breaks_the_next_link():
    _append(5)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = 'x' WHERE seq = 3")
    event = AuditEvent.objects.get(seq=3)
    AuditEvent.objects.filter(seq=3).update(hash=audit.event_hash(event))  # a forger recomputes row 3 ...
    result = audit.verify()
    assert (result.ok, result.broken_seq) == (False, 4)  # ... and row 4 no longer links to it


@pytest.mark.django_db
def test_a_deleted_row_is_reported_as_a_gap():
    _append(10)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = 4")
    result = audit.verify()
    assert (result.ok, result.broken_seq, result.checked) == (False, 4, 3)
    assert "missing" in result.problem


@pytest.mark.django_db
def test_deleting_the_newest_rows_is_caught_by_the_chain_head():
    _append(10)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq > 8")
    result = audit.verify()
    assert (result.ok, result.broken_seq) == (False, 9)


@pytest.mark.django_db
def test_the_first_event_of_a_new_database_creates_the_head():
    AuditChain.objects.all().delete()
    event = audit.record("first.event", object_type="test", reason="开头", after={"a": [1, "二"]})
    assert (event.seq, event.prev_hash) == (1, audit.GENESIS)
    assert event.hash == audit.event_hash(event)
    assert AuditChain.objects.get(pk=1).last_hash == event.hash and audit.verify().ok


@pytest.mark.django_db
def test_the_stored_hash_is_event_hashs_on_every_engine():
    """One write path: Python hashes every event (event_hash), on SQLite and PostgreSQL alike."""
    _append(2)
    for event in AuditEvent.objects.order_by("seq"):
        assert event.hash == audit.event_hash(event)
    assert not hasattr(audit, "at_head") and not hasattr(audit, "_append_at_head")


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_event_and_a_valid_chain():
    _append(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("doomed", object_type="test", object_id="x")
        raise RuntimeError
    _append(1)
    assert audit.verify().ok
    assert not AuditEvent.objects.filter(action="doomed").exists()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_at_once_keep_the_chain_valid_and_seqs_unique():
    per_thread = 25

    def writer(name):
        for i in range(per_thread):
            with transaction.atomic():  # each append in its own transaction, like a service
                audit.record(f"{name}.event", object_type="test", object_id=str(i), path="110112008.")

    assert outcomes(at_once(lambda: writer("one"), lambda: writer("two"), timeout=120)) == ["ok", "ok"]
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * per_thread + 1))
    assert AuditEvent.objects.filter(action="one.event").count() == per_thread
    assert AuditEvent.objects.filter(action="two.event").count() == per_thread
    result = audit.verify()
    assert result.ok and result.checked == 2 * per_thread


# --- request context ------------------------------------------------------------------------------
def test_unmasking_on_the_page_records_reason_ip_and_request_id(tree, grid_worker, login):
    response = login(grid_worker).post(
        reverse("places:unmask", args=[tree.resident_a1.pk]),
        {"reason": "checking on an elderly resident"},
        headers={"X-Request-ID": "page-req-42"},
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 200
    assert "13800000001" in response.content.decode()
    assert response["X-Request-ID"] == "page-req-42"
    event = AuditEvent.objects.get(action="resident.unmasked")
    assert (event.actor, event.actor_name) == (grid_worker, "网格员")
    assert (event.reason, event.ip, event.request_id) == (
        "checking on an elderly resident",
        "192.0.2.7",
        "page-req-42",
    )
    assert (event.object_type, event.object_id, event.path) == (
        "places.resident",
        str(tree.resident_a1.pk),
        tree.resident_a1.path,
    )
    assert audit.verify().ok


def test_unmasking_through_the_api_records_the_reason(tree, community_worker, login):
    response = login(community_worker).post(
        f"/api/v1/residents/{tree.resident_b1.pk}/unmask",
        {"reason": "roster check"},
        content_type="application/json",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="resident.unmasked")
    assert (event.actor, event.reason, event.object_id) == (
        community_worker,
        "roster check",
        str(tree.resident_b1.pk),
    )
    assert (
        len(event.request_id) == 32 and event.request_id == response["X-Request-ID"]
    )  # generated per request
    assert event.ip == "127.0.0.1"


def test_unmasking_without_a_reason_on_the_page_writes_nothing(tree, grid_worker, login):
    response = login(grid_worker).post(reverse("places:unmask", args=[tree.resident_a1.pk]), {"reason": " "})
    assert response.status_code == 422
    assert "13800000001" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),  # non-canonical IPv6
        ("::1", "::1"),
        ("203.0.113.5", "203.0.113.5"),
        ("", None),
        ("not-an-address", None),  # e.g. a unix socket: the write still succeeds
    ],
)
def test_the_client_address_is_stored_so_that_the_chain_still_verifies(
    tree, grid_worker, login, remote_addr, stored
):
    response = login(grid_worker).post(
        reverse("places:unmask", args=[tree.resident_a1.pk]),
        {"reason": "home visit"},
        REMOTE_ADDR=remote_addr,
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="resident.unmasked")
    assert event.ip == stored
    assert audit.verify().ok


def test_events_outside_a_request_carry_no_ip_or_request_id(db):
    event = audit.record("test.offline", object_type="test", object_id="1")
    assert (event.ip, event.request_id) == (None, "")


# --- every write service writes exactly one event of the right action ------------------------------
class NewEvents:
    """The events appended inside the `with` block."""

    def __enter__(self):
        self.start = AuditChain.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
        return self

    def __exit__(self, *exc):
        self.events = list(AuditEvent.objects.filter(seq__gt=self.start).order_by("seq"))

    @property
    def actions(self) -> list[str]:
        return [e.action for e in self.events]


def test_update_entrance_profile_writes_one_event(tree, entrance_leader_a):
    with NewEvents() as new:
        place_services.update_entrance_profile(
            entrance_leader_a, tree.entrance_a, ebikes=22, wechat_group="251群"
        )
    assert new.actions == ["entrance_profile.updated"]
    [event] = new.events
    assert (event.actor, event.path, event.object_id) == (
        entrance_leader_a,
        tree.entrance_a.path,
        str(tree.entrance_a.pk),
    )
    assert event.after == {"ebikes": 22, "wechat_group": "251群"}
    assert event.before == {"ebikes": 0, "wechat_group": ""}


def test_tag_and_untag_resident_write_one_event_each(tree, community_worker):
    tag = TagType.objects.get(code="elderly_alone")
    with NewEvents() as tagged:
        place_services.tag_resident(
            community_worker, tree.resident_a1, tag=tag, consent_source="written consent"
        )
    assert tagged.actions == ["resident.tagged"]
    assert tagged.events[0].after == {"tag": "elderly_alone", "consent": "written consent"}
    with NewEvents() as again:  # already tagged: nothing changes, nothing recorded
        place_services.tag_resident(
            community_worker, tree.resident_a1, tag=tag, consent_source="written consent"
        )
    assert again.actions == []
    with NewEvents() as untagged:
        place_services.untag_resident(community_worker, tree.resident_a1, tag=tag)
    assert untagged.actions == ["resident.untagged"]
    assert untagged.events[0].before == {"tag": "elderly_alone"}


def test_unmask_resident_writes_one_event_with_masked_numbers(tree, community_worker):
    with NewEvents() as new:
        numbers = place_services.unmask_resident(community_worker, tree.resident_a1, reason="home visit")
    assert numbers == {"mobile": "13800000001", "id_number": "11010519491231002X"}
    assert new.actions == ["resident.unmasked"]
    assert new.events[0].after == {"mobile": "138****0001", "id_number": "1101**********002X"}
    assert new.events[0].reason == "home visit"


def test_grant_role_writes_one_event(tree, community_worker):
    person = User.objects.create_user("13600000001", "Test-pass-2026", display_name="新人")
    with NewEvents() as new:
        grant = account_services.grant_role(
            community_worker, user=person, role="entrance_leader", place=tree.entrance_b
        )
    assert new.actions == ["grant.created"]
    event = new.events[0]
    assert (event.actor, event.object_id, event.path) == (
        community_worker,
        str(grant.pk),
        tree.entrance_b.path,
    )
    assert event.after["role"] == "entrance_leader" and event.after["user"] == person.pk


def test_end_grant_writes_one_event(tree, community_worker, entrance_leader_a):
    grant = RoleGrant.objects.get(user=entrance_leader_a)
    with NewEvents() as new:
        account_services.end_grant(community_worker, grant, reason="moved away", on=date.today())
    assert new.actions == ["grant.ended"]
    assert new.events[0].reason == "moved away"
    assert new.events[0].after == {"valid_to": str(date.today() - timedelta(days=1))}


def test_assign_leader_over_a_current_holder_writes_end_then_create(
    tree, community_worker, entrance_leader_a
):
    successor = User.objects.create_user("13600000002", "Test-pass-2026", display_name="继任者")
    with NewEvents() as new:
        account_services.assign_leader(
            community_worker,
            role="entrance_leader",
            place=tree.entrance_a,
            user=successor,
            reason="stepped down",
        )
    assert new.actions == ["grant.ended", "grant.created"]
    assert new.events[0].reason == "stepped down"
    assert new.events[1].after["user"] == successor.pk


def test_assign_leader_on_an_uncovered_entrance_writes_only_create(tree, community_worker):
    person = User.objects.create_user("13600000003", "Test-pass-2026", display_name="首任")
    with NewEvents() as new:
        account_services.assign_leader(
            community_worker, role="entrance_leader", place=tree.entrance_b, user=person
        )
    assert new.actions == ["grant.created"]


def test_create_user_writes_one_event_with_the_mobile_masked(tree, admin):
    with NewEvents() as new:
        user = account_services.create_user(
            admin, mobile="13600000004", display_name="新用户", password=PASSWORD
        )
    assert new.actions == ["user.created"]
    assert (new.events[0].actor, new.events[0].object_id) == (admin, str(user.pk))
    assert new.events[0].after == {"mobile": "136****0004"}


def test_create_place_writes_one_event(tree, community_worker):
    with NewEvents() as new:
        place = place_services.create_place(
            community_worker, tree.entrance_a, level=Level.HOUSEHOLD, code="301", name="301", floor=3
        )
    assert new.actions == ["place.created"]
    assert (new.events[0].actor, new.events[0].path) == (community_worker, place.path)
    assert Place.objects.get(pk=place.pk).path == tree.entrance_a.path + "0301."


def test_a_refused_write_leaves_no_event(tree, outsider):
    with NewEvents() as new, pytest.raises(PermissionDenied):
        place_services.update_entrance_profile(outsider, tree.entrance_a, ebikes=3)
    assert new.actions == []
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: X-Forwarded-For is ignored
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client-written left part is not trusted
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "", "10.0.0.1"),  # header missing: fall back to the socket address
    ],
)
def test_client_ip_behind_trusted_proxies(settings, rf, proxies, forwarded, expected):
    from linjialin.core.middleware import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
