"""The mediation centre's demo year: built through the services, its totals match the article
(74 screening sessions, 427 legal consultations, 149 disputes resolved), and it leaves work open today.

The full demo is built once for the class (inside a transaction rolled back afterwards)."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from linjialin.core.audit import verify
from linjialin.core.calendar import is_working_day, local_tz
from linjialin.core.models import AuditEvent
from linjialin.mediation import demo as centre_demo
from linjialin.mediation import figures
from linjialin.mediation.models import (
    Agreement,
    Case,
    CaseEvent,
    CaseParty,
    CaseState,
    Consultation,
    CourtConfirmation,
    FollowUp,
    MediationSession,
    PreventionTask,
    ScreeningSession,
    ScreeningState,
)
from linjialin.places import demo
from linjialin.places.models import Level, Place

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TODAY = date(2026, 11, 28)


@pytest.fixture(scope="class")
def year(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo.load_demo(seed=demo.DEFAULT_SEED, progress=False)
            yield centre_demo.load(today=TODAY)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.usefixtures("year", "db")
class TestDemoYear:
    """One test over the year, built once: the checks below are its parts. (As five tests, an xdist worker
    that had received only some of them tore the class fixture down between them and built the year again:
    50 s each time on PostgreSQL.)"""

    def test_the_demo_year(self, year):
        self.check_the_years_totals_are_the_articles(year)
        self.check_it_is_a_year_of_work_spread_over_the_communities_and_months(year)
        self.check_it_leaves_work_open_today_and_history_closed(year)
        self.check_every_step_went_through_the_services(year)
        self.check_the_demo_resident_has_a_case_of_their_own_open_and_one_closed(year)
        self.check_every_session_and_step_is_in_office_hours_on_a_working_day(year)
        self.check_agreements_and_court_applications_carry_signatures_consents_and_a_competent_court(year)

    def check_agreements_and_court_applications_carry_signatures_consents_and_a_competent_court(self, year):
        written = Agreement.objects.filter(written=True).select_related("case")
        assert written.exists()
        for agreement in written:
            signed = dict(agreement.signatures.values_list("party_id", "signed_on"))
            assert set(signed) == set(agreement.case.parties.values_list("pk", flat=True))
            # the effective day is the last of the signatures and the seal (人民调解法 第二十九条)
            assert agreement.effective_on == max([*signed.values(), agreement.sealed_on])
        applications = CourtConfirmation.objects.select_related("case", "chosen_court")
        assert applications.exists()
        for row in applications:
            assert row.chosen_court.name == "北京市通州区人民法院" == row.court
            consented = set(row.consents.values_list("party_id", flat=True))
            assert consented == set(row.case.parties.values_list("pk", flat=True))
            assert row.case.dispute_type != "marriage_family"  # a court does not confirm these

    def check_the_years_totals_are_the_articles(self, year):
        subdistrict = Place.objects.get(level=Level.SUBDISTRICT, name=demo.SUBDISTRICT_NAME)
        start, end = centre_demo._period(TODAY)
        assert (start, end) == (date(2026, 1, 1), TODAY)
        got = figures.compute(subdistrict, start, end)
        assert got["screening_sessions"] == 74
        assert got["consultations"] == 427
        assert got["resolved"] == 149
        # and the rows themselves, not only the figures
        held = ScreeningSession.objects.filter(state=ScreeningState.HELD)
        assert held.count() == 74 and Consultation.objects.count() == 427
        assert year["resolved"] == 149

    def check_it_is_a_year_of_work_spread_over_the_communities_and_months(self, year):
        months = {d.month for d in ScreeningSession.objects.values_list("held_at", flat=True) if d}
        assert len(months) >= 10
        communities = {c.path[:20] for c in Case.objects.only("path")}
        assert len(communities) >= 8
        by_source = dict(Case.objects.values_list("source").annotate(n=Count("pk")).order_by())
        assert set(by_source) >= {"screening", "application", "referral"}

    def check_it_leaves_work_open_today_and_history_closed(self, year):
        states = dict(Case.objects.values_list("state").annotate(n=Count("pk")).order_by())
        for state in (CaseState.REGISTERED, CaseState.ACCEPTED, CaseState.AGREED, CaseState.CLOSED):
            assert states.get(state, 0) > 0, state
        assert states.get(CaseState.NOT_ACCEPTED, 0) and states.get(CaseState.WITHDRAWN, 0)
        risky = Case.objects.filter(risk_flag=True)
        assert risky.exists() and not risky.filter(police_notified_at=None).exists()
        assert FollowUp.objects.filter(done_at__isnull=False).exists()
        assert PreventionTask.objects.filter(state="done").exists()
        assert PreventionTask.objects.filter(state="open").exists()

    def check_every_step_went_through_the_services(self, year):
        # each case has its timeline, and the audit chain holds and is in time order
        assert not Case.objects.annotate(n=Count("events")).filter(n=0).exists()
        assert CaseEvent.objects.count() > 5 * Case.objects.count()
        assert AuditEvent.objects.filter(action__startswith="mediation.").count() > 2000
        assert verify().ok
        # replayed in time order: the centre's events follow each other as they happened
        times = list(
            AuditEvent.objects.filter(action__startswith="mediation.")
            .order_by("seq")
            .values_list("at", flat=True)
        )
        assert times == sorted(times) and times[0].date() >= date(2025, 12, 20)

    def check_the_demo_resident_has_a_case_of_their_own_open_and_one_closed(self, year):
        states = sorted(
            CaseParty.objects.filter(user__mobile=centre_demo.RESIDENT).values_list("case__state", flat=True)
        )
        assert states == [CaseState.CLOSED, CaseState.REGISTERED]

    def check_every_session_and_step_is_in_office_hours_on_a_working_day(self, year):
        """No mediation session at 03:00, no screening on a Sunday: every time the year recorded is on a
        working day (weekends, holidays and 调休 from core.calendar) between 08:00 and 18:00 local."""

        def off_hours(values) -> list:
            out = []
            for value in values:
                if value is None:
                    continue
                local = value.astimezone(local_tz())
                if not (is_working_day(local.date()) and time(8) <= local.time() <= time(18)):
                    out.append(local)
            return out

        sessions = list(MediationSession.objects.values_list("held_at", flat=True))
        assert len(sessions) > 100
        assert off_hours(sessions) == []
        assert off_hours(ScreeningSession.objects.values_list("planned_for", flat=True)) == []
        assert off_hours(ScreeningSession.objects.values_list("held_at", flat=True)) == []
        assert off_hours(Consultation.objects.values_list("asked_at", flat=True)) == []
        assert off_hours(CaseEvent.objects.values_list("at", flat=True)) == []
        steps = AuditEvent.objects.filter(action__startswith="mediation.").values_list("at", flat=True)
        assert off_hours(steps) == []
