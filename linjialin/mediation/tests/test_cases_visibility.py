"""Who sees a case (issue 5 §5) and the reads of the desk: the visibility matrix, case roles, counselling
notes for their author only, a party's own view, the desk queues (with a capped number of queries), the
one-month due status and the court clocks against dates computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from linjialin.mediation import selectors
from linjialin.mediation.models import (
    Agreement,
    Case,
    CaseMember,
    CourtConfirmation,
    FollowUp,
    MediationRules,
)
from linjialin.mediation.services import cases
from linjialin.testing.plugin import make_user

from .test_cases_fixtures import (  # noqa: F401  (fixtures)
    _english,
    accept,
    accepted_fixture,
    agree,
    case_fixture,
    register,
)


def sees(user, case) -> bool:
    try:
        selectors.get_case_for_user(user, case.pk)
    except Http404:
        return False
    assert selectors.visible_cases(user).filter(pk=case.pk).exists()
    return True


def test_the_visibility_matrix(
    tree,
    case,
    mediator_a,
    mediator_b,
    lawyer,
    mediation_manager,
    resident_a,
    resident_b,
    outsider,
    community_secretary,
    grid_worker,
    entrance_leader_a,
    subdistrict_staff,
    subdistrict_dispatcher,
    admin,
):
    cases.add_member(mediator_a, case, user=lawyer, role="lawyer")
    colleague = make_user("13700000051", "社区一调解员", "mediator", tree.community_1)  # not on the team
    for user in (mediator_a, lawyer, mediation_manager, resident_a):
        assert sees(user, case), user
    for user in (
        mediator_b,
        colleague,
        resident_b,
        outsider,
        community_secretary,
        grid_worker,
        entrance_leader_a,
        subdistrict_staff,
        subdistrict_dispatcher,
    ):
        assert not sees(user, case), user
    assert not sees(admin, case)  # the system administrator runs the system, not the centre's cases
    # a member who left the team no longer sees the case
    member = CaseMember.objects.get(case=case, user=lawyer)
    cases.remove_member(mediator_a, case, member, reason="换人")
    assert not sees(lawyer, case)
    with pytest.raises(Http404):
        selectors.get_case_for_user(mediation_manager, 999999)
    with pytest.raises(Http404):
        selectors.get_case_for_user(mediation_manager, "abc")
    assert not selectors.visible_cases(None).exists()


def test_case_roles(case, mediator_a, counsellor, mediation_manager, resident_a, lawyer):
    cases.add_member(mediator_a, case, user=counsellor, role="counsellor")
    assert selectors.case_roles(mediator_a, case) == {"member", "lead"}
    assert selectors.case_roles(counsellor, case) == {"member", "counsellor"}
    assert selectors.case_roles(mediation_manager, case) == {"manager"}
    assert selectors.case_roles(resident_a, case) == {"party"}
    assert selectors.case_roles(lawyer, case) == set()


def test_counselling_notes_are_read_by_their_author_only(
    case, mediator_a, counsellor, lawyer, mediation_manager
):
    cases.add_member(mediator_a, case, user=counsellor, role="counsellor")
    cases.add_member(mediator_a, case, user=lawyer, role="lawyer")
    cases.add_counselling_note(counsellor, case, text="当事人长期失眠，情绪低落。")
    assert [n.text for n in selectors.counselling_notes(counsellor, case)] == ["当事人长期失眠，情绪低落。"]
    for other in (mediator_a, lawyer, mediation_manager, None):
        assert not selectors.counselling_notes(other, case).exists()


def test_a_party_sees_only_the_public_steps(accepted, mediator_a, resident_a, resident_b):
    cases.record_session(
        mediator_a,
        accepted,
        held_at=timezone.now(),
        location="调解室",
        public=False,
        attendees="双方",
        minutes="张三说……王五说……",
    )
    view = selectors.party_view(resident_a, accepted.pk)
    assert [e.kind for e in view.events] == ["registered", "accepted", "session"]
    assert all(e.public for e in view.events) and view.parties[0].name == "张三"
    assert "张三说" not in str([(e.note, e.data) for e in view.events])
    assert [e.kind for e in selectors.timeline(resident_a, accepted)] == ["registered", "accepted", "session"]
    assert "consent" in [e.kind for e in selectors.timeline(mediator_a, accepted)]
    with pytest.raises(Http404):
        selectors.party_view(resident_b, accepted.pk)  # 王五 has no account on this case
    with pytest.raises(Http404):
        selectors.party_view(mediator_a, accepted.pk)  # the team uses the case file, not the party view
    assert list(selectors.my_cases(resident_a)) == [accepted]


def test_due_status_against_the_limit(accepted):
    due = accepted.due_on
    r = MediationRules(due_soon_days=5)
    assert selectors.due_status(accepted, due - timedelta(days=6), r) == "ok"
    assert selectors.due_status(accepted, due - timedelta(days=5), r) == "due_soon"
    assert selectors.due_status(accepted, due, r) == "due_soon"
    assert selectors.due_status(accepted, due + timedelta(days=1), r) == "overdue"
    Case.objects.filter(pk=accepted.pk).update(state="agreed")
    accepted.refresh_from_db()
    assert selectors.due_status(accepted, due + timedelta(days=1), r) == ""


def test_court_clocks_against_hand_computed_dates(case, mediator_a):
    now = timezone.now()
    Agreement.objects.create(
        case=case,
        written=True,
        facts="f",
        terms="t",
        performance="p",
        signed_on=date(2026, 11, 30),
        effective_on=date(2026, 12, 1),
        recorded_at=now,
    )
    r = MediationRules()  # 30 / 3 / 30 (+10); each last day moved off a rest day
    clocks = selectors.court_clocks(case, date(2026, 12, 20), r)
    assert clocks["apply_by"].by == date(2026, 12, 31) and clocks["apply_by"].days_left == 11
    assert clocks["accept_by"] is None and clocks["decide_by"] is None
    assert selectors.court_clocks(case, date(2027, 1, 1), r)["apply_by"].overdue

    court = CourtConfirmation.objects.create(
        case=case, court="通州区人民法院", applied_on=date(2026, 12, 10), updated_at=now
    )
    case._state.fields_cache.pop("court", None)
    # 12-10 + 3 days = Sunday 12-13 → Monday 12-14 (民事诉讼法 第八十五条)
    clocks = selectors.court_clocks(case, date(2026, 12, 15), r)
    assert clocks["apply_by"].done and not clocks["apply_by"].overdue
    assert clocks["accept_by"].by == date(2026, 12, 14) and clocks["accept_by"].overdue  # the court is late
    assert clocks["accept_by"].as_dict() == {
        "by": date(2026, 12, 14),
        "done_on": None,
        "days_left": -1,
        "overdue": True,
    }

    CourtConfirmation.objects.filter(pk=court.pk).update(state="accepted", accepted_on=date(2026, 12, 12))
    case._state.fields_cache.pop("court", None)
    clocks = selectors.court_clocks(case, date(2026, 12, 20), r)
    assert clocks["accept_by"].done and not clocks["accept_by"].late
    # 30 days from acceptance (民事诉讼法 第一百八十七条): 12-12 + 30 = Monday 2027-01-11
    assert clocks["decide_by"].by == date(2027, 1, 11) and clocks["decide_by"].days_left == 22

    CourtConfirmation.objects.filter(pk=court.pk).update(extended=True)
    case._state.fields_cache.pop("court", None)
    assert selectors.court_clocks(case, date(2026, 12, 20), r)["decide_by"].by == date(2027, 1, 21)

    Agreement.objects.filter(case=case).update(written=False)  # an oral agreement: no court confirmation
    case._state.fields_cache.pop("agreement", None)
    assert selectors.court_clocks(case, date(2026, 12, 20), r) == {
        "apply_by": None,
        "accept_by": None,
        "decide_by": None,
    }


def test_desk_queues_count_each_stage(tree, mediator_a, mediation_manager, lawyer, mediator_b):
    waiting = register(mediator_a, tree)
    mediating = accept(mediator_a, register(mediator_a, tree))
    late = accept(mediator_a, register(mediator_a, tree))
    Case.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    agreed = accept(mediator_a, register(mediator_a, tree))
    agree(mediator_a, agreed)
    FollowUp.objects.filter(case=agreed).order_by("due_on").filter(
        pk=FollowUp.objects.filter(case=agreed).order_by("due_on").first().pk
    ).update(due_on=timezone.localdate())
    cases.create_task(
        mediator_a, kind="talk", title="讲座", place=tree.entrance_a, due_on=timezone.localdate(), case=agreed
    )
    q = selectors.desk_queues(mediation_manager)
    counts = {name: queue.count for name, queue in q.items()}
    assert counts == {
        "consent": 1,
        "mediation": 2,
        "overdue": 1,
        "court": 1,
        "followups": 1,
        "tasks": 1,
        "mine": 0,
    }
    assert list(q["consent"].items) == [waiting]
    assert set(q["mediation"].items) == {mediating, late} and list(q["overdue"].items) == [late]
    assert list(q["court"].items) == [agreed]
    assert selectors.desk_queues(mediator_a)["mine"].count == 4
    assert {n: x.count for n, x in selectors.desk_queues(mediator_b).items()} == dict.fromkeys(counts, 0)
    assert selectors.desk_queues(lawyer)["mine"].count == 0


def test_the_desk_reads_in_a_few_queries_however_many_cases(
    tree, mediator_a, mediation_manager, django_assert_max_num_queries
):
    for _ in range(6):
        agree(mediator_a, accept(mediator_a, register(mediator_a, tree)))
    for _ in range(4):
        register(mediator_a, tree)
    manager = type(mediation_manager).objects.get(pk=mediation_manager.pk)  # no cached grants
    with django_assert_max_num_queries(13):
        queues = selectors.desk_queues(manager)
        for queue in queues.values():
            for item in list(queue.items[:20]):
                str(getattr(item, "place", None) or item.case.place)
    assert queues["court"].count == 6 and queues["consent"].count == 4
