"""The request loop through services: happy path, illegal transitions, permissions, concurrency,
escalation, reopen → supervision, idempotent submit, bad input, extensions, and a state machine."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.service_requests import services
from linjialin.service_requests.models import (
    Category,
    HandlingLevel,
    RequestEvent,
    RequestRules,
    ServiceRequest,
    State,
)
from linjialin.service_requests.workflow import workflow
from linjialin.testing.concurrency import at_once, outcomes
from linjialin.testing.plugin import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english():
    """The assertions read the messages in English (the source language)."""
    with translation.override("en"):
        yield


def corridor():
    return Category.objects.get(code="corridor")


def submit(user, place, **kw):
    kw.setdefault("request_type", "help")
    kw.setdefault("description", "楼道灯坏了，晚上看不见台阶")
    if "category" not in kw:
        kw["category"] = corridor()
    return services.submit_request(user, place=place, **kw)


def test_resident_to_closed_through_the_entrance_leader(tree, resident_a, entrance_leader_a):
    req = submit(resident_a, tree.household_a1)
    assert (
        req.state == State.SUBMITTED and req.level == HandlingLevel.ENTRANCE and req.requester == resident_a
    )
    assert req.number.endswith(f"{req.pk:06d}")
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="上门沟通，约定明天修")
    services.resolve_request(entrance_leader_a, req, result="已更换灯泡")
    services.rate_request(resident_a, req, solved=True, satisfaction="satisfied", comment="谢谢")
    req.refresh_from_db()
    assert (
        req.state == State.CLOSED and req.handler == entrance_leader_a and req.closed_at and req.resolved_at
    )
    kinds = list(RequestEvent.objects.filter(request=req).values_list("kind", flat=True))
    assert kinds == ["submitted", "accept", "contact", "resolve", "call_back", "close"]
    actions = set(AuditEvent.objects.filter(object_id=str(req.pk)).values_list("action", flat=True))
    assert {"request.submitted", "request.accept", "request.resolve", "request.close"} <= actions


def test_illegal_transitions_get_a_clear_message_and_change_nothing(tree, resident_a, entrance_leader_a):
    req = submit(resident_a, tree.household_a1)
    with pytest.raises(PermissionDenied, match="not possible"):
        services.resolve_request(entrance_leader_a, req, result="x")
    with pytest.raises(PermissionDenied, match="may not"):
        services.accept_request(resident_a, req)  # a resident is not a handler
    req.refresh_from_db()
    assert req.state == State.SUBMITTED and RequestEvent.objects.filter(request=req).count() == 1


def test_a_handler_elsewhere_cannot_act(tree, resident_a, outsider, grid_worker):
    req = submit(resident_a, tree.household_a1)
    with pytest.raises(PermissionDenied):
        services.accept_request(outsider, req)
    with pytest.raises(PermissionDenied):  # in scope, but the request is at the entrance level
        services.accept_request(grid_worker, req)


def test_two_handlers_accept_at_once_exactly_one_wins(tree, resident_a, entrance_leader_a):
    second_leader = make_user("13700000001", "楼门长A2", "entrance_leader", tree.entrance_a)
    req = submit(resident_a, tree.household_a1)
    first_copy, second_copy = ServiceRequest.objects.get(pk=req.pk), ServiceRequest.objects.get(pk=req.pk)
    services.accept_request(entrance_leader_a, first_copy)
    with pytest.raises(Conflict, match="acted first"):
        services.accept_request(second_leader, second_copy)
    req.refresh_from_db()
    assert req.handler == entrance_leader_a
    assert RequestEvent.objects.filter(request=req, kind="accept").count() == 1


def test_escalation_climbs_the_chain_and_stops_at_the_subdistrict(
    tree, resident_a, entrance_leader_a, grid_worker, subdistrict_staff
):
    req = submit(resident_a, tree.household_a1)
    with pytest.raises(ValidationError):
        services.escalate_request(entrance_leader_a, req, reason="  ")
    services.escalate_request(entrance_leader_a, req, reason="需要物业协调")
    assert req.state == State.ESCALATED and req.level == HandlingLevel.GRID
    with pytest.raises(PermissionDenied):
        services.accept_request(entrance_leader_a, req)  # no longer at the entrance level
    services.accept_request(grid_worker, req)
    assert req.handler == grid_worker
    ServiceRequest.objects.filter(pk=req.pk).update(level=HandlingLevel.SUBDISTRICT)
    req.refresh_from_db()
    with pytest.raises(ValidationError, match="dispatcher"):  # the top of the chain: dispatch to a department
        services.escalate_request(subdistrict_staff, req, reason="街道也解决不了")


def test_unsatisfied_reopens_up_to_the_maximum_then_supervision(tree, resident_a, entrance_leader_a):
    RequestRules.objects.update(max_reopen=1)
    req = submit(resident_a, tree.household_a1)
    services.accept_request(entrance_leader_a, req)
    services.record_contact(entrance_leader_a, req, note="电话联系")
    services.resolve_request(entrance_leader_a, req, result="修了")
    services.rate_request(resident_a, req, solved=False, satisfaction="unsatisfied", comment="还是不亮")
    assert req.state == State.IN_PROGRESS and req.reopen_count == 1
    services.resolve_request(entrance_leader_a, req, result="换了线路")
    services.rate_request(resident_a, req, solved=False, satisfaction="unsatisfied", comment="仍然不行")
    req.refresh_from_db()
    assert req.state == State.CALLED_BACK and req.supervised and req.reopen_count == 1


def test_a_double_submit_makes_one_request(tree, resident_a):
    first = submit(resident_a, tree.household_a1, client_token="tap-1")  # noqa: S106 (not a secret)
    again = submit(resident_a, tree.household_a1, client_token="tap-1")  # noqa: S106
    assert first.pk == again.pk and ServiceRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("screen", [False, True])
def test_the_same_token_sent_twice_at_once_makes_one_request(tree, resident_a, screen):
    """Both pass every check before either writes: the unique constraint lets one INSERT through and the
    other answers with that request (with screening, as the resident's page and the API submit)."""

    def tap():  # no category: a transactional test after the browser tests may miss the seeded ones
        return submit(resident_a, tree.household_a1, client_token="tap-race", screen=screen, category=None)  # noqa: S106

    results = at_once(tap, tap)
    assert outcomes(results) == ["ok", "ok"]
    assert results[0].pk == results[1].pk and ServiceRequest.objects.count() == 1
    assert sorted(getattr(r, "replayed", False) for r in results) == [False, True]
    assert AuditEvent.objects.filter(action="request.submitted").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "   "}, "description"),
        ({"description": "长" * 2001}, "description"),
        ({"request_type": "gossip"}, "request_type"),
        ({"urgency": "whenever"}, "urgency"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(tree, resident_a, changes, field):
    with pytest.raises(ValidationError) as exc:
        submit(resident_a, tree.household_a1, **changes)
    assert field in exc.value.message_dict
    assert (
        ServiceRequest.objects.count() == 0
        and AuditEvent.objects.filter(action="request.submitted").count() == 0
    )


def test_residents_submit_for_their_entrance_but_not_another(tree, resident_a):
    assert submit(resident_a, tree.entrance_a).place == tree.entrance_a
    with pytest.raises(PermissionDenied):
        submit(resident_a, tree.entrance_b)


def test_extension_moves_the_deadline_by_working_days_across_national_day(
    tree, resident_a, entrance_leader_a, community_secretary
):
    from linjialin.accounts.models import RoleGrant

    RoleGrant.objects.update(valid_from="2026-01-01")  # the roles were held on the travelled-to day
    with time_machine.travel(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI), tick=False):
        req = submit(resident_a, tree.household_a1)
        services.accept_request(entrance_leader_a, req)
        services.record_contact(entrance_leader_a, req, note="已联系")
        with pytest.raises(ValidationError):
            services.request_extension(entrance_leader_a, req, days=30, reason="太多")
        services.request_extension(entrance_leader_a, req, days=2, reason="等配件")
        with pytest.raises(PermissionDenied):
            services.decide_extension(entrance_leader_a, req, grant=True)  # not a supervisor
        before = req.resolve_by
        services.decide_extension(community_secretary, req, grant=True, note="同意")
    assert req.state == State.IN_PROGRESS and req.resolve_by > before
    # resolve_by was 7 working days from Mon 28 Sep (Sep 29, 30, Oct 8, 9, 10 (调休 Saturday), 12, 13)
    assert before.astimezone(SHANGHAI).date().isoformat() == "2026-10-13"
    assert req.resolve_by.astimezone(SHANGHAI).date().isoformat() == "2026-10-15"


