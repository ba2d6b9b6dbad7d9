"""The audit page: filters, scope (who may see which events), and "who saw whose personal data"."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linjialin.accounts import services as account_services
from linjialin.core.models import AuditEvent
from linjialin.places import services as place_services
from linjialin.testing.plugin import make_user

URL = "audit:list"


@pytest.fixture
def community_auditor(tree):
    """A community secretary: audit.view on community 1 only."""
    return make_user("13900000030", "社区书记", "community_secretary", tree.community_1)


@pytest.fixture
def events(tree, entrance_leader_a, outsider, resident_a):
    place_services.unmask_resident(entrance_leader_a, tree.resident_a1, reason="上门核实独居情况")
    place_services.unmask_resident(outsider, tree.resident_x1, reason="电话回访")
    account_services.record_login_success(resident_a)
    account_services.record_login_failure("13900000003")
    return tree


def rows(response):
    return [r["event"] for r in response.context["rows"]]


def test_unmask_appears_with_actor_subject_place_and_reason(events, auditor, login):
    response = login(auditor).get(reverse(URL), {"action": "resident.unmasked", "subject": "张三"})
    assert response.status_code == 200
    [event] = rows(response)
    assert (event.actor_name, event.object_repr, event.reason) == ("楼门长A", "张三", "上门核实独居情况")
    page = response.content.decode()
    assert "上门核实独居情况" in page and "紫荆雅园1号楼1单元101" in page  # the household's name


def test_personal_data_filter_answers_who_saw_whose_data(events, auditor, login):
    response = login(auditor).get(reverse(URL), {"action": "personal_data"})
    assert {(e.actor_name, e.object_repr) for e in rows(response)} == {
        ("楼门长A", "张三"),
        ("外社区工作者", "赵六"),
    }


def test_filter_by_actor_name_and_by_mobile(events, auditor, login):
    client = login(auditor)
    assert {e.action for e in rows(client.get(reverse(URL), {"actor": "楼门长"}))} == {"resident.unmasked"}
    by_mobile = rows(client.get(reverse(URL), {"actor": "13900000001"}))
    assert [e.action for e in by_mobile] == ["login.success"]
    # a failed login has no account as actor: found by the typed mobile, recorded masked
    failures = rows(client.get(reverse(URL), {"actor": "13900000003"}))
    assert {e.action for e in failures} == {"login.failure", "resident.unmasked"}


def test_filter_by_place_keeps_events_below_it(events, auditor, login):
    client = login(auditor)
    in_c2 = rows(client.get(reverse(URL), {"place": str(events.community_2.pk)}))
    assert in_c2 and all(e.path.startswith(events.community_2.path) for e in in_c2)
    assert [e.object_repr for e in in_c2 if e.action == "resident.unmasked"] == ["赵六"]
    unplaced = rows(client.get(reverse(URL), {"place": "none"}))
    assert {e.action for e in unplaced} == {"login.success", "login.failure"}
    assert all(e.path == "" for e in unplaced)


def test_filter_by_time(events, auditor, login):
    old = AuditEvent.objects.get(action="login.success")
    # shifting a row's time breaks its hash; this test only reads the page, it never verifies the chain
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    client = login(auditor)
    everything = rows(client.get(reverse(URL)))
    recent = rows(client.get(reverse(URL), {"date_from": str(today - timedelta(days=1))}))
    assert old in everything and old not in recent and len(recent) == len(everything) - 1
    older = rows(client.get(reverse(URL), {"date_to": str(today - timedelta(days=5))}))
    assert older == [old]


def test_bad_filter_input_is_named(events, auditor, login):
    client = login(auditor)
    response = client.get(reverse(URL), {"date_from": "2026-13-40"})
    assert response.status_code == 422 and "date_from" in response.context["form"].errors
    response = client.get(reverse(URL), {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert response.status_code == 422 and "date_to" in response.context["form"].errors


def test_community_auditor_sees_only_their_community_and_no_logins(events, community_auditor, login):
    client = login(community_auditor)
    response = client.get(reverse(URL))
    seen = rows(response)
    assert {e.object_repr for e in seen if e.action == "resident.unmasked"} == {"张三"}
    assert not any(e.path == "" for e in seen)
    assert all(e.path.startswith(events.community_1.path) for e in seen)
    # a place outside the scope is not offered and not accepted
    assert client.get(reverse(URL), {"place": str(events.community_2.pk)}).status_code == 422
    assert client.get(reverse(URL), {"place": "none"}).status_code == 422


def test_subdistrict_auditor_and_admin_see_logins(events, auditor, admin, login, client):
    for user in (auditor, admin):
        client.force_login(user)
        assert {"login.success", "login.failure"} <= {e.action for e in rows(client.get(reverse(URL)))}


def test_actions_have_readable_labels(events, auditor, login):
    response = login(auditor).get(reverse(URL))
    labels = dict(response.context["form"].fields["action"].choices)
    assert labels["resident.unmasked"] != "resident.unmasked" and labels["login.failure"] != "login.failure"


def test_pages_of_fifty(tree, auditor, login):
    for i in range(55):
        account_services.record_login_failure(f"1370000{i:04d}")
    client = login(auditor)
    first = client.get(reverse(URL), {"action": "login.failure"})
    assert len(rows(first)) == 50 and first.context["page"].paginator.num_pages == 2
    second = client.get(reverse(URL), {"action": "login.failure", "page": "2"})
    assert len(rows(second)) == 5
    assert "action=login.failure" in first.content.decode()  # page links keep the filter


def test_no_audit_permission_is_403(tree, community_worker, resident_a, login, client):
    for user in (community_worker, resident_a):
        client.force_login(user)
        assert client.get(reverse(URL)).status_code == 403
    client.logout()
    assert client.get(reverse(URL)).status_code == 302


def test_page_queries_do_not_grow_with_events(events, auditor, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(auditor)
    client.get(reverse(URL))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse(URL))
    for i in range(20):  # twenty different actors, each with their own account row
        user = make_user(f"1360000{i:04d}", f"用户{i}", "entrance_leader", events.entrance_a)
        place_services.unmask_resident(user, events.resident_a1, reason=f"核实身份{i}")
    with CaptureQueriesContext(connection) as after:
        response = client.get(reverse(URL))
    assert len(response.context["rows"]) > 20
    assert len(after) == len(before)


def test_a_requesters_contact_shown_in_full_counts_as_personal_data(
    tree, resident_a, entrance_leader_a, auditor, login
):
    from django.utils import translation

    from linjialin.service_requests import selectors, services

    req = services.submit_request(
        resident_a, place=tree.household_a1, request_type="help", description="楼道灯坏了"
    )
    services.accept_request(entrance_leader_a, req)
    selectors.requester_contact(entrance_leader_a, req)  # the owning handler sees it in full: audited
    with translation.override("en"):
        response = login(auditor).get(reverse(URL), {"action": "personal_data"})
        labels = dict(response.context["form"].fields["action"].choices)
    assert [(e.action, e.actor_name) for e in rows(response)] == [("request.contact_viewed", "楼门长A")]
    assert labels["request.accept"] == "Request: accepted"
    assert labels["request.contact_viewed"] == "Request: requester's contact shown in full"
