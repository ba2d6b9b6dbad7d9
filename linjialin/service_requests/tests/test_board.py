"""The entrance board (楼门公告): only consented, solved items around the entrance; anonymised (no
names, phone or ID numbers, rooms); residents of the entrance and staff covering it see it, anyone else
gets 404; capped to the most recent N (PageRules.board_items)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.service_requests.board_views import anonymise
from linjialin.service_requests.models import Category, PageRules, Satisfaction, State

from .test_metrics import D, H, T, make

HONORIFICS = PageRules().board_honorifics.splitlines()
SECRET_BITS = ("张三", "13800000001", "502", "11010519491231002X", "李")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def solved(place, result, *, consent=True, state=State.CLOSED, at=T, **fields):
    return make(
        place,
        submitted_at=at,
        state=state,
        board_consent=consent,
        accepted_at=at + H,
        resolved_at=at + 2 * D + 3 * H,
        result=result,
        **fields,
    )


@pytest.fixture
def items(tree, resident_a):
    light = Category.objects.create(code="light-test", name_zh="楼道照明", name_en="stairwell lights")
    return {
        "entrance": solved(
            tree.entrance_a,
            "已联系张三（电话13800000001），3单元502门口的灯已更换，李师傅处理",
            requester=resident_a,
            contact_name="张三",
            satisfaction=Satisfaction.SATISFIED,
            category=light,
        ),
        "household": solved(tree.household_a1, "水管已修好，住户502室确认", at=T + D),
        "no_consent": solved(tree.entrance_a, "NOCONSENT", consent=False),
        "open": make(tree.entrance_a, state=State.ACCEPTED, board_consent=True, result="OPEN"),
        "called_back": solved(
            tree.entrance_a, "CALLEDBACK", state=State.CALLED_BACK, satisfaction=Satisfaction.UNSATISFIED
        ),
        "other_entrance": solved(tree.entrance_b, "OTHERENTRANCE"),
        "my_building": solved(tree.grid_1, "MYBUILDING", description="【1号楼】楼顶漏水"),
        "other_building": solved(tree.grid_1, "OTHERBUILDING", description="【9号楼】楼顶漏水"),
        "whole_grid": solved(tree.grid_1, "WHOLEGRID", description="网格里的路灯坏了"),
        "community": solved(tree.community_1, "COMMUNITY"),
        "other_community": solved(tree.community_2, "OTHERCOMMUNITY"),
        "subdistrict": solved(tree.subdistrict, "SUBDISTRICT"),
    }


def board_url(entrance):
    return reverse("requests:board_entrance", args=[entrance.pk])


def test_resident_sees_only_consented_solved_items_around_their_entrance(items, tree, resident_a, login):
    response = login(resident_a).get(board_url(tree.entrance_a))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("CALLEDBACK", "MYBUILDING", "WHOLEGRID", "COMMUNITY", "水管已修好"):
        assert shown in html
    for hidden in ("NOCONSENT", "OPEN", "OTHERENTRANCE", "OTHERBUILDING", "OTHERCOMMUNITY", "SUBDISTRICT"):
        assert hidden not in html
    shown = [item["pk"] for item in response.context["items"]]
    assert items["entrance"].pk in shown and items["household"].pk in shown
    # the problem in short, without the grid-level request's building tag
    problems = {item["pk"]: item["problem"] for item in response.context["items"]}
    assert problems[items["my_building"].pk] == "楼顶漏水" and "【1号楼】" not in html
    where = {item["pk"]: str(item["where"]) for item in response.context["items"]}
    assert where[items["household"].pk] == "this entrance"  # never the household
    assert where[items["my_building"].pk] == "this building"
    assert where[items["whole_grid"].pk] == "this grid"
    assert where[items["community"].pk] == "this community"


def test_the_board_is_anonymised(items, tree, resident_a, login):
    response = login(resident_a).get(board_url(tree.entrance_a))
    html = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]  # the nav names the user
    for bit in SECRET_BITS:
        assert bit not in html, bit
    assert resident_a.mobile not in html and tree.household_a1.name not in html
    item = next(i for i in response.context["items"] if i["pk"] == items["entrance"].pk)
    assert item["result"] == "已联系**（电话**），**门口的灯已更换，*师傅处理"
    assert (item["category"], str(item["type"]), item["took"]) == (
        "Stairwell lights",
        "request for help (求助)",
        "2 days 3 hours",
    )
    assert str(item["satisfaction"]) == "satisfied (满意)"


def test_the_board_shows_the_problem_anonymised_and_in_short(tree, resident_a, login):
    long = "3单元502的张三家门口楼道灯坏了，电话13800000001，" + "晚上很黑老人下楼不方便" * 10
    item = solved(tree.entrance_a, "已更换灯泡", description=long, contact_name="张三")
    [shown] = login(resident_a).get(board_url(tree.entrance_a)).context["items"]
    assert shown["pk"] == item.pk
    assert shown["problem"].startswith("**的**家门口楼道灯坏了，电话**，晚上很黑")
    assert len(shown["problem"]) == 80 and shown["problem"].endswith("…")
    for bit in ("张三", "502", "13800000001"):
        assert bit not in shown["problem"]


def test_the_board_title_and_category_are_in_the_viewers_language(items, tree, resident_a, login):
    client = login(resident_a)
    with translation.override("zh-hans"):
        response = client.get(board_url(tree.entrance_a))
    page = response.content.decode()
    assert "<h1 class=\"h2 mb-1\">楼门公告</h1>" in page and "Entrance board" not in page
    assert "楼道照明" in [i["category"] for i in response.context["items"]]
    response = client.get(board_url(tree.entrance_a))  # English (this module's default)
    assert "<h1 class=\"h2 mb-1\">Entrance board</h1>" in response.content.decode()
    assert "楼门公告" not in response.content.decode().split("<main", 1)[1]
    assert "Stairwell lights" in [i["category"] for i in response.context["items"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3单元502漏水", "**漏水"),
        ("502室", "**"),
        ("住3号楼2单元1203的居民", "住**的居民"),
        ("5-2-502 已修", "** 已修"),
        ("电话 138 0013 8000", "电话 **"),
        ("手机＋86 13900000002", "手机**"),
        ("身份证110105194912310021", "身份证**"),
        ("座机010-67891234", "座机**"),
        ("５０２的住户", "**的住户"),
        ("三单元五零二", "**"),
        ("张阿姨家门口", "*阿姨家门口"),
        ("物业的师傅已处理", "物业的师傅已处理"),
        ("王五说老王家没事", "**说老*家没事"),
        (
            "2026年11月10日 10:30 已修好，换了2个灯泡，用时3天",
            "2026年11月10日 10:30 已修好，换了2个灯泡，用时3天",
        ),
        ("更换3单元502楼道灯泡", "更换**楼道灯泡"),
    ],
)
def test_anonymise_removes_the_patterns(text, expected):
    assert anonymise(text, names=["王五"], honorifics=HONORIFICS) == expected


def test_other_entrances_resident_and_outsider_get_404(items, tree, resident_b, outsider, login):
    assert login(resident_b).get(board_url(tree.entrance_a)).status_code == 404
    assert login(outsider).get(board_url(tree.entrance_a)).status_code == 404
    assert login(resident_b).get(board_url(tree.entrance_b)).status_code == 200


def test_staff_covering_the_entrance_see_it(
    items, tree, entrance_leader_a, grid_worker, community_secretary, login
):
    for user in (entrance_leader_a, grid_worker, community_secretary):
        assert login(user).get(board_url(tree.entrance_a)).status_code == 200
    assert login(entrance_leader_a).get(board_url(tree.entrance_b)).status_code == 404


def test_not_an_entrance_or_missing_is_404(items, tree, grid_worker, login):
    client = login(grid_worker)
    assert client.get(board_url(tree.household_a1)).status_code == 404
    assert client.get(board_url(tree.grid_1)).status_code == 404
    assert client.get(reverse("requests:board_entrance", args=[999999])).status_code == 404


def test_anonymous_goes_to_login(tree, client):
    for url in (board_url(tree.entrance_a), reverse("requests:board")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_capped_to_the_most_recent_n_as_data(items, tree, resident_a, login):
    PageRules.objects.create(board_items=2)
    response = login(resident_a).get(board_url(tree.entrance_a))
    shown = [item["pk"] for item in response.context["items"]]
    assert len(shown) == 2
    assert shown[0] == items["household"].pk  # resolved last


def test_my_board_goes_to_the_resident_entrance_and_lists_for_staff(
    items, tree, resident_a, entrance_leader_a, grid_worker, admin, login
):
    url = reverse("requests:board")
    assert login(resident_a).get(url)["Location"] == board_url(tree.entrance_a)
    assert login(entrance_leader_a).get(url)["Location"] == board_url(tree.entrance_a)
    response = login(grid_worker).get(url)
    assert response.status_code == 200
    assert [e.pk for e in response.context["page"]] == [tree.entrance_a.pk, tree.entrance_b.pk]


def test_a_floor_leader_goes_to_the_board_of_their_entrance(tree, login):
    from linjialin.testing.plugin import make_user

    floor_leader = make_user("13900000098", "层长", "floor_leader", tree.entrance_a, floor=1)
    client = login(floor_leader)
    assert client.get(reverse("requests:board"))["Location"] == board_url(tree.entrance_a)
    assert client.get(board_url(tree.entrance_a)).status_code == 200
    assert client.get(board_url(tree.entrance_b)).status_code == 404


def test_nobody_board_is_404(tree, login):
    from linjialin.testing.plugin import make_user

    assert login(make_user("13900000099", "无角色")).get(reverse("requests:board")).status_code == 404


def test_links_from_my_requests_and_the_queue(tree, resident_a, entrance_leader_a, login):
    board = reverse("requests:board")
    assert f'href="{board}"' in login(resident_a).get(reverse("requests:mine")).content.decode()
    assert f'href="{board}"' in login(entrance_leader_a).get(reverse("requests:queue")).content.decode()


def test_board_query_count_does_not_grow_with_items(
    items, tree, resident_a, login, django_assert_max_num_queries
):
    client = login(resident_a)
    client.get(board_url(tree.entrance_a))  # warm the session
    with django_assert_max_num_queries(12):
        first = client.get(board_url(tree.entrance_a))
    for n in range(10):
        solved(tree.entrance_a, f"MORE {n}", requester=resident_a)
    with django_assert_max_num_queries(12):
        more = client.get(board_url(tree.entrance_a))
    assert len(more.context["items"]) == len(first.context["items"]) + 10
