"""Actions are offered only where they make sense at the actor's level, and every button shown works:
the page's action list is the workflow's allowed transitions for the actor (core/workflow.py), so a
shown button never answers "not allowed". 退单 (return to the dispatcher) only for a request that came
through the dispatcher; a request a neighbour filed directly at the entrance is escalated instead."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests import services
from linjialin.service_requests.models import HandlingLevel, HandlingUnit, ServiceRequest, State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def direct(tree, resident):
    """A neighbour's request filed directly at their household: the 楼门长 handles it."""
    return services.submit_request(
        resident, place=tree.household_a1, request_type="help", description="门口的灯坏了"
    )


def at_state(tree, resident, leader, state):
    req = direct(tree, resident)
    if state in (State.ACCEPTED, State.IN_PROGRESS):
        services.accept_request(leader, req)
    if state == State.IN_PROGRESS:
        services.record_contact(leader, req, note="上门看过")
    req.refresh_from_db()
    return req


def page(client, req):
    return client.get(reverse("requests:detail", args=[req.pk])).context


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.SUBMITTED, ["accept", "escalate"]),
        (State.ACCEPTED, ["contact", "escalate"]),
        (State.IN_PROGRESS, ["resolve", "escalate"]),
    ],
)
def test_the_leader_is_offered_no_return_or_dispatch_on_a_direct_request(
    login, tree, resident_a, entrance_leader_a, state, expected
):
    req = at_state(tree, resident_a, entrance_leader_a, state)
    context = page(login(entrance_leader_a), req)
    assert context["actions"] == expected
    assert not {"dispatch", "reassign", "merge"} & set(context["desk_forms"])
    assert context["send_to"] == [] and not context["may_whistle"]
    with pytest.raises(PermissionDenied):
        services.return_request(entrance_leader_a, req, reason="不归我管")


def test_a_request_the_dispatcher_sent_may_be_returned_to_the_dispatcher(
    login, tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    req = direct(tree, resident_a)
    services.dispatch_request(subdistrict_dispatcher, req, level=HandlingLevel.ENTRANCE)
    req.refresh_from_db()
    assert page(login(entrance_leader_a), req)["actions"] == ["accept", "escalate", "return"]
    response = login(entrance_leader_a).post(
        reverse("requests:act", args=[req.pk, "return"]), {"text": "这是物业的事"}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == State.RETURNED


@pytest.mark.parametrize("role", ["entrance_leader_a", "grid_worker", "community_worker", "resident_a"])
@pytest.mark.parametrize("state", [State.SUBMITTED, State.ACCEPTED, State.IN_PROGRESS])
def test_every_action_shown_works(request, login, tree, resident_a, entrance_leader_a, role, state):
    """Each button on the page, pressed on its own copy of the request, does what it says."""
    user = request.getfixturevalue(role)
    shown = page(login(user), at_state(tree, resident_a, entrance_leader_a, state))["actions"]
    for name in shown:
        req = at_state(tree, resident_a, entrance_leader_a, state)
        client = login(user)
        url = reverse("requests:act", args=[req.pk, name])
        response = client.post(url, {"text": "说明情况"}, follow=True)
        html = response.content.decode()
        assert response.status_code == 200, (role, state, name)
        assert "You may not" not in html and "is not possible while" not in html, (role, state, name)
        req.refresh_from_db()
        assert req.state != state or name == "escalate", (role, state, name)


def test_the_resident_is_offered_only_withdraw_and_an_outsider_sees_nothing(
    login, tree, resident_a, entrance_leader_a, outsider
):
    req = direct(tree, resident_a)
    assert page(login(resident_a), req)["actions"] == ["withdraw"]
    assert login(outsider).get(reverse("requests:detail", args=[req.pk])).status_code == 404
    assert ServiceRequest.objects.get(pk=req.pk).state == State.SUBMITTED


def test_the_leaders_other_actions_are_not_called_desk_actions(
    login, tree, resident_a, entrance_leader_a, subdistrict_dispatcher
):
    req = direct(tree, resident_a)
    leader = login(entrance_leader_a).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "not_accept" in page(login(entrance_leader_a), req)["desk_forms"]
    assert "Other actions" in leader and "Desk actions" not in leader
    desk = login(subdistrict_dispatcher).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "Desk actions" in desk


def test_a_unit_the_leader_may_call_in_does_not_make_his_actions_desk_actions(
    login, tree, resident_a, entrance_leader_a
):
    """Calling in a co-handling unit is the owner's, not the desk's: his heading stays 'Other actions'."""
    HandlingUnit.objects.create(
        code="water", name_zh="自来水公司", place=tree.subdistrict, path=tree.subdistrict.path
    )
    req = at_state(tree, resident_a, entrance_leader_a, State.ACCEPTED)
    assert page(login(entrance_leader_a), req)["may_co_handle"]
    leader = login(entrance_leader_a).get(reverse("requests:detail", args=[req.pk])).content.decode()
    assert "Other actions" in leader and "Desk actions" not in leader