def test_the_table_only_names_known_states_and_every_state_is_reachable():
    reachable = {State.SUBMITTED}
    for _ in range(len(State)):
        reachable |= {t.target for t in workflow.transitions if t.sources & reachable}
    assert reachable == set(State.values)
    assert "submitted --> accepted: accept" in workflow.mermaid()


# --- the state machine ---------------------------------------------------------------------------------
def test_any_sequence_of_actions_keeps_the_request_consistent(tree, admin):
    """An all-powerful actor (system admin, also the requester) tries transitions in any order: each
    either happens exactly as the table says (one timeline event, state = target) or is refused and
    changes nothing."""

    actions = {
        "accept": lambda r: services.accept_request(admin, r),
        "contact": lambda r: services.record_contact(admin, r, note="联系"),
        "resolve": lambda r: services.resolve_request(admin, r, result="完成"),
        "escalate": lambda r: services.escalate_request(admin, r, reason="上报"),
        "return": lambda r: services.return_request(admin, r, reason="不属于本单位"),
        "dispatch": lambda r: services.dispatch_request(admin, r, level=HandlingLevel.COMMUNITY),
        "not_accept": lambda r: services.not_accept_request(admin, r, reason="不属于职责清单"),
        "request_extension": lambda r: services.request_extension(admin, r, days=3, reason="等待"),
        "grant_extension": lambda r: services.decide_extension(admin, r, grant=True),
        "refuse_extension": lambda r: services.decide_extension(admin, r, grant=False, note="不同意"),
        "withdraw": lambda r: services.withdraw_request(admin, r, reason="已自行解决"),
        "reassign": lambda r: services.reassign_request(
            admin,
            r,
            level=HandlingLevel.GRID if r.level != HandlingLevel.GRID else HandlingLevel.COMMUNITY,
            reason="改派",
        ),
    }
    ratings = st.sampled_from(["satisfied", "basically", "unsatisfied"])

    class RequestMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.req = submit(admin, tree.household_a1)

        def _try(self, name, call):
            before = self.req.state
            events = RequestEvent.objects.filter(request=self.req).count()
            allowed = before in workflow[name].sources
            try:
                call(self.req)
            except (PermissionDenied, ValidationError):
                self.req.refresh_from_db()
                assert self.req.state == before
                assert RequestEvent.objects.filter(request=self.req).count() == events
                return False
            assert allowed, f"{name} happened from {before}"
            return True

        @rule(name=st.sampled_from(sorted(actions)))
        def act(self, name):
            if self._try(name, actions[name]):
                assert self.req.state == workflow[name].target

        @rule(solved=st.booleans(), satisfaction=ratings)
        def rate(self, solved, satisfaction):
            self._try(
                "call_back",
                lambda r: services.rate_request(admin, r, solved=solved, satisfaction=satisfaction),
            )

        @invariant()
        def consistent(self):
            req = ServiceRequest.objects.get(pk=self.req.pk)
            assert req.state in State.values
            assert req.state != State.CLOSED or req.closed_at is not None
            assert req.state != State.RESOLVED or req.resolved_at is not None
            assert req.reopen_count <= RequestRules.objects.get().max_reopen
            assert HandlingLevel.DEPARTMENT <= req.level <= HandlingLevel.ENTRANCE

    run_state_machine_as_test(
        RequestMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )


