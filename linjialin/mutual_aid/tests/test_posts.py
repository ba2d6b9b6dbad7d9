"""Posts: who sees a need (reach by entrance → building → compound → community, widening over time while
nobody answers, up to max_reach), expiry, "我能帮", the pick and the contact each side shows (only after
the pick, only to the two), the medicine block, rate limits, minors, the pass-on chain, the replay of a
double tap, and the audit row of each write."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mutual_aid import selectors
from linjialin.mutual_aid.models import (
    AidRules,
    FeedEntry,
    Handoff,
    Post,
    PostState,
    Reach,
    Response,
    ResponseState,
)
from linjialin.mutual_aid.services import posts
from linjialin.notifications.models import Notification

from .test_posts_fixtures import (  # noqa: F401
    _english,
    aid_tree_fixture,
    matched,
    need,
    post_fixture,
    resident,
    resident_a2_fixture,
    resident_c_fixture,
    resident_d_fixture,
    resident_x_fixture,
)

S = PostState
# tomorrow 10:00 local (grants start today: the clock never goes back before them)
T0 = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)


def sees(user, post) -> bool:
    return selectors.visible_posts(user).filter(pk=post.pk).exists()


def actions(**filters) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq").values_list("action", flat=True))


# --- reach ----------------------------------------------------------------------------------------------
def test_a_new_need_is_seen_at_its_entrance_only(
    tree, post, resident_a, resident_a2, resident_b, resident_c, resident_d, resident_x
):
    assert post.state == S.OPEN and post.reach == Reach.ENTRANCE
    assert post.entrance_id == tree.entrance_a.pk and post.building_id == tree.building_1.pk
    assert post.community_id == tree.community_1.pk and post.path == tree.household_a1.path
    assert sees(resident_a, post) and sees(resident_a2, post)
    for other in (resident_b, resident_c, resident_d, resident_x):
        assert not sees(other, post)
    with pytest.raises(Http404):
        selectors.get_post_for_user(resident_x, post.pk)
    assert FeedEntry.objects.filter(post=post).count() == 1
    entry = FeedEntry.objects.get(post=post)
    assert (entry.reach, entry.entrance_id_at, entry.community_id_at) == (
        1,
        tree.entrance_a.pk,
        tree.community_1.pk,
    )


def test_reach_widens_over_time_up_to_the_community_and_never_to_another(
    tree, resident_a, resident_b, resident_c, resident_d, resident_x
):
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    assert p.widen_at == T0 + timedelta(minutes=30)
    steps = [(29, Reach.ENTRANCE, []), (31, Reach.BUILDING, [resident_b])]
    steps += [
        (62, Reach.COMPOUND, [resident_b, resident_c]),
        (93, Reach.COMMUNITY, [resident_b, resident_c, resident_d]),
    ]
    for minutes, reach, seeing in steps:
        posts.sweep(T0 + timedelta(minutes=minutes))
        p.refresh_from_db()
        assert p.reach == reach, minutes
        for user in (resident_b, resident_c, resident_d):
            assert sees(user, p) == (user in seeing), (minutes, user)
        assert not sees(resident_x, p)
    assert p.widen_at is None  # at max_reach: no further widening
    assert posts.sweep(T0 + timedelta(minutes=200))["widened"] == 0
    assert list(FeedEntry.objects.filter(post=p).values_list("reach", flat=True)) == [1, 2, 3, 4]
    assert actions(object_id=str(p.pk), object_type="mutual_aid.post") == [
        "mutual_aid.post.created",
        "mutual_aid.post.widened",
        "mutual_aid.post.widened",
        "mutual_aid.post.widened",
    ]


def test_the_sweep_at_the_same_moment_twice_widens_once(tree, resident_a):
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    at = T0 + timedelta(minutes=31)
    assert posts.sweep(at) == {"widened": 1, "expired": 0}
    assert posts.sweep(at) == {"widened": 0, "expired": 0}
    p.refresh_from_db()
    assert p.reach == Reach.BUILDING and FeedEntry.objects.filter(post=p).count() == 2


def test_widening_stops_at_max_reach(tree, resident_a):
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1, max_reach=Reach.BUILDING)
    posts.sweep(T0 + timedelta(minutes=31))
    p.refresh_from_db()
    assert p.reach == Reach.BUILDING and p.widen_at is None
    posts.sweep(T0 + timedelta(minutes=120))
    p.refresh_from_db()
    assert p.reach == Reach.BUILDING
    with time_machine.travel(T0, tick=False):
        only_here = need(resident_a, tree.household_a1, max_reach=Reach.ENTRANCE, text="借个梯子")
    assert only_here.widen_at is None


def test_widening_stops_once_someone_answered(tree, resident_a, resident_b):
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    posts.sweep(T0 + timedelta(minutes=31))
    p.refresh_from_db()
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        posts.respond(resident_b, p, household=tree.household_b1)
    p.refresh_from_db()
    assert p.first_response_at is not None and p.widen_at is None
    posts.sweep(T0 + timedelta(minutes=120))
    p.refresh_from_db()
    assert p.reach == Reach.BUILDING


def test_open_posts_expire_and_the_author_is_told_once(tree, resident_a):
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1, expires_in_hours=1)
    assert p.expires_at == T0 + timedelta(hours=1)
    assert posts.sweep(T0 + timedelta(minutes=59))["expired"] == 0
    assert posts.sweep(T0 + timedelta(minutes=61))["expired"] == 1
    assert posts.sweep(T0 + timedelta(minutes=62))["expired"] == 0
    p.refresh_from_db()
    assert p.state == S.EXPIRED
    assert Notification.objects.filter(user=resident_a, kind="mutual_aid.post.expired").count() == 1
    assert "mutual_aid.post.expired" in actions(object_id=str(p.pk))


def test_the_default_expiry_and_widening_time_are_the_rules(tree, resident_a):
    AidRules.objects.update(expiry_hours=6, widen_after_minutes=10)
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    assert p.expires_at == T0 + timedelta(hours=6) and p.widen_at == T0 + timedelta(minutes=10)


# --- bad input --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("kind", {"kind": "sell"}),
        ("category", {"category": "cars"}),
        ("urgency", {"urgency": "panic"}),
        ("max_reach", {"max_reach": 9}),
        ("text", {"text": "   "}),
        ("text", {"text": "药" * 501}),
        ("expires_in_hours", {"expires_in_hours": 0}),
        ("expires_in_hours", {"expires_in_hours": 24 * 15}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(tree, resident_a, field, values):
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        need(resident_a, tree.household_a1, **values)
    assert field in exc.value.message_dict
    assert not Post.objects.exists() and AuditEvent.objects.count() == audits


def test_a_photo_must_be_an_image(tree, resident_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as exc:
        need(resident_a, tree.household_a1, photo=SimpleUploadedFile("x.jpg", b"not an image"))
    assert "photo" in exc.value.message_dict


def test_a_resident_posts_only_for_their_household_and_a_leader_for_those_they_cover(
    tree, resident_a, resident_b, entrance_leader_a, outsider
):
    with pytest.raises(PermissionDenied):
        need(resident_a, tree.household_b1)
    with pytest.raises(PermissionDenied):
        need(outsider, tree.household_a1)
    with pytest.raises(PermissionDenied):
        need(resident_a, tree.entrance_a)  # not a household
    on_behalf = need(entrance_leader_a, tree.household_a1, text="张大爷家需要帮忙买菜", category="errands")
    assert on_behalf.author == entrance_leader_a and on_behalf.household == tree.household_a1
    assert sees(resident_a, on_behalf)  # the household's own resident, in reach


def test_the_same_client_token_makes_one_post(tree, resident_a):
    first = need(resident_a, tree.household_a1, client_token="tap-1")  # noqa: S106
    again = need(resident_a, tree.household_a1, client_token="tap-1")  # noqa: S106
    assert again.pk == first.pk and getattr(again, "replayed", False)
    assert Post.objects.count() == 1
    assert need(resident_a, tree.household_a1, client_token="tap-2").pk != first.pk  # noqa: S106


# --- the medicine rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["有多余的阿莫西林胶囊，谁要", "求一支胰岛素针", "需要帮忙打针剂", "ＡＢ 头孢 xx"]
)
def test_prescription_drugs_and_injections_are_refused_saying_why(tree, resident_a, text):
    audits, notices = AuditEvent.objects.count(), Notification.objects.count()
    with pytest.raises(ValidationError) as exc:
        need(resident_a, tree.household_a1, text=text, kind="offer")
    message = " ".join(exc.value.message_dict["text"])
    word = posts.blocked_medicine(text)
    assert word and f"“{word}”" in message
    assert "needs a doctor's prescription" in message and "120" in message
    assert not Post.objects.exists() and not FeedEntry.objects.exists()
    assert AuditEvent.objects.count() == audits and Notification.objects.count() == notices


def test_ordinary_medicine_is_allowed_and_the_words_are_data(tree, resident_a):
    assert need(resident_a, tree.household_a1, text="急需退烧药，孩子39度").category == "medicine"
    AidRules.objects.update(blocked_medicine_words="处方药\n退烧药")
    with pytest.raises(ValidationError) as exc:
        need(resident_a, tree.household_a1, text="还需要退烧药")
    assert "“退烧药”" in exc.value.message_dict["text"][0]


def test_the_zh_message_says_why(tree, resident_a):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        need(resident_a, tree.household_a1, text="转让青霉素")
    message = exc.value.message_dict["text"][0]
    assert "青霉素" in message and "120" in message


def test_a_response_note_naming_a_blocked_medicine_is_refused(post, tree, resident_a2):
    with pytest.raises(ValidationError) as exc:
        posts.respond(resident_a2, post, household=tree.household_a2, note="我有抗生素")
    assert "note" in exc.value.message_dict
    assert not Response.objects.exists()


# --- rate limits ------------------------------------------------------------------------------------------
def test_posts_per_day_are_limited_with_a_clear_message(tree, resident_a):
    AidRules.objects.update(posts_per_day=2)
    with time_machine.travel(T0, tick=False):
        need(resident_a, tree.household_a1)
        need(resident_a, tree.household_a1, text="借个电钻", category="lending")
        with pytest.raises(ValidationError) as exc:
            need(resident_a, tree.household_a1, text="借个梯子", category="lending")
    assert "2 times in the last 24 hours" in exc.value.message_dict["text"][0]
    assert Post.objects.count() == 2
    with time_machine.travel(T0 + timedelta(hours=24, minutes=1), tick=False):
        need(resident_a, tree.household_a1, text="借个梯子", category="lending")


def test_responses_per_hour_are_limited(tree, resident_a, resident_a2, entrance_leader_a):
    AidRules.objects.update(responses_per_hour=1)
    with time_machine.travel(T0, tick=False):
        first = need(resident_a, tree.household_a1)
        second = need(entrance_leader_a, tree.household_a1, text="帮张大爷取快递", category="errands")
        posts.respond(resident_a2, first, household=tree.household_a2)
        with pytest.raises(ValidationError) as exc:
            posts.respond(resident_a2, second, household=tree.household_a2)
    assert "1 times in the last hour" in exc.value.message_dict["note"][0]
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        posts.respond(resident_a2, second, household=tree.household_a2)


# --- responses --------------------------------------------------------------------------------------------
def test_a_response_tells_the_author_and_a_second_tap_returns_the_first(post, tree, resident_a, resident_a2):
    response = posts.respond(resident_a2, post, household=tree.household_a2, note="我家有，马上送")
    assert response.state == ResponseState.OFFERED
    again = posts.respond(resident_a2, post, household=tree.household_a2)
    assert again.pk == response.pk and Response.objects.count() == 1
    told = Notification.objects.get(user=resident_a, kind="mutual_aid.response")
    assert "李四" in told.title  # in the author's language (zh-Hans by default): who can help
    assert "mutual_aid.response.created" in actions(object_id=str(post.pk))


def test_who_may_respond(post, tree, resident_a, resident_a2, resident_b, resident_x):
    with pytest.raises(PermissionDenied):
        posts.respond(resident_a, post, household=tree.household_a1)  # own post
    with pytest.raises(PermissionDenied):
        posts.respond(resident_b, post, household=tree.household_b1)  # not reached yet
    with pytest.raises(PermissionDenied):
        posts.respond(resident_x, post, household=tree.household_x1)  # another community
    with pytest.raises(PermissionDenied):
        posts.respond(resident_a2, post, household=tree.household_b1)  # not their household
    posts.withdraw(resident_a, post)
    with pytest.raises(TransitionNotAllowed):
        posts.respond(resident_a2, post, household=tree.household_a2)
    assert not Response.objects.exists()


# --- the pick and the contact -----------------------------------------------------------------------------
def test_contact_is_shown_only_after_the_pick_and_only_to_the_two(
    post, tree, resident_a, resident_a2, entrance_leader_a
):
    other = resident("13700001010", "周邻", tree.household_a2)
    chosen = posts.respond(resident_a2, post, household=tree.household_a2)
    not_chosen = posts.respond(other, post, household=tree.household_a2)
    for user in (resident_a, resident_a2, other, entrance_leader_a):
        assert selectors.contact_for(user, post) is None  # before the pick: nobody
    handoff = posts.pick(resident_a, post, chosen, mode="door")
    post.refresh_from_db()
    assert post.state == S.MATCHED
    seen_by_author = selectors.contact_for(resident_a, post)
    assert seen_by_author["side"] == "helper" and seen_by_author["kind"] == "relay"
    assert seen_by_author["value"] == f"95013 转 {selectors.relay_extension(handoff, 'helper')}"
    assert seen_by_author["name"] == "李四"
    seen_by_helper = selectors.contact_for(resident_a2, post)
    assert seen_by_helper["side"] == "requester" and seen_by_helper["value"].startswith("95013 转 ")
    assert seen_by_helper["value"] != seen_by_author["value"]
    for value in (seen_by_author["value"], seen_by_helper["value"]):
        assert "1390000" not in value and "1380000" not in value  # never the real mobile
    assert (
        selectors.contact_for(other, post) is None and selectors.contact_for(entrance_leader_a, post) is None
    )
    not_chosen.refresh_from_db()
    assert not_chosen.state == ResponseState.NOT_CHOSEN
    assert Notification.objects.filter(user=resident_a2, kind="mutual_aid.chosen").exists()
    assert Notification.objects.filter(user=other, kind="mutual_aid.not_chosen").exists()
    assert not Notification.objects.filter(user=other, kind="mutual_aid.chosen").exists()

    posts.set_helper_contact(resident_a2, handoff, contact="door")
    assert selectors.contact_for(resident_a, post)["value"] == tree.household_a2.name  # 紫荆雅园1号楼1单元201
    with pytest.raises(PermissionDenied):
        posts.set_helper_contact(resident_a, handoff, contact="door")
    posts.set_requester_contact(resident_a, handoff, contact="door")
    assert selectors.contact_for(resident_a2, post)["value"] == tree.household_a1.name
    assert actions(object_id=str(post.pk))[-3:] == [
        "mutual_aid.post.picked",
        "mutual_aid.handoff.contact",
        "mutual_aid.handoff.contact",
    ]


def test_the_pick_checks_the_response_and_the_choices(post, tree, resident_a, resident_a2, resident_b):
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    with pytest.raises(ValidationError) as exc:
        posts.pick(resident_a, post, response, contact="phone", mode="drone")
    assert {"contact", "mode"} <= set(exc.value.message_dict)
    with pytest.raises(TransitionNotAllowed):
        posts.pick(resident_a2, post, response)  # only the author picks
    other = need(resident_a, tree.household_a1, text="借个梯子", category="lending")
    with pytest.raises(ValidationError) as exc:
        posts.pick(resident_a, other, response)  # a response to another post
    assert "response" in exc.value.message_dict
    assert not Handoff.objects.exists()


def test_done_with_thanks_then_leftovers_passed_on_make_a_chain(
    post, tree, resident_a, resident_a2, resident_b
):
    _response, handoff = matched(post, resident_a, resident_a2, tree.household_a2)
    posts.finish(resident_a, post, thanks="谢谢李阿姨！")
    post.refresh_from_db()
    handoff.refresh_from_db()
    assert post.state == S.DONE and post.done_at and handoff.done_at and handoff.thanks == "谢谢李阿姨！"
    assert Notification.objects.filter(user=resident_a2, kind="mutual_aid.thanks").exists()
    assert selectors.contact_for(resident_a, post) is not None  # still theirs after done

    leftover = posts.pass_on(resident_a, post, text="退烧药还剩半瓶，需要的邻居说一声")
    assert leftover.kind == "offer" and leftover.parent == post and leftover.household == tree.household_a1
    by_helper = posts.pass_on(resident_a2, post, text="我这还有退热贴", category="other")
    assert by_helper.household == tree.household_a2
    assert [p.pk for p in selectors.chain(leftover)] == [post.pk, leftover.pk, by_helper.pk]
    assert [p.pk for p in selectors.chain_for_user(resident_b, post)] == []  # nothing reached entrance B yet

    with pytest.raises(PermissionDenied):
        posts.pass_on(resident_b, post, text="不相干的人")
    with pytest.raises(TransitionNotAllowed):
        posts.pass_on(resident_a, leftover, text="还没人领")  # the offer is still open
    with pytest.raises(ValidationError):
        posts.pass_on(resident_a, post, text="还有阿莫西林")
    created = AuditEvent.objects.filter(action="mutual_aid.post.created", object_id=str(leftover.pk)).get()
    assert created.after["parent"] == post.pk


def test_withdrawing_tells_those_who_offered_help(post, tree, resident_a, resident_a2):
    posts.respond(resident_a2, post, household=tree.household_a2)
    posts.withdraw(resident_a, post, reason="已经买到了")
    post.refresh_from_db()
    assert post.state == S.WITHDRAWN
    assert Notification.objects.filter(user=resident_a2, kind="mutual_aid.withdrawn").exists()
    event = AuditEvent.objects.filter(action="mutual_aid.post.withdrawn").get()
    assert event.reason == "已经买到了" and event.actor == resident_a
    with pytest.raises(TransitionNotAllowed):
        posts.finish(resident_a, post)


# --- minors -----------------------------------------------------------------------------------------------
@pytest.fixture
def minor(tree):
    return resident("13700001020", "小明", tree.household_a2, birth_year=timezone.localdate().year - 15)


def test_a_minor_may_offer_help_but_meets_in_person_only_with_a_guardian(post, tree, resident_a, minor):
    response = posts.respond(minor, post, household=tree.household_a2)
    with pytest.raises(ValidationError) as exc:
        posts.pick(resident_a, post, response, mode="in_person")
    assert "guardian" in exc.value.message_dict and "under 18" in exc.value.message_dict["guardian"][0]
    post.refresh_from_db()
    assert post.state == S.OPEN and not Handoff.objects.exists()
    handoff = posts.pick(resident_a, post, response, mode="in_person", guardian="小明妈妈")
    assert handoff.guardian == "小明妈妈"


def test_a_minor_is_picked_for_the_door_without_a_guardian(post, tree, resident_a, minor):
    response = posts.respond(minor, post, household=tree.household_a2)
    assert posts.pick(resident_a, post, response, mode="door").mode == "door"


def test_a_minor_author_picks_in_person_only_with_a_guardian(tree, resident_a2, minor):
    p = need(minor, tree.household_a2, text="借一把雨伞", category="lending", kind="need")
    response = posts.respond(resident_a2, p, household=tree.household_a2)
    with pytest.raises(ValidationError) as exc:
        posts.pick(minor, p, response, mode="in_person")
    assert "You are under 18" in exc.value.message_dict["guardian"][0]
    posts.pick(minor, p, response, mode="deliver")


def test_the_adult_age_is_data(post, tree, resident_a, resident_a2):
    AidRules.objects.update(adult_age=60)  # 李四 (born 1980) counts as under age now
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    with pytest.raises(ValidationError):
        posts.pick(resident_a, post, response, mode="in_person")


# --- audit ------------------------------------------------------------------------------------------------
def test_every_write_leaves_its_audit_row_last(tree, entrance_leader_a, resident_a, resident_a2, post):
    def last_action():
        return AuditEvent.objects.order_by("-seq").values_list("action", "actor_id").first()

    assert last_action() == ("mutual_aid.post.created", resident_a.pk)
    posts.hide(entrance_leader_a, post, reason="核实中")
    assert last_action() == ("mutual_aid.post.hidden", entrance_leader_a.pk)
    posts.restore(entrance_leader_a, post)
    assert last_action() == ("mutual_aid.post.restored", entrance_leader_a.pk)
    response = posts.respond(resident_a2, post, household=tree.household_a2)
    assert last_action() == ("mutual_aid.response.created", resident_a2.pk)
    handoff = posts.pick(resident_a, post, response)
    assert last_action() == ("mutual_aid.post.picked", resident_a.pk)
    posts.set_helper_contact(resident_a2, handoff, contact="door")
    assert last_action() == ("mutual_aid.handoff.contact", resident_a2.pk)
    posts.record_contact_view(resident_a, post)
    assert last_action() == ("mutual_aid.contact.viewed", resident_a.pk)
    posts.finish(resident_a, post, thanks="谢谢")
    assert last_action() == ("mutual_aid.post.done", resident_a.pk)
    posts.subscribe(resident_a, active=True, reach=2, categories=[])
    assert last_action() == ("mutual_aid.subscription.changed", resident_a.pk)
    from linjialin.core import audit_labels  # the labels are registered, the contact view as personal

    assert audit_labels.label("mutual_aid.post.picked") == "helper chosen for a mutual aid post"
    assert set(posts.AUDIT_LABELS) <= audit_labels.known()
    assert "mutual_aid.contact.viewed" in audit_labels.personal()


def test_the_sweep_is_scheduled_every_minute_and_runs_as_a_task(tree, resident_a):
    from linjialin.core import beat
    from linjialin.mutual_aid.tasks import sweep_mutual_aid

    assert beat.JOBS["mutual_aid_sweep"].cron == "* * * * *"
    assert beat.JOBS["mutual_aid_sweep"].task is sweep_mutual_aid
    with time_machine.travel(T0, tick=False):
        p = need(resident_a, tree.household_a1)
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert sweep_mutual_aid.call() == {"widened": 1, "expired": 0}
    p.refresh_from_db()
    assert p.reach == Reach.BUILDING
