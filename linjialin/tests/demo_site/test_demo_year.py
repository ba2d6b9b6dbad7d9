"""The demo year on the loaded demo: the request loop in every community and every transition, the
rates, hotspots and 每月一题, mutual aid, an intact audit chain, and work waiting today for the demo
logins. Read through the real selectors and metrics."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Role
from linjialin.core import audit
from linjialin.places.models import Level, Place
from linjialin.service_requests import metrics
from linjialin.service_requests.models import OPEN_STATES, RequestEvent, ServiceRequest, State, UnitMember
from linjialin.service_requests.workflow import workflow

pytestmark = [pytest.mark.xdist_group("demo-site"), pytest.mark.usefixtures("demo_site", "db")]


def _user(mobile: str) -> User:
    return User.objects.get(mobile=mobile)


def _year() -> tuple:
    today = timezone.localdate()
    first = date(today.year, 1, 1) if today.timetuple().tm_yday > 60 else date(today.year - 1, 1, 1)
    return metrics.period_instants(first, today)


def test_every_community_has_rated_requests_in_the_three_rates():
    staff = _user("13800000009")  # subdistrict staff: sees every request of 通运街道
    subdistrict = Place.objects.get(level=Level.SUBDISTRICT)
    table = metrics.rates_table(staff, subdistrict, _year())
    assert len(table.places) == 10
    for row in table.places:
        for rate in (row.rates.response, row.rates.resolution, row.rates.satisfaction):
            assert rate.denominator > 0 and rate.value is not None, (row.label, rate.formula)
        # a realistic mix: mostly satisfied
        assert row.rates.satisfaction.value > 0.6, (row.label, row.rates.satisfaction.formula)


def test_requests_are_spread_by_households_and_seasons():
    per_community = {
        c.name: ServiceRequest.objects.filter(path__startswith=c.path).count()
        for c in Place.objects.filter(level=Level.COMMUNITY)
    }
    assert min(per_community.values()) >= 50, per_community
    heating = ServiceRequest.objects.filter(category__code="utilities-heating")
    winter = heating.filter(submitted_at__month__in=(1, 2, 12)).count()
    summer = heating.filter(submitted_at__month__in=(6, 7, 8)).count()
    assert winter > 3 * max(summer, 1)


def test_every_transition_and_state_of_the_workflow_occurs():
    kinds = set(RequestEvent.objects.values_list("kind", flat=True).distinct())
    names = {t.name for t in workflow.transitions}
    assert names - kinds == set()
    for extra in ("submitted", "whistle", "check_in", "report_back", "overdue", "co_requester_joined"):
        assert extra in kinds
    assert "recategorise" in kinds and "merged_in" in kinds
    now_states = set(ServiceRequest.objects.values_list("state", flat=True).distinct())
    assert set(State.values) - now_states <= {State.CALLED_BACK, State.ESCALATED, State.RETURNED}
    assert ServiceRequest.objects.filter(supervised=True).exists()  # 督办


def test_hotspots_and_a_monthly_theme_exist():
    from linjialin.hotspots.models import Hotspot, MonthlyTheme, ProactiveTask

    assert Hotspot.objects.count() >= 3
    theme = MonthlyTheme.objects.get()
    assert theme.month == timezone.localdate().replace(day=1)
    assert 2 <= theme.problems.count() <= 3
    assert all(problem.tasks.exists() for problem in theme.problems.all())
    assert ProactiveTask.objects.filter(path__startswith=theme.path).count() >= 2


def test_mutual_aid_in_every_community_with_care_visits_and_an_emergency():
    from linjialin.mutual_aid.models import CareVisit, EmergencyTask, Episode, Handoff, Post

    for community in Place.objects.filter(level=Level.COMMUNITY):
        assert Post.objects.filter(community=community).exists(), community.name
    assert Handoff.objects.filter(done_at__isnull=False).exists()
    assert CareVisit.objects.filter(done_at__isnull=False).count() >= 10
    episode = Episode.objects.get()
    assert episode.ended_at is not None
    assert EmergencyTask.objects.filter(episode=episode, state="done").exists()


def test_demo_care_households_are_visited_as_planned_none_overdue():
    from linjialin.mutual_aid.models import CareVisit

    open_plans = CareVisit.objects.filter(done_at__isnull=True)
    households = list(open_plans.values_list("household_id", flat=True))
    assert households and len(households) == len(set(households))  # one open plan each
    assert not open_plans.filter(planned_on__lt=timezone.localdate()).exists()


def test_the_audit_chain_verifies():
    assert audit.verify().ok


def test_the_demo_logins_have_work_today():
    now = timezone.now()
    resident = _user("13800000001")
    own = ServiceRequest.objects.filter(requester=resident)
    assert own.filter(state=State.RESOLVED).exists()  # one to rate
    assert own.filter(state=State.CLOSED).exists()
    assert own.filter(state__in=OPEN_STATES).count() >= 2

    leader = _user("13800000004")
    entrance = RoleGrant.objects.get(user=leader, role=Role.ENTRANCE_LEADER).place
    at_251 = ServiceRequest.objects.filter(path__startswith=entrance.path, level=4)
    assert at_251.filter(state=State.SUBMITTED).exists()  # new
    mine = at_251.filter(handler=leader, state__in=OPEN_STATES)
    assert mine.filter(resolve_by__lt=now).exists()  # overdue
    assert mine.filter(resolve_by__gte=now, resolve_by__lte=now + timedelta(days=2)).exists()  # due soon
    assert mine.filter(resolve_by__lt=now, supervised=True).exists()  # 督办 by the sweep

    grid = _user("13800000006")
    grid_place = entrance.parent
    assert ServiceRequest.objects.filter(
        path__startswith=grid_place.path, level=3, state=State.SUBMITTED
    ).exists()
    assert ServiceRequest.objects.filter(handler=grid, state__in=OPEN_STATES).exists()
    community = grid_place.parent
    assert ServiceRequest.objects.filter(
        path__startswith=community.path, level=2, state=State.SUBMITTED
    ).exists()
    assert ServiceRequest.objects.filter(level=1, state__in=(State.SUBMITTED, State.RETURNED)).exists()
    unit = UnitMember.objects.get(user=_user("13800000011")).unit  # 区住建委
    at_unit = ServiceRequest.objects.filter(level=0, unit=unit, state__in=OPEN_STATES)
    assert at_unit.filter(state=State.SUBMITTED).exists()
    assert at_unit.filter(state=State.EXTENSION_REQUESTED).exists()
