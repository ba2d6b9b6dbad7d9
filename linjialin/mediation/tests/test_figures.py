"""The centre's figures against a hand-computed month of activity (March 2025), per community and for the
subdistrict, the success-rate definition's edge cases, and the query cap."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linjialin.core.calendar import local_tz
from linjialin.mediation import figures
from linjialin.mediation.models import (
    Case,
    CaseState,
    Consultation,
    CourtConfirmation,
    CourtState,
    FindingOutcome,
    FollowUp,
    Outcome,
    Performance,
    PreventionTask,
    ScreeningFinding,
    ScreeningSession,
    ScreeningState,
    TaskState,
)

pytestmark = pytest.mark.django_db

MARCH = (date(2025, 3, 1), date(2025, 4, 1))


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=local_tz())


def _session(place, state, held):
    return ScreeningSession.objects.create(
        place=place, path=place.path, planned_for=held, state=state, held_at=held if state == "held" else None
    )


def _finding(session, place, outcome):
    return ScreeningFinding.objects.create(
        session=session,
        place=place,
        path=place.path,
        dispute_type="neighbour",
        description="漏水",
        outcome=outcome,
    )


def _consultation(place, when):
    return Consultation.objects.create(place=place, path=place.path, asked_at=when, topic="neighbour")


_numbers = iter(range(1, 1000))


def _case(place, *, source, type_, registered, accepted=None, ended=None, outcome="", due=None, state=None):
    if state is None:
        state = {
            Outcome.WRITTEN: CaseState.AGREED,
            Outcome.ORAL: CaseState.AGREED,
            Outcome.NO_AGREEMENT: CaseState.FAILED,
            Outcome.WITHDRAWN: CaseState.WITHDRAWN,
            Outcome.NOT_ACCEPTED: CaseState.NOT_ACCEPTED,
        }.get(outcome, CaseState.ACCEPTED if accepted else CaseState.REGISTERED)
    return Case.objects.create(
        number=f"T2025-{next(_numbers):05d}",
        title="纠纷",
        dispute_type=type_,
        source=source,
        place=place,
        path=place.path,
        facts="事实",
        state=state,
        outcome=outcome,
        registered_at=registered,
        accepted_at=accepted,
        ended_at=ended,
        due_on=due,
    )


def _task(place, state, done_at=None):
    return PreventionTask.objects.create(
        kind="talk",
        title="楼门议事",
        place=place,
        path=place.path,
        due_on=date(2025, 3, 31),
        state=state,
        created_at=at(3, 1),
        done_at=done_at,
    )


def build_march(tree):
    """A month of centre activity; the expected figures are written out in the tests below."""
    c1, c2, s = tree.community_1, tree.community_2, tree.subdistrict
    # screening: C1 one held session with 3 findings (case, task, open); C2 one with 1 (closed);
    # not counted: a planned and a cancelled session, a session held in February and its finding
    s1 = _session(c1, ScreeningState.HELD, at(3, 5))
    _finding(s1, tree.grid_1, FindingOutcome.CASE)
    _finding(s1, tree.entrance_a, FindingOutcome.TASK)
    _finding(s1, c1, FindingOutcome.OPEN)
    s2 = _session(tree.grid_2, ScreeningState.HELD, at(3, 20))
    _finding(s2, c2, FindingOutcome.CLOSED)
    _session(c1, ScreeningState.PLANNED, at(3, 25))
    _session(c2, ScreeningState.CANCELLED, at(3, 26))
    old = _session(c1, ScreeningState.HELD, at(2, 27))
    _finding(old, c1, FindingOutcome.OPEN)
    # consultations: C1 3, C2 1, the subdistrict itself 1; two just outside the month
    for when in (at(3, 1, 0, 0), at(3, 15), at(3, 31, 23, 59)):
        _consultation(tree.household_a1, when)
    _consultation(c2, at(3, 9))
    _consultation(s, at(3, 10))
    _consultation(c1, at(4, 1, 0, 0))
    _consultation(c1, at(2, 28, 23, 59))
    # cases
    k1 = _case(
        tree.entrance_a,
        source="application",
        type_="neighbour",
        registered=at(3, 2),
        accepted=at(3, 3),
        ended=at(3, 13),
        outcome=Outcome.WRITTEN,
        due=date(2025, 4, 2),
    )  # 10 days
    _case(
        tree.grid_1,
        source="screening",
        type_="property_mgmt",
        registered=at(3, 4),
        accepted=at(3, 4, 9),
        ended=at(3, 30, 18),
        outcome=Outcome.NO_AGREEMENT,
        due=date(2025, 4, 3),
    )  # 26 days
    k3 = _case(
        c1,
        source="referral",
        type_="labour",
        registered=at(2, 10),
        accepted=at(2, 11),
        ended=at(3, 20),
        outcome=Outcome.ORAL,
        due=date(2025, 3, 13),
    )  # 37 days, over the limit
    _case(c1, source="application", type_="neighbour", registered=at(3, 25))  # registered only
    _case(
        c1,
        source="application",
        type_="contract",
        registered=at(3, 28),
        accepted=at(3, 28),
        ended=at(4, 2),
        outcome=Outcome.WRITTEN,
        due=date(2025, 4, 27),
    )  # ended in April
    _case(
        c2,
        source="request",
        type_="neighbour",
        registered=at(3, 10),
        ended=at(3, 11),
        outcome=Outcome.NOT_ACCEPTED,
    )
    _case(
        tree.entrance_x,
        source="application",
        type_="marriage_family",
        registered=at(3, 12),
        accepted=at(3, 12),
        ended=at(3, 15),
        outcome=Outcome.WITHDRAWN,
        due=date(2025, 4, 11),
    )  # 3 days
    _case(
        c2,
        source="application",
        type_="housing",
        registered=at(3, 1),
        accepted=at(3, 2),
        due=date(2025, 3, 25),
    )  # still in mediation, over the limit
    _case(
        c2, source="application", type_="other", registered=at(2, 1), accepted=at(2, 1), due=date(2025, 4, 20)
    )  # still in mediation, not yet due
    k9 = _case(
        s,
        source="referral",
        type_="other",
        registered=at(3, 15),
        accepted=at(3, 15),
        ended=at(3, 16),
        outcome=Outcome.WRITTEN,
        due=date(2025, 4, 14),
    )  # at the subdistrict itself, 1 day
    # court: K1 confirmed in March; K3 confirmed in April; K9 only applied
    CourtConfirmation.objects.create(
        case=k1,
        court="通州区人民法院",
        applied_on=date(2025, 3, 14),
        state=CourtState.CONFIRMED,
        accepted_on=date(2025, 3, 15),
        decided_on=date(2025, 3, 25),
        updated_at=at(3, 25),
    )
    CourtConfirmation.objects.create(
        case=k3,
        court="通州区人民法院",
        applied_on=date(2025, 3, 21),
        state=CourtState.CONFIRMED,
        accepted_on=date(2025, 3, 22),
        decided_on=date(2025, 4, 5),
        updated_at=at(4, 5),
    )
    CourtConfirmation.objects.create(
        case=k9, court="通州区人民法院", applied_on=date(2025, 3, 20), updated_at=at(3, 20)
    )
    # follow-ups: C1 3 made (performed, in progress, lapsed); the subdistrict 1 (performed);
    # not counted: one not made yet, one made in April
    FollowUp.objects.create(
        case=k1, due_on=date(2025, 3, 20), done_at=at(3, 20), performance=Performance.PERFORMED
    )
    FollowUp.objects.create(
        case=k1, due_on=date(2025, 3, 28), done_at=at(3, 28), performance=Performance.IN_PROGRESS
    )
    FollowUp.objects.create(
        case=k3, due_on=date(2025, 3, 22), done_at=at(3, 22), performance=Performance.LAPSED
    )
    FollowUp.objects.create(
        case=k9, due_on=date(2025, 3, 30), done_at=at(3, 30), performance=Performance.PERFORMED
    )
    FollowUp.objects.create(case=k1, due_on=date(2025, 4, 10))
    FollowUp.objects.create(
        case=k9, due_on=date(2025, 4, 2), done_at=at(4, 2), performance=Performance.LAPSED
    )
    # prevention tasks done: C1 1, C2 1 (late on the 31st); not: open, cancelled, done in April
    _task(tree.grid_1, TaskState.DONE, at(3, 15))
    _task(c1, TaskState.OPEN)
    _task(c2, TaskState.DONE, at(3, 31, 23, 0))
    _task(c2, TaskState.DONE, at(4, 1, 0, 30))
    _task(c2, TaskState.CANCELLED)


ZERO_TYPES = {
    f"type_{t}": 0
    for t in (
        "marriage_family",
        "neighbour",
        "property_mgmt",
        "housing",
        "damages",
        "labour",
        "contract",
        "other",
    )
}
ZERO_SOURCES = {f"source_{s}": 0 for s in ("screening", "application", "request", "referral")}

EXPECTED_C1 = {
    "screening_sessions": 1,
    "risks_found": 3,
    "risks_to_case": 1,
    "risks_to_task": 1,
    "risks_closed": 0,
    "risks_open": 1,
    "consultations": 3,
    "cases_registered": 4,
    **ZERO_SOURCES,
    "source_application": 3,
    "source_screening": 1,
    **ZERO_TYPES,
    "type_neighbour": 2,
    "type_property_mgmt": 1,
    "type_contract": 1,
    "accepted": 3,
    "resolved": 2,
    "resolved_written": 1,
    "resolved_oral": 1,
    "failed": 1,
    "withdrawn": 0,
    "not_accepted": 0,
    "success_rate": 2 / 3,
    "avg_days": 24.3,  # (10 + 26 + 37) / 3
    "over_limit": 1,
    "court_confirmed": 1,
    "followups": 3,
    "followups_performing": 2,
    "performance_rate": 2 / 3,
    "tasks_done": 1,
}
EXPECTED_C2 = {
    "screening_sessions": 1,
    "risks_found": 1,
    "risks_to_case": 0,
    "risks_to_task": 0,
    "risks_closed": 1,
    "risks_open": 0,
    "consultations": 1,
    "cases_registered": 3,
    **ZERO_SOURCES,
    "source_request": 1,
    "source_application": 2,
    **ZERO_TYPES,
    "type_neighbour": 1,
    "type_marriage_family": 1,
    "type_housing": 1,
    "accepted": 2,
    "resolved": 0,
    "resolved_written": 0,
    "resolved_oral": 0,
    "failed": 0,
    "withdrawn": 1,
    "not_accepted": 1,
    "success_rate": None,  # nothing ended with a result: no division, shown "—"
    "avg_days": 3.0,
    "over_limit": 1,
    "court_confirmed": 0,
    "followups": 0,
    "followups_performing": 0,
    "performance_rate": None,
    "tasks_done": 1,
}
EXPECTED_TOTAL = {
    "screening_sessions": 2,
    "risks_found": 4,
    "risks_to_case": 1,
    "risks_to_task": 1,
    "risks_closed": 1,
    "risks_open": 1,
    "consultations": 5,
    "cases_registered": 8,
    **ZERO_SOURCES,
    "source_application": 5,
    "source_screening": 1,
    "source_request": 1,
    "source_referral": 1,
    **ZERO_TYPES,
    "type_neighbour": 3,
    "type_property_mgmt": 1,
    "type_contract": 1,
    "type_marriage_family": 1,
    "type_housing": 1,
    "type_other": 1,
    "accepted": 6,
    "resolved": 3,
    "resolved_written": 2,
    "resolved_oral": 1,
    "failed": 1,
    "withdrawn": 1,
    "not_accepted": 1,
    "success_rate": 0.75,
    "avg_days": 15.4,  # (10 + 26 + 37 + 3 + 1) / 5
    "over_limit": 2,
    "court_confirmed": 1,
    "followups": 4,
    "followups_performing": 3,
    "performance_rate": 0.75,
    "tasks_done": 2,
}


def _public(f: dict) -> dict:
    return {k: v for k, v in f.items() if k not in ("days_total", "days_cases")}


def _approx(expected: dict) -> dict:
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in expected.items()}


def test_compute_for_each_community_and_the_subdistrict(tree):
    build_march(tree)
    assert _public(figures.compute(tree.community_1, *MARCH)) == _approx(EXPECTED_C1)
    assert _public(figures.compute(tree.community_2, *MARCH)) == _approx(EXPECTED_C2)
    assert _public(figures.compute(tree.subdistrict, *MARCH)) == _approx(EXPECTED_TOTAL)


def test_by_community_rows_and_total(tree):
    build_march(tree)
    rows, total = figures.by_community(tree.subdistrict, *MARCH)
    assert [r.place for r in rows] == [tree.community_1, tree.community_2]
    assert _public(rows[0].figures) == _approx(EXPECTED_C1)
    assert _public(rows[1].figures) == _approx(EXPECTED_C2)
    # the total counts what is recorded at the subdistrict itself too (a consultation, a case)
    assert total.place is None
    assert _public(total.figures) == _approx(EXPECTED_TOTAL)


def test_figures_are_counts_only(tree):
    build_march(tree)
    result = figures.compute(tree.subdistrict, *MARCH)
    assert all(v is None or isinstance(v, int | float) for v in result.values())


def test_a_quiet_period_has_zeros_and_no_rates(tree):
    build_march(tree)
    quiet = figures.compute(tree.subdistrict, date(2024, 1, 1), date(2024, 2, 1))
    assert quiet["cases_registered"] == 0 and quiet["consultations"] == 0
    assert quiet["success_rate"] is None and quiet["avg_days"] is None and quiet["performance_rate"] is None
    assert figures.rate_text(quiet["success_rate"]) == "—"
    rows, total = figures.by_community(tree.subdistrict, date(2024, 1, 1), date(2024, 2, 1))
    assert len(rows) == 2 and all(r.figures["resolved"] == 0 for r in rows)


def test_success_rate_definition():
    assert figures.success_rate(0, 0) is None  # no case ended with a result: no division by zero
    assert figures.success_rate(3, 0) == 1.0
    assert figures.success_rate(0, 2) == 0.0
    assert figures.success_rate(3, 1) == 0.75
    assert figures.rate_text(None) == "—"
    assert figures.rate_text(0.75) == "75.0%"
    assert figures.rate_text(2 / 3) == "66.7%"


def test_withdrawn_and_not_accepted_do_not_count_in_the_success_rate(tree):
    c = tree.community_1
    _case(
        c,
        source="application",
        type_="other",
        registered=at(3, 1),
        ended=at(3, 2),
        outcome=Outcome.NOT_ACCEPTED,
    )
    _case(
        c,
        source="application",
        type_="other",
        registered=at(3, 1),
        accepted=at(3, 1),
        ended=at(3, 2),
        outcome=Outcome.WITHDRAWN,
    )
    assert figures.compute(c, *MARCH)["success_rate"] is None
    _case(
        c,
        source="application",
        type_="other",
        registered=at(3, 1),
        accepted=at(3, 1),
        ended=at(3, 3),
        outcome=Outcome.WRITTEN,
    )
    assert figures.compute(c, *MARCH)["success_rate"] == 1.0


def test_a_closed_case_keeps_its_outcome_in_the_figures(tree):
    _case(
        tree.community_1,
        source="application",
        type_="other",
        registered=at(3, 1),
        accepted=at(3, 1),
        ended=at(3, 3),
        outcome=Outcome.WRITTEN,
        state=CaseState.CLOSED,
    )
    f = figures.compute(tree.community_1, *MARCH)
    assert f["resolved"] == 1 and f["success_rate"] == 1.0 and f["avg_days"] == 2.0


def test_query_count_is_capped_and_does_not_grow_with_communities(tree):
    build_march(tree)
    with CaptureQueriesContext(connection) as one:
        figures.compute(tree.subdistrict, *MARCH)
    assert len(one) <= 8
    with CaptureQueriesContext(connection) as grouped:
        figures.by_community(tree.subdistrict, *MARCH)
    assert len(grouped) <= 9
    from linjialin.places.models import Level
    from linjialin.places.services import new_place

    for code in ("3", "4", "5"):
        new_place(tree.subdistrict, level=Level.COMMUNITY, code=code, name=f"社区{code}").save()
    with CaptureQueriesContext(connection) as more:
        rows, _total = figures.by_community(tree.subdistrict, *MARCH)
    assert len(rows) == 5 and len(more) == len(grouped)