def test_two_escalations_of_the_same_request_at_once_climb_one_level(
    tree, resident_a, entrance_leader_a, grid_worker
):
    second_grid_worker = make_user("13700000002", "网格员2", "grid_worker", tree.grid_1)
    req = submit(resident_a, tree.household_a1)
    services.escalate_request(
        entrance_leader_a, req, reason="需要网格协调"
    )  # now escalated at the grid level
    first_copy, second_copy = ServiceRequest.objects.get(pk=req.pk), ServiceRequest.objects.get(pk=req.pk)
    services.escalate_request(grid_worker, first_copy, reason="社区处理")
    with pytest.raises(Conflict):  # same state (escalated) but the level moved: it must not climb twice
        services.escalate_request(second_grid_worker, second_copy, reason="社区处理")
    req.refresh_from_db()
    assert req.level == HandlingLevel.COMMUNITY
    assert RequestEvent.objects.filter(request=req, kind="escalate").count() == 2


def test_a_double_submit_on_a_residents_behalf_makes_one_request(tree, entrance_leader_a):
    """代报 has no requester account: the token is kept per person who submitted."""
    first = submit(entrance_leader_a, tree.household_a1, channel="on_behalf", client_token="daibao-1")  # noqa: S106
    again = submit(entrance_leader_a, tree.household_a1, channel="on_behalf", client_token="daibao-1")  # noqa: S106
    assert first.pk == again.pk and first.requester is None and ServiceRequest.objects.count() == 1
