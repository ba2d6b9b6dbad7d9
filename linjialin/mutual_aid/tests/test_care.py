"""The care list (关爱走访): who is on it (consented sensitive tags only), who sees it, planning and
recording visits, the next visit planned by itself, the overdue sweep (once), audit rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.mutual_aid import care_selectors
from linjialin.mutual_aid.models import AidRules, CareVisit
from linjialin.mutual_aid.services import care
from linjialin.notifications.models import Notification
from linjialin.testing.concurrency import at_once, outcomes, winner

from .test_care_fixtures import _english, care_tags_fixture, entrance_leader_b_fixture  # noqa: F401


def today():
    return timezone.localdate()


# --- who is on the list -----------------------------------------------------------------------------------
def test_only_a_sensitive_tag_with_consent_puts_a_household_on_the_care_list(tree, care_tags):
    assert care_selectors.on_care_list(tree.household_a1)
    assert not care_selectors.on_care_list(tree.household_a2)  # disability without consent, party member
    assert care_selectors.on_care_list(tree.household_b1)
    assert not care_selectors.on_care_list(None)


def test_the_entrance_leader_sees_only_their_entrance_with_the_tags_names(tree, care_tags, entrance_leader_a):
    rows = care_selectors.care_list_for_user(entrance_leader_a)
    assert [r.household for r in rows] == [tree.household_a1]
    assert rows[0].tags == ["elderly living alone"]
    assert [(p.name, p.tags) for p in rows[0].people] == [("张三", ["elderly living alone"])]
    assert rows[0].last_visit is None and rows[0].next_visit is None and not rows[0].overdue


def test_the_grid_worker_sees_both_entrances_and_never_the_unconsented_tag(tree, care_tags, grid_worker):
    rows = care_selectors.care_list_for_user(grid_worker)
    assert {r.household for r in rows} == {tree.household_a1, tree.household_b1}
    assert all("disability" not in r.tags for r in rows)


def test_tag_names_follow_the_language(tree, care_tags, entrance_leader_a):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert care_selectors.care_list_for_user(entrance_leader_a)[0].tags == ["独居老人"]


@pytest.mark.parametrize("who", ["resident_a", "resident_b", "outsider", "subdistrict_staff", "volunteer"])
def test_nobody_else_gets_a_care_list(request, tree, care_tags, who):
    if who == "volunteer":
        from linjialin.testing.plugin import make_user

        user = make_user("13700003010", "志愿者", "volunteer", tree.community_1)
    else:
        user = request.getfixturevalue(who)
    assert [r for r in care_selectors.care_list_for_user(user) if r.household != tree.household_x1] == []
    with pytest.raises(Http404):
        care_selectors.get_care_household_for_user(user, tree.household_a1.pk)


def test_an_entrance_leader_of_another_entrance_gets_404_on_the_household(tree, care_tags, entrance_leader_b):
    with pytest.raises(Http404):
        care_selectors.get_care_household_for_user(entrance_leader_b, tree.household_a1.pk)
    assert care_selectors.get_care_household_for_user(entrance_leader_b, tree.household_b1.pk).household == (
        tree.household_b1
    )


def test_a_household_without_consent_is_404_even_in_scope(tree, care_tags, entrance_leader_a):
    with pytest.raises(Http404):
        care_selectors.get_care_household_for_user(entrance_leader_a, tree.household_a2.pk)
    with pytest.raises(Http404):
        care_selectors.get_care_household_for_user(entrance_leader_a, "nope")


def test_the_outsider_sees_their_own_community_only(tree, care_tags, outsider):
    rows = care_selectors.care_list_for_user(outsider)
    assert [r.household for r in rows] == [tree.household_x1]


# --- planning and recording -------------------------------------------------------------------------------
def test_plan_then_record_a_visit_plans_the_next_one_and_is_audited(tree, care_tags, entrance_leader_a):
    rules = AidRules.objects.get()
    rules.care_visit_days = 14
    rules.save()
    visit = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    assert visit.visitor == entrance_leader_a and visit.path == tree.household_a1.path
    done_at = timezone.now() - timedelta(hours=1)
    recorded = care.record_visit(entrance_leader_a, visit, note="身体不错，药够吃", done_at=done_at)
    visit.refresh_from_db()
    assert visit.done_at == done_at and visit.note == "身体不错，药够吃"
    nxt = recorded.next_visit
    assert nxt.planned_on == timezone.localdate(done_at) + timedelta(days=14)
    assert nxt.visitor == entrance_leader_a and nxt.done_at is None
    row = care_selectors.care_list_for_user(entrance_leader_a)[0]
    assert row.last_visit == visit and row.next_visit == nxt and not row.overdue
    events = list(AuditEvent.objects.filter(action__startswith="mutual_aid.care.").order_by("seq"))
    assert [e.action for e in events] == ["mutual_aid.care.visit_planned", "mutual_aid.care.visit_recorded"]
    assert events[1].after["next_visit"] == nxt.pk and "身体" not in str(events[1].after)


def test_recording_twice_is_a_conflict_and_nothing_changes(tree, care_tags, entrance_leader_a, grid_worker):
    visit = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    stale = CareVisit.objects.get(pk=visit.pk)
    care.record_visit(entrance_leader_a, visit, note="first")
    with pytest.raises(Conflict):
        care.record_visit(grid_worker, stale, note="second")
    assert CareVisit.objects.get(pk=visit.pk).note == "first"
    assert CareVisit.objects.filter(household=tree.household_a1, done_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_record_the_same_visit_at_once_one_wins(tree, care_tags, entrance_leader_a, grid_worker):
    visit = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    one, two = CareVisit.objects.get(pk=visit.pk), CareVisit.objects.get(pk=visit.pk)  # both open
    results = at_once(
        lambda: care.record_visit(entrance_leader_a, one, note="one"),
        lambda: care.record_visit(grid_worker, two, note="two"),
    )
    assert outcomes(results) == ["Conflict", "ok"]
    assert CareVisit.objects.get(pk=visit.pk).note == winner(results, ["one", "two"])
    assert AuditEvent.objects.filter(action="mutual_aid.care.visit_recorded").count() == 1
    assert CareVisit.objects.filter(household=tree.household_a1, done_at__isnull=True).count() == 1


def test_bad_input_names_the_field_and_writes_nothing(tree, care_tags, entrance_leader_a, grid_worker):
    cases = [
        ({"household": tree.household_a2, "planned_on": today()}, "household"),  # no consent
        ({"household": tree.household_a1, "planned_on": today() - timedelta(days=1)}, "planned_on"),
        ({"household": tree.household_a1, "planned_on": None}, "planned_on"),
        ({"household": tree.entrance_a, "planned_on": today()}, "household"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as err:
            care.plan_visit(grid_worker, **kwargs)
        assert field in err.value.message_dict
    from linjialin.testing.plugin import make_user

    stranger = make_user("13700003020", "楼门长B2", "entrance_leader", tree.entrance_b)
    with pytest.raises(ValidationError) as err:
        care.plan_visit(grid_worker, household=tree.household_a1, planned_on=today(), visitor=stranger)
    assert "visitor" in err.value.message_dict
    visit = care.plan_visit(grid_worker, household=tree.household_a1, planned_on=today())
    with pytest.raises(ValidationError) as err:
        care.plan_visit(grid_worker, household=tree.household_a1, planned_on=today())
    assert "planned_on" in err.value.message_dict  # the same day twice
    for kwargs, field in [
        ({"note": "  "}, "note"),
        ({"note": "ok", "done_at": timezone.now() + timedelta(hours=2)}, "done_at"),
    ]:
        with pytest.raises(ValidationError) as err:
            care.record_visit(grid_worker, visit, **kwargs)
        assert field in err.value.message_dict
    assert CareVisit.objects.count() == 1 and CareVisit.objects.get().done_at is None


def test_only_those_looking_after_the_household_plan_and_record(
    tree, care_tags, resident_a, entrance_leader_b, outsider, entrance_leader_a
):
    for user in (resident_a, entrance_leader_b, outsider):
        with pytest.raises(PermissionDenied):
            care.plan_visit(user, household=tree.household_a1, planned_on=today())
    visit = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    for user in (resident_a, entrance_leader_b, outsider):
        with pytest.raises(PermissionDenied):
            care.record_visit(user, visit, note="x")
        with pytest.raises(PermissionDenied):
            care.record_unplanned_visit(user, household=tree.household_a1, note="x")


def test_an_unplanned_visit_is_recorded_and_keeps_an_open_plan(tree, care_tags, entrance_leader_a):
    planned = care.plan_visit(
        entrance_leader_a, household=tree.household_a1, planned_on=today() + timedelta(days=3)
    )
    visit = care.record_unplanned_visit(entrance_leader_a, household=tree.household_a1, note="路过看了看")
    assert visit.done_at is not None and visit.next_visit is None  # the open plan stays the next one
    assert list(CareVisit.objects.filter(done_at__isnull=True)) == [planned]
    with pytest.raises(ValidationError) as err:
        care.record_unplanned_visit(entrance_leader_a, household=tree.household_a1, note="")
    assert "note" in err.value.message_dict
    assert CareVisit.objects.filter(done_at__isnull=False).count() == 1


def test_no_next_visit_once_consent_is_gone(tree, care_tags, entrance_leader_a):
    visit = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    care_tags["a1"].delete()
    assert care.record_visit(entrance_leader_a, visit, note="搬去女儿家了").next_visit is None


# --- overdue ----------------------------------------------------------------------------------------------
def test_overdue_visits_come_first_and_the_sweep_tells_once(tree, care_tags, entrance_leader_a, grid_worker):
    late = care.plan_visit(entrance_leader_a, household=tree.household_a1, planned_on=today())
    soon = care.plan_visit(grid_worker, household=tree.household_b1, planned_on=today())
    CareVisit.objects.filter(pk=late.pk).update(planned_on=today() - timedelta(days=3))
    rows = care_selectors.care_list_for_user(grid_worker)
    assert [(r.household, r.overdue) for r in rows] == [(tree.household_a1, True), (tree.household_b1, False)]

    assert care.sweep_care() == {"overdue": 1}
    assert care.sweep_care() == {"overdue": 0}  # once
    notes = Notification.objects.filter(kind="mutual_aid.care.visit_overdue")
    assert sorted(n.user_id for n in notes) == sorted([entrance_leader_a.pk, grid_worker.pk])
    assert all(n.link == f"/mutual-aid/care/{tree.household_a1.pk}/" for n in notes)  # no language prefix
    assert (
        AuditEvent.objects.filter(action="mutual_aid.care.visit_overdue", object_id=str(late.pk)).count() == 1
    )
    # the next day the other one is late too: only that one is told
    assert care.sweep_care(timezone.now() + timedelta(days=1)) == {"overdue": 1}
    assert (
        not Notification.objects.filter(dedupe_key=f"mutual_aid.care.visit_overdue:{soon.pk}")
        .exclude(user=grid_worker)
        .exclude(user=entrance_leader_a)
        .exists()
    )
    care.record_visit(grid_worker, CareVisit.objects.get(pk=late.pk), note="补上了")
    assert not care_selectors.care_list_for_user(grid_worker)[0].overdue


def test_views_of_the_list_and_a_household_are_audited_as_personal(tree, care_tags, grid_worker):
    from linjialin.core import audit_labels

    care.record_care_list_view(grid_worker, rows=2)
    care.record_care_household_view(grid_worker, tree.household_a1)
    events = list(AuditEvent.objects.filter(action__in=care.AUDIT_PERSONAL).order_by("seq"))
    assert [e.action for e in events] == ["mutual_aid.care.list_viewed", "mutual_aid.care.household_viewed"]
    assert events[0].path == tree.grid_1.path and events[0].after["households"] == 2
    assert events[1].path == tree.household_a1.path
    assert set(care.AUDIT_PERSONAL) <= set(audit_labels.personal())
