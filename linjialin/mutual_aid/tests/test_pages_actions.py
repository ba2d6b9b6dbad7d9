"""The actions on a post through HTTP (issue 6 §3–§4): 我能帮, the pick (the contact appears only after
it and only for the two), the helper's contact choice, a minor's in-person hand-off without a guardian,
done with thanks, passing leftovers on and the chain, withdrawing, reporting; the moderation queue
(uphold, dismiss, restore, another community's report is 404); my posts and answers; the notice settings.
Each form: the happy path and bad input that writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linjialin.mutual_aid.models import (
    Handoff,
    Post,
    PostState,
    Reach,
    Report,
    ReportState,
    Response,
    ResponseState,
    Subscription,
)
from linjialin.mutual_aid.services import posts
from linjialin.places.models import Resident
from linjialin.testing.plugin import make_user

from .pages_support import english_and_media, make_neighbour, make_post, widen_to

pytestmark = pytest.mark.django_db

RELAY = "95013"


@pytest.fixture(autouse=True)
def _english_and_media(settings, tmp_path):
    with english_and_media(settings, tmp_path):
        yield


@pytest.fixture
def neighbour(tree):
    return make_neighbour(tree)


def act(client, post, action, data=None):
    return client.post(reverse("mutual_aid:post_act", args=[post.pk, action]), data or {})


def page(client, post) -> str:
    return client.get(reverse("mutual_aid:post", args=[post.pk])).content.decode()


@pytest.fixture
def need(resident_a, tree):
    return make_post(resident_a, tree.household_a1, text="需要人帮忙取药，在社区医院")


@pytest.fixture
def answered(need, neighbour, tree):
    response = posts.respond(neighbour, need, household=tree.household_a2, note="我下午有空")
    return need, response


def pick_data(response, **kw):
    data = {"pick-response": response.pk, "pick-contact": "relay", "pick-mode": "door", "pick-guardian": ""}
    data.update(kw)
    return data


# --- "I can help" (我能帮) ------------------------------------------------------------------------------
def test_a_neighbour_answers_i_can_help(login, need, neighbour, resident_a, tree):
    client = login(neighbour)
    html = page(client, need)
    assert "I can help" in html
    response = act(
        client, need, "respond", {"respond-household": tree.household_a2.pk, "respond-note": "我有空"}
    )
    assert response.status_code == 302
    answer = Response.objects.get()
    assert (answer.helper, answer.note, answer.state) == (neighbour, "我有空", ResponseState.OFFERED)
    html = page(client, need)
    assert (
        "You offered to help" in html
        and 'action="' + reverse("mutual_aid:post_act", args=[need.pk, "respond"]) not in html
    )
    assert "我有空" in page(login(resident_a), need)  # the author sees the answer


def test_a_too_long_note_writes_nothing(login, need, neighbour, tree):
    response = act(
        login(neighbour),
        need,
        "respond",
        {"respond-household": tree.household_a2.pk, "respond-note": "长" * 201},
    )
    assert response.status_code == 422
    assert "at most 200" in response.content.decode().lower()
    assert not Response.objects.exists()


def test_the_author_cannot_answer_their_own_post(login, need, resident_a, tree):
    client = login(resident_a)
    assert "I can help" not in page(client, need)
    response = act(client, need, "respond", {"respond-household": tree.household_a1.pk})
    assert response.status_code == 403
    assert not Response.objects.exists()


# --- the pick and the contact -------------------------------------------------------------------------------
def test_the_contact_appears_only_after_the_pick_and_only_for_the_two(
    login, answered, resident_a, neighbour, resident_b, entrance_leader_a, tree
):
    need, answer = answered
    widen_to(need, Reach.BUILDING)
    other = make_user("13700002010", "赵七", "resident", tree.household_b1)
    posts.respond(other, need, household=tree.household_b1)
    before = page(login(resident_a), need)
    assert "Choose this helper" in before and RELAY not in before and 'id="contact"' not in before
    assert RELAY not in page(login(neighbour), need)

    response = act(
        login(resident_a),
        need,
        "pick",
        pick_data(answer, **{"pick-contact": "door", "pick-mode": "in_person"}),
    )
    assert response.status_code == 302
    need.refresh_from_db()
    handoff = Handoff.objects.get()
    assert need.state == PostState.MATCHED
    assert (handoff.response, handoff.requester_contact, handoff.mode) == (answer, "door", "in_person")
    assert Response.objects.get(helper=other).state == ResponseState.NOT_CHOSEN

    author_html = page(login(resident_a), need)
    assert 'id="contact"' in author_html and RELAY in author_html  # the helper shows a relay number
    assert "李四" in author_html
    helper_html = page(login(neighbour), need)
    assert 'id="contact"' in helper_html
    assert tree.household_a1.name in helper_html  # the author chose the door number
    assert "in person" in helper_html
    for outsider_of_the_two in (other, entrance_leader_a):
        html = page(login(outsider_of_the_two), need)
        assert 'id="contact"' not in html and RELAY not in html


def test_a_pick_with_a_bad_choice_writes_nothing(login, answered, resident_a):
    need, answer = answered
    response = act(login(resident_a), need, "pick", pick_data(answer, **{"pick-mode": "teleport"}))
    assert response.status_code == 422
    assert not Handoff.objects.exists()
    need.refresh_from_db()
    assert need.state == PostState.OPEN


def test_only_the_author_picks(login, answered, neighbour):
    need, answer = answered
    response = act(login(neighbour), need, "pick", pick_data(answer))
    assert response.status_code in (302, 403)
    assert not Handoff.objects.exists()


def test_a_minor_helper_meeting_in_person_needs_a_guardian(login, need, resident_a, tree):
    kid = make_user("13700002011", "小明", "resident", tree.household_a2)
    Resident.objects.create(
        household=tree.household_a2, path=tree.household_a2.path, name="小明", birth_year=2014, user=kid
    )
    answer = posts.respond(kid, need, household=tree.household_a2)
    client = login(resident_a)
    response = act(client, need, "pick", pick_data(answer, **{"pick-mode": "in_person"}))
    assert response.status_code == 422
    assert "guardian" in response.content.decode()
    assert not Handoff.objects.exists()
    response = act(
        client, need, "pick", pick_data(answer, **{"pick-mode": "in_person", "pick-guardian": "王阿姨"})
    )
    assert response.status_code == 302
    assert Handoff.objects.get().guardian == "王阿姨"


def test_the_helper_changes_what_they_show(login, answered, resident_a, neighbour, tree):
    need, answer = answered
    posts.pick(resident_a, need, answer)
    client = login(neighbour)
    assert act(client, need, "contact", {"contact-contact": "bogus"}).status_code == 422
    assert Handoff.objects.get().helper_contact == "relay"
    assert act(client, need, "contact", {"contact-contact": "door"}).status_code == 302
    assert Handoff.objects.get().helper_contact == "door"
    assert tree.household_a2.name in page(login(resident_a), need)


# --- done, thanks, passing on, the chain --------------------------------------------------------------------
def test_done_with_thanks_then_leftovers_passed_on_and_the_chain_shown(
    login, answered, resident_a, neighbour, resident_b
):
    need, answer = answered
    posts.pick(resident_a, need, answer)
    author = login(resident_a)
    assert act(author, need, "finish", {"finish-thanks": "谢谢李四！" + "多" * 200}).status_code == 422
    need.refresh_from_db()
    assert need.state == PostState.MATCHED
    assert act(author, need, "finish", {"finish-thanks": "谢谢李四！"}).status_code == 302
    need.refresh_from_db()
    assert need.state == PostState.DONE
    assert "谢谢李四！" in page(login(neighbour), need)

    assert act(login(resident_a), need, "pass_on", {"pass_on-text": ""}).status_code == 422
    assert Post.objects.count() == 1
    response = act(login(resident_a), need, "pass_on", {"pass_on-text": "药多买了一盒，可以给需要的邻居"})
    offer = Post.objects.exclude(pk=need.pk).get()
    assert response.status_code == 302 and response["Location"] == reverse("mutual_aid:post", args=[offer.pk])
    assert (offer.kind, offer.parent) == ("offer", need)
    for client in (login(resident_a), login(neighbour)):
        for post in (need, offer):
            html = page(client, post)
            assert 'id="chain"' in html
            assert "需要人帮忙取药" in html and "药多买了一盒" in html
    # someone who only sees the new offer sees no chain of one
    assert 'id="chain"' not in page(login(resident_b), widen_to(offer, Reach.BUILDING))


def test_pass_on_is_not_offered_before_the_pick(login, need, resident_a):
    html = page(login(resident_a), need)
    assert "Pass on what is left" not in html
    response = act(login(resident_a), need, "pass_on", {"pass_on-text": "剩下的"})
    assert response.status_code == 302
    assert Post.objects.count() == 1


# --- withdraw, report ---------------------------------------------------------------------------------------
def test_the_author_withdraws(login, need, resident_a, neighbour):
    assert "Withdraw my post" not in page(login(neighbour), need)
    assert act(login(neighbour), need, "withdraw", {"withdraw-reason": "x"}).status_code in (302, 403)
    need.refresh_from_db()
    assert need.state == PostState.OPEN
    assert act(login(resident_a), need, "withdraw", {"withdraw-reason": "已经解决了"}).status_code == 302
    need.refresh_from_db()
    assert need.state == PostState.WITHDRAWN


def test_reporting_a_post_and_a_person(login, need, neighbour, resident_a):
    client = login(neighbour)
    assert "Report this post or person" in page(client, need)
    assert "Report this post or person" not in page(login(resident_a), need)
    client = login(neighbour)  # one test client: log the reporter in again
    response = act(client, need, "report", {"report-target": "post", "report-reason": ""})
    assert response.status_code == 422
    assert not Report.objects.exists()
    response = act(
        client, need, "report", {"report-target": "post", "report-reason": "fraud", "report-note": "像骗局"}
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.post, report.reason, report.note, report.reporter) == (need, "fraud", "像骗局", neighbour)
    response = act(client, need, "report", {"report-target": "person", "report-reason": "abuse"})
    assert response.status_code == 302
    assert Report.objects.get(person=resident_a).reason == "abuse"


# --- moderation ---------------------------------------------------------------------------------------------
@pytest.fixture
def reported(need, neighbour):
    return posts.report(neighbour, post=need, reason="commercial", note="在卖东西")


def decide(client, report, decision, note=""):
    return client.post(
        reverse("mutual_aid:moderate_report", args=[report.pk]),
        {f"r{report.pk}-decision": decision, f"r{report.pk}-note": note},
    )


def test_the_queue_shows_the_report_and_upholding_hides_the_post(login, reported, entrance_leader_a, need):
    client = login(entrance_leader_a)
    html = client.get(reverse("mutual_aid:moderation")).content.decode()
    assert f'id="report-{reported.pk}"' in html and "advertising or selling" in html and "在卖东西" in html
    assert "需要人帮忙取药" in html
    assert decide(client, reported, "nonsense").status_code == 302
    reported.refresh_from_db()
    assert reported.state == ReportState.OPEN
    assert decide(client, reported, "upheld", "确认是广告").status_code == 302
    reported.refresh_from_db()
    need.refresh_from_db()
    assert reported.state == ReportState.UPHELD and need.state == PostState.HIDDEN
    html = client.get(reverse("mutual_aid:moderation")).content.decode()
    assert f'id="report-{reported.pk}"' not in html and f'id="hidden-{need.pk}"' in html
    response = client.post(reverse("mutual_aid:post_act", args=[need.pk, "restore"]), {"back": "moderation"})
    assert response.status_code == 302 and response["Location"] == reverse("mutual_aid:moderation")
    need.refresh_from_db()
    assert need.state == PostState.OPEN


def test_dismissing_leaves_the_post_open(login, reported, community_worker, need):
    assert decide(login(community_worker), reported, "dismissed").status_code == 302
    reported.refresh_from_db()
    need.refresh_from_db()
    assert reported.state == ReportState.DISMISSED and need.state == PostState.OPEN


def test_another_communitys_moderator_neither_sees_nor_decides(login, reported, outsider, resident_a, need):
    client = login(outsider)
    assert f'id="report-{reported.pk}"' not in client.get(reverse("mutual_aid:moderation")).content.decode()
    assert decide(client, reported, "upheld").status_code == 404
    reported.refresh_from_db()
    assert reported.state == ReportState.OPEN
    assert decide(login(resident_a), reported, "upheld").status_code == 404  # no moderation right


def test_a_moderator_hides_from_the_post_page_with_a_reason(login, need, entrance_leader_a, neighbour):
    client = login(entrance_leader_a)
    assert act(client, need, "hide", {"hide-reason": ""}).status_code == 422
    need.refresh_from_db()
    assert need.state == PostState.OPEN
    assert act(client, need, "hide", {"hide-reason": "含有联系方式广告"}).status_code == 302
    need.refresh_from_db()
    assert need.state == PostState.HIDDEN
    assert login(neighbour).get(reverse("mutual_aid:post", args=[need.pk])).status_code == 404


# --- mine ---------------------------------------------------------------------------------------------------
def test_mine_lists_my_posts_and_my_answers_with_their_states(login, answered, resident_a, neighbour, tree):
    need, _answer = answered
    own = make_post(neighbour, tree.household_a2, text="谁家有打气筒", kind="need", category="lending")
    html = login(neighbour).get(reverse("mutual_aid:mine")).content.decode()
    assert "谁家有打气筒" in html and "需要人帮忙取药" in html
    assert "offered" in html
    html = login(resident_a).get(reverse("mutual_aid:mine")).content.decode()
    assert "需要人帮忙取药" in html and "谁家有打气筒" not in html
    assert own.pk


# --- the notice settings ------------------------------------------------------------------------------------
def test_the_notice_settings_save_and_show_again(login, resident_a):
    client = login(resident_a)
    url = reverse("mutual_aid:settings")
    data = {
        "active": "on",
        "reach": str(Reach.COMPOUND),
        "categories": ["medicine", "errands"],
        "quiet_from": "22:00",
        "quiet_until": "07:00",
    }
    assert client.post(url, data).status_code == 302
    sub = Subscription.objects.get(user=resident_a)
    assert sub.active and sub.reach == Reach.COMPOUND
    assert sorted(sub.categories) == ["errands", "medicine"]
    assert sub.quiet_from.strftime("%H:%M") == "22:00" and sub.quiet_until.strftime("%H:%M") == "07:00"
    html = client.get(url).content.decode()
    assert 'value="22:00"' in html and 'value="medicine"' in html


@pytest.mark.parametrize(
    "change",
    [
        {"quiet_from": "22:00", "quiet_until": ""},
        {"quiet_from": "25:99", "quiet_until": "07:00"},
        {"reach": "9"},
    ],
)
def test_bad_notice_settings_write_nothing(login, resident_a, change):
    data = {"active": "on", "reach": str(Reach.BUILDING), "quiet_from": "", "quiet_until": ""}
    data.update(change)
    response = login(resident_a).post(reverse("mutual_aid:settings"), data)
    assert response.status_code == 422
    assert not Subscription.objects.exists()
