"""A hypothesis state machine over the case workflow: random consents and moves through the services;
a move the table does not allow from the current state changes nothing (no state, no timeline event, no
audit event), an allowed one lands on the table's target, and the case's dates always match its state."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mediation.models import Case, CaseEvent, CaseParty, CaseState
from linjialin.mediation.services import cases
from linjialin.mediation.workflow import workflow

from .test_cases_fixtures import _english, agree, register  # noqa: F401

S = CaseState


def test_the_case_workflow_as_a_state_machine(tree, mediation_manager):
    actor = mediation_manager
    moves = {
        "accept": lambda c: cases.accept_case(actor, c),
        "refuse": lambda c: cases.refuse_case(actor, c, reason="不属于调解范围"),
        "agree": lambda c: agree(actor, c),
        "fail": lambda c: cases.record_failure(actor, c, channel="arbitration", detail="劳动仲裁委"),
        "withdraw": lambda c: cases.withdraw_case(actor, c, reason="申请人撤回"),
        "close": lambda c: cases.close_case(actor, c, lesson="总结经验"),
    }

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case = register(actor, tree)

        def _try(self, call, *, name=None):
            before = self.case.state
            events = CaseEvent.objects.filter(case=self.case).count()
            audits = AuditEvent.objects.count()
            try:
                call(self.case)
            except (TransitionNotAllowed, ValidationError, PermissionDenied):
                self.case.refresh_from_db()
                assert self.case.state == before
                assert CaseEvent.objects.filter(case=self.case).count() == events
                assert AuditEvent.objects.count() == audits
                return False
            if name is not None:
                assert before in workflow[name].sources, f"{name} happened from {before}"
                assert self.case.state == workflow[name].target
            assert AuditEvent.objects.count() > audits
            return True

        @rule(name=st.sampled_from(sorted(moves)))
        def move(self, name):
            self._try(moves[name], name=name)

        @rule(which=st.integers(0, 1), answer=st.sampled_from(["given", "given", "refused", "pending"]))
        def consent(self, which, answer):
            party = list(CaseParty.objects.filter(case=self.case))[which]
            before = self.case.state
            if self._try(
                lambda c: cases.record_consent(
                    actor,
                    c,
                    party,
                    consent=answer,
                    rights_told=True,
                    note="拒绝调解" if answer == "refused" else "",
                )
            ):
                assert before == S.REGISTERED
                self.case.refresh_from_db()
                assert self.case.state == (S.NOT_ACCEPTED if answer == "refused" else S.REGISTERED)

        @invariant()
        def dates_match_the_state(self):
            case = Case.objects.get(pk=self.case.pk)
            assert case.state in S.values
            reached_acceptance = case.state == S.ACCEPTED or case.outcome in (
                "written",
                "oral",
                "no_agreement",
            )
            if reached_acceptance:
                assert case.accepted_at is not None and case.due_on is not None
            if case.state in (S.AGREED, S.FAILED, S.WITHDRAWN, S.NOT_ACCEPTED, S.CLOSED):
                assert case.ended_at is not None and case.outcome
            if case.state == S.AGREED or (case.state == S.CLOSED and case.outcome in ("written", "oral")):
                assert Case.objects.filter(pk=case.pk, agreement__isnull=False).exists()
            if case.state == S.CLOSED:
                assert case.closed_at is not None and case.lesson
            if case.state == S.NOT_ACCEPTED:
                assert case.accepted_at is None

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
