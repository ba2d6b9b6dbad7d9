"""The mutual aid pages (issue 6 §1–§4): who may open which page (anonymous → login, outside → 404 on a
post, no right → 403), the open page (in reach only, urgent first, the care highlight only for the
楼门长 / 网格员, the live feed's container, query count), the card fragment, the links on the home page
and the nav, posting (happy path, bad input writes nothing, the photo checks, the medicine notice and the
blocked-drug message, a 楼门长 posting for a household of their entrance)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy

from linjialin.mutual_aid.models import Post, Reach, Urgency

from .pages_support import english_and_media, make_neighbour, make_nobody, make_post, png, widen_to

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_media(settings, tmp_path):
    with english_and_media(settings, tmp_path):
        yield


@pytest.fixture
def neighbour(tree):
    return make_neighbour(tree)


@pytest.fixture
def nobody(tree):
    return make_nobody()


OPEN = reverse_lazy("mutual_aid:open")
NEW = reverse_lazy("mutual_aid:new")


def post_url(post, name="post"):
    return reverse(f"mutual_aid:{name}", args=[post.pk])


# --- permissions ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["open", "new", "mine", "settings", "moderation"], ids=lambda n: f"anonymous-{n}"
)
def test_anonymous_is_sent_to_login(client, tree, name):
    response = client.get(reverse(f"mutual_aid:{name}"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_anonymous_is_sent_to_login_from_a_post(client, resident_a, tree):
    post = make_post(resident_a, tree.household_a1)
    for name in ("post", "post_card", "post_photo"):
        response = client.get(post_url(post, name))
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("name", ["open", "new", "mine", "settings", "moderation"])
def test_a_user_without_a_role_gets_403(login, nobody, name):
    assert login(nobody).get(reverse(f"mutual_aid:{name}")).status_code == 403


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("resident_a", {"open": 200, "new": 200, "mine": 200, "settings": 200, "moderation": 403}),
        ("entrance_leader_a", {"open": 200, "new": 200, "mine": 200, "settings": 200, "moderation": 200}),
        ("grid_worker", {"open": 200, "new": 200, "mine": 200, "settings": 200, "moderation": 200}),
        # community staff moderate, but post for nobody
        ("community_worker", {"open": 200, "new": 403, "mine": 200, "settings": 403, "moderation": 200}),
        ("outsider", {"open": 200, "new": 403, "mine": 200, "settings": 403, "moderation": 200}),
        (
            "subdistrict_dispatcher",
            {"open": 403, "new": 403, "mine": 403, "settings": 403, "moderation": 403},
        ),
    ],
)
def test_page_permission_matrix(request, login, persona, expected):
    client = login(request.getfixturevalue(persona))
    got = {name: client.get(reverse(f"mutual_aid:{name}")).status_code for name in expected}
    assert got == expected


def test_a_post_is_404_outside_its_reach_and_for_an_outsider(
    login,
    resident_a,
    resident_b,
    neighbour,
    outsider,
    tree,
):
    post = make_post(resident_a, tree.household_a1)
    assert login(neighbour).get(post_url(post)).status_code == 200  # same entrance
    for name in ("post", "post_card"):
        assert login(resident_b).get(post_url(post, name)).status_code == 404  # other entrance, not yet
        assert login(outsider).get(post_url(post, name)).status_code == 404  # other community
    widen_to(post, Reach.BUILDING)
    assert login(resident_b).get(post_url(post)).status_code == 200
    assert login(outsider).get(post_url(post)).status_code == 404
    assert login(resident_a).get(reverse("mutual_aid:post", args=[post.pk + 999])).status_code == 404


def test_an_action_on_a_post_out_of_sight_is_404(login, resident_a, resident_b, tree):
    post = make_post(resident_a, tree.household_a1)
    response = login(resident_b).post(reverse("mutual_aid:post_act", args=[post.pk, "respond"]), {})
    assert response.status_code == 404
    assert not post.responses.exists()


def test_an_unknown_action_is_404_and_a_get_goes_back_to_the_post(login, resident_a, tree):
    post = make_post(resident_a, tree.household_a1)
    client = login(resident_a)
    assert client.post(reverse("mutual_aid:post_act", args=[post.pk, "explode"]), {}).status_code == 404
    response = client.get(reverse("mutual_aid:post_act", args=[post.pk, "withdraw"]))
    assert response.status_code == 302 and response["Location"] == post_url(post)
    post.refresh_from_db()
    assert post.state == "open"


# --- the open page ------------------------------------------------------------------------------------------
def test_the_open_page_lists_posts_in_reach_urgent_first_with_the_feed_container(
    login,
    resident_a,
    neighbour,
    resident_b,
    tree,
):
    normal = make_post(resident_a, tree.household_a1, text="借一把梯子")
    urgent = make_post(resident_a, tree.household_a1, text="孩子发烧，急需退烧贴", urgency=Urgency.URGENT)
    elsewhere = make_post(resident_b, tree.household_b1, text="二单元的求助")
    page = login(neighbour).get(OPEN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "借一把梯子" in html and "孩子发烧" in html
    assert "二单元的求助" not in html  # entrance B, not widened
    assert html.index(f'id="post-{urgent.pk}"') < html.index(f'id="post-{normal.pk}"')
    assert 'id="aid-feed"' in html
    assert f'data-stream-url="{reverse("mutual_aid:stream")}"' in html
    assert f'data-card-url="{reverse("mutual_aid:post_card", args=[0])}"' in html
    assert "mutual_aid/live.js" in html
    assert "I need help" in html and "I can offer" in html
    assert f'href="{NEW}?kind=need"' in html
    assert elsewhere.pk


def test_the_open_page_shows_nothing_of_another_community(login, resident_a, outsider, tree):
    make_post(resident_a, tree.household_a1, text="社区一的求助")
    html = login(outsider).get(OPEN).content.decode()
    assert "社区一的求助" not in html
    assert "Nothing open near you" in html


def test_a_care_list_need_is_highlighted_for_the_entrance_leader_only(
    login,
    resident_a,
    neighbour,
    entrance_leader_a,
    grid_worker,
    tree,
):
    post = make_post(resident_a, tree.household_a1, text="独居老人需要买药")
    Post.objects.filter(pk=post.pk).update(care=True)
    other = make_post(resident_a, tree.household_a1, text="普通的求助")
    leader_html = login(entrance_leader_a).get(OPEN).content.decode()
    assert "Care list household" in leader_html
    assert leader_html.index(f'id="post-{post.pk}"') < leader_html.index(f'id="post-{other.pk}"')
    assert "Care list household" in login(grid_worker).get(OPEN).content.decode()
    neighbour_html = login(neighbour).get(OPEN).content.decode()
    assert "独居老人需要买药" in neighbour_html
    assert "Care list household" not in neighbour_html  # the care list is sensitive
    assert "Care list household" in login(entrance_leader_a).get(post_url(post)).content.decode()
    assert "Care list household" not in login(neighbour).get(post_url(post)).content.decode()


def test_the_card_fragment_is_one_card(login, resident_a, neighbour, tree):
    post = make_post(resident_a, tree.household_a1, text="可以借轮椅", kind="offer", category="lending")
    response = login(neighbour).get(post_url(post, "post_card"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<article") and "<html" not in html
    assert f'id="post-{post.pk}"' in html and "可以借轮椅" in html
    assert post_url(post) in html


def test_the_open_page_query_count_does_not_grow_with_the_posts(
    login,
    resident_a,
    neighbour,
    entrance_leader_a,
    tree,
):
    client = login(entrance_leader_a)
    Post.objects.all().delete()
    for i in range(3):
        make_post(neighbour, tree.household_a2, text=f"求助{i}")
    client.get(OPEN)
    with CaptureQueriesContext(connection) as few:
        assert client.get(OPEN).status_code == 200
    for i in range(3):
        make_post(resident_a, tree.household_a1, text=f"再一个求助{i}")
    Post.objects.update(care=True)
    with CaptureQueriesContext(connection) as many:
        assert client.get(OPEN).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 12


def test_the_home_card_and_the_nav_link_to_the_open_page(login, resident_a, community_worker, nobody):
    html = login(resident_a).get(reverse("home")).content.decode()
    assert html.count(f'href="{OPEN}"') >= 2  # the resident card and the nav
    assert "Neighbours helping neighbours" in html
    assert f'href="{OPEN}"' in login(community_worker).get(reverse("home")).content.decode()  # nav
    assert f'href="{OPEN}"' not in login(nobody).get(reverse("home")).content.decode()


# --- posting ------------------------------------------------------------------------------------------------
def form_data(**kw):
    data = {
        "kind": "need",
        "category": "errands",
        "text": "帮忙取个快递，放门口就行",
        "urgency": "normal",
        "max_reach": str(Reach.BUILDING),
        "expires_in_hours": "24",
        "client_token": "tok-1",
    }
    data.update(kw)
    return data


def test_posting_a_need(login, resident_a, tree):
    client = login(resident_a)
    page = client.get(f"{NEW}?kind=offer")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="offer" class="form-check-input" id="id_kind_1" checked' in html or 'value="offer"' in html
    assert 'name="household"' in html and 'type="hidden"' in html  # one household: no picker
    response = client.post(NEW, form_data(household=tree.household_a1.pk))
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == post_url(post)
    assert (post.kind, post.category, post.max_reach, post.household) == (
        "need",
        "errands",
        Reach.BUILDING,
        tree.household_a1,
    )
    assert post.author == resident_a and post.reach == Reach.ENTRANCE
    assert 23 <= (post.expires_at - post.created_at).total_seconds() / 3600 <= 24.01
    # the same tap again (client_token): still one post
    client.post(NEW, form_data(household=tree.household_a1.pk))
    assert Post.objects.count() == 1


def test_posting_with_a_photo_stores_it_and_shows_it_to_those_who_see_the_post(
    login,
    resident_a,
    neighbour,
    outsider,
    tree,
):
    client = login(resident_a)
    response = client.post(NEW, {**form_data(household=tree.household_a1.pk), "photo": png()})
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.photo
    assert post_url(post, "post_photo") in client.get(post_url(post)).content.decode()
    photo = login(neighbour).get(post_url(post, "post_photo"))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert login(outsider).get(post_url(post, "post_photo")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"text": ""}, "text", "Write a few words"),
        ({"text": "长" * 501}, "text", "at most 500"),
        ({"kind": "gift"}, "kind", "not one of the available choices"),
        ({"category": ""}, "category", "Choose what it is about"),
        ({"max_reach": "9"}, "max_reach", "not one of the available choices"),
        ({"expires_in_hours": "5000"}, "expires_in_hours", "not one of the available choices"),
    ],
)
def test_bad_input_on_the_post_form_writes_nothing(login, resident_a, tree, change, field, message):
    response = login(resident_a).post(NEW, form_data(household=tree.household_a1.pk, **change))
    assert response.status_code == 422
    assert message.lower() in response.content.decode().lower()
    assert f'id="id_{field}' in response.content.decode()
    assert not Post.objects.exists()


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_written(login, resident_a, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = login(resident_a).post(NEW, {**form_data(household=tree.household_a1.pk), "photo": fake})
    assert response.status_code == 422
    assert "is not a JPEG, PNG or WebP photo" in response.content.decode()
    assert not Post.objects.exists()


def test_the_medicine_notice_is_on_the_form_and_on_a_medicine_post(login, resident_a, neighbour, tree):
    html = login(resident_a).get(NEW).content.decode()
    assert "neighbours give no medical advice" in html
    assert "Medicines that need a prescription, and injections, cannot be passed on here" in html
    post = make_post(resident_a, tree.household_a1, category="medicine", text="家里有没用完的布洛芬，可以给")
    assert "neighbours give no medical advice" in login(neighbour).get(post_url(post)).content.decode()
    plain = make_post(resident_a, tree.household_a1, category="lending", text="借梯子")
    assert "neighbours give no medical advice" not in login(neighbour).get(post_url(plain)).content.decode()


def test_a_blocked_medicine_is_refused_with_the_reason_under_the_field(login, resident_a, tree):
    response = login(resident_a).post(
        NEW, form_data(household=tree.household_a1.pk, category="medicine", text="谁家有头孢？孩子发烧")
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "needs a doctor&#x27;s prescription, so it cannot be passed between neighbours" in html
    assert "头孢" in html
    assert 'id="id_text-error"' in html or "id_text" in html
    assert not Post.objects.exists()


def test_an_entrance_leader_posts_for_a_household_of_their_entrance_only(login, entrance_leader_a, tree):
    client = login(entrance_leader_a)
    html = client.get(NEW).content.decode()
    assert 'name="household_q"' in html  # the household picker: a search, not a list of households
    search = reverse("places:household_search")
    found = client.get(search, {"for": "aid", "household_q": "紫荆雅园"}).content.decode()
    assert f'value="{tree.household_a1.pk}"' in found and f'value="{tree.household_a2.pk}"' in found
    assert f'value="{tree.household_b1.pk}"' not in found  # entrance B: not theirs
    assert "For which household?" in html
    response = client.post(NEW, form_data(household=tree.household_a2.pk))
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.household == tree.household_a2 and post.author == entrance_leader_a
    response = client.post(NEW, form_data(household=tree.household_b1.pk, client_token="tok-2"))  # noqa: S106
    assert response.status_code == 422
    assert Post.objects.count() == 1
