"""The permission matrix of issue 2: every page and API endpoint × every persona → expected answer.

The rules (DESIGN.md §3, §7):
- anonymous → redirect to the login page (pages) / 401 (API);
- an object outside the persona's scope → 404 (missing and forbidden look the same);
- visible but the action is not allowed → 403;
- allowed → 200 (or a redirect for a successful POST / a one-place browser).

Each column below is one persona, in the order of PERSONAS; "L" means "redirect to login".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from linjialin.accounts.services import grant_role

PERSONAS = (
    "resident_a", "resident_b", "entrance_leader_a", "grid_worker", "community_worker", "outsider",
    "subdistrict_staff", "auditor", "admin",
)


@dataclass(frozen=True)
class Target:
    id: str
    url: Callable  # (ctx) -> url
    expect: str  # one code per persona, in PERSONAS order
    method: str = "get"
    data: dict | None = None
    api: bool = False

    def expected(self, persona: str) -> str:
        if persona == "anonymous":
            return "401" if self.api else "L"
        return self.expect.split()[PERSONAS.index(persona)]


def page(name, *args):
    return lambda ctx: reverse(name, args=[a(ctx) if callable(a) else a for a in args])


def place(attr):
    return lambda ctx: getattr(ctx.tree, attr).pk


def api(template, attr=None):
    return lambda ctx: "/api/v1/" + (template.format(getattr(ctx.tree, attr).pk) if attr else template)


#                       res_a res_b lead  grid  cw    out   staff audit admin
TARGETS = [
    Target("home", page("home"), "200 200 200 200 200 200 200 200 200"),
    # every persona has exactly one top place, so the browser goes straight to it
    Target("browse", page("places:browse"), "302 302 302 302 302 302 302 302 302"),
    Target("detail-subdistrict", page("places:detail", place("subdistrict")),
           "404 404 404 404 404 404 200 200 200"),
    Target("detail-community-1", page("places:detail", place("community_1")),
           "404 404 404 404 200 404 200 200 200"),
    Target("detail-community-2", page("places:detail", place("community_2")),
           "404 404 404 404 404 200 200 200 200"),
    Target("detail-grid-1", page("places:detail", place("grid_1")),
           "404 404 404 200 200 404 200 200 200"),
    Target("detail-entrance-a", page("places:detail", place("entrance_a")),
           "404 404 200 200 200 404 200 200 200"),
    Target("detail-household-a1", page("places:detail", place("household_a1")),
           "200 404 200 200 200 404 200 403 200"),
    Target("detail-household-b1", page("places:detail", place("household_b1")),
           "404 200 404 200 200 404 200 403 200"),
    Target("profile-edit-entrance-a", page("places:profile_edit", place("entrance_a")),
           "404 404 200 200 200 404 403 403 200"),
    Target("unmask-resident-a1", page("places:unmask", place("resident_a1")),
           "403 404 200 200 200 404 403 404 200", method="post", data={"reason": "home visit"}),
    Target("resident-tags-a1", page("places:resident_tags", place("resident_a1")),
           "403 404 302 302 302 404 403 404 302", method="post", data={"action": "add", "tag": "volunteer"}),
    Target("import", page("places:import"), "403 403 403 403 200 200 403 403 200"),
    Target("import-template", page("places:import_template", "xlsx"), "403 403 403 403 200 200 403 403 200"),
    Target("export-community-1", page("places:export", place("community_1"), "xlsx"),
           "404 404 404 404 200 404 200 403 200"),
    Target("export-entrance-a", page("places:export", place("entrance_a"), "csv"),
           "404 404 403 403 200 404 200 403 200"),
    Target("coverage", page("accounts:coverage"), "403 403 403 403 200 200 200 403 200"),
    Target("coverage-community-1", page("accounts:coverage_community", place("community_1")),
           "404 404 404 404 200 404 200 403 200"),
    Target("coverage-entrance-a", page("accounts:coverage_community", place("entrance_a")),
           "404 404 403 403 200 404 200 403 200"),
    Target("coverage-assign-entrance-a", page("accounts:coverage_assign", place("entrance_a")),
           "404 404 403 403 302 404 302 403 302", method="post",
           data={"role": "entrance_leader", "mobile": "13700000099", "name": "新楼门长"}),
    Target("coverage-end", lambda ctx: reverse("accounts:coverage_end", args=[ctx.leader_grant.pk]),
           "404 404 403 403 302 404 302 403 302", method="post", data={"reason": "moved away"}),
    Target("callbacks", page("requests:callbacks"), "403 403 403 403 200 200 403 403 200"),
    Target("audit-list", page("audit:list"), "403 403 403 403 403 403 403 200 200"),
    # --- API --------------------------------------------------------------------------------------
    Target("api-me", api("me"), "200 200 200 200 200 200 200 200 200", api=True),
    Target("api-place-subdistrict", api("places/{}", "subdistrict"),
           "404 404 404 404 404 404 200 200 200", api=True),
    Target("api-place-community-1", api("places/{}", "community_1"),
           "404 404 404 404 200 404 200 200 200", api=True),
    Target("api-place-household-a1", api("places/{}", "household_a1"),
           "200 404 200 200 200 404 200 200 200", api=True),
    Target("api-children-community-1", api("places/{}/children", "community_1"),
           "404 404 404 404 200 404 200 200 200", api=True),
    Target("api-children-grid-2", api("places/{}/children", "grid_2"),
           "404 404 404 404 404 200 200 200 200", api=True),
    Target("api-profile-entrance-a", api("places/{}/profile", "entrance_a"),
           "404 404 200 200 200 404 200 200 200", api=True),
    Target("api-residents-household-a1", api("places/{}/residents", "household_a1"),
           "200 404 200 200 200 404 200 403 200", api=True),
    Target("api-residents-household-b1", api("places/{}/residents", "household_b1"),
           "404 200 404 200 200 404 200 403 200", api=True),
    Target("api-unmask-resident-a1", api("residents/{}/unmask", "resident_a1"),
           "403 404 200 200 200 404 403 404 200", method="post", data={"reason": "home visit"}, api=True),
    Target("api-coverage-community-1", api("coverage/{}", "community_1"),
           "404 404 404 404 200 404 200 403 200", api=True),
    Target("api-audit-events", api("audit/events"), "403 403 403 403 403 403 403 200 200", api=True),
]

CASES = [(t, p) for t in TARGETS for p in ("anonymous", *PERSONAS)]


@dataclass
class Ctx:
    tree: object
    leader_grant: object = None


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # personas are created per case; a cheap hasher keeps 340 cases quick (login is tested elsewhere)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(("target", "persona"), CASES, ids=[f"{t.id}-{p}" for t, p in CASES])
def test_permission_matrix(target: Target, persona: str, tree, client, request):
    ctx = Ctx(tree)
    if target.id == "coverage-end":
        # a current 楼门长 of entrance A (another person than the persona under test)
        from linjialin.testing.plugin import make_user

        holder = make_user("13700000001", "在任楼门长")
        ctx.leader_grant = grant_role(
            None, user=holder, role="entrance_leader", place=tree.entrance_a, check=False
        )
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = target.url(ctx)
    if target.method == "post":
        kwargs = {"content_type": "application/json"} if target.api else {}
        response = client.post(url, target.data or {}, **kwargs)
    else:
        response = client.get(url)

    expected = target.expected(persona)
    location = response.headers.get("Location", "")
    login_url = reverse("accounts:login")
    if expected == "L":
        assert response.status_code == 302, response.status_code
        assert location.startswith(login_url), location
    elif expected == "302":
        assert response.status_code == 302, response.status_code
        assert not location.startswith(login_url), location
    else:
        assert response.status_code == int(expected), (response.status_code, response.content[:300])
    if target.api:
        assert response["Content-Type"].startswith("application/json")


# --- query counts on list pages stay flat as the tree grows ---------------------------------------
# Measured: 17 queries for the subdistrict page and 11 for the children endpoint, on the small and
# the grown tree alike (session, user, grants, place, counts grouped by child prefix, and the first
# request's session write of the idle-timeout stamp).
# One query per child (N+1) would overshoot the cap on the grown tree's 6 communities.
MAX_DETAIL_QUERIES = 20
MAX_CHILDREN_QUERIES = 12

def _grow(tree, communities=4, entrances=3, households=2):
    """More communities, grids, entrances and households under the subdistrict (through new_place)."""
    from linjialin.places.models import Level, Resident
    from linjialin.places.services import new_place

    for c in range(communities):
        community = new_place(tree.subdistrict, level=Level.COMMUNITY, code=str(10 + c), name=f"社区{10 + c}")
        community.save()
        grid = new_place(community, level=Level.GRID, code="1", name="网格")
        grid.save()
        for e in range(entrances):
            entrance = new_place(grid, level=Level.ENTRANCE, code=str(e + 1), name=f"楼门{e + 1}")
            entrance.save()
            for h in range(households):
                household = new_place(entrance, level=Level.HOUSEHOLD, code=str(h + 1), name=f"{h + 1}01")
                household.save()
                Resident.objects.create(household=household, path=household.path, name=f"居民{c}{e}{h}")


@pytest.mark.parametrize("grow", [False, True], ids=["small-tree", "grown-tree"])
def test_subdistrict_detail_page_query_count_is_capped(grow, tree, subdistrict_staff, login,
                                                       django_assert_max_num_queries):
    if grow:
        _grow(tree)
    client = login(subdistrict_staff)
    with django_assert_max_num_queries(MAX_DETAIL_QUERIES):
        response = client.get(reverse("places:detail", args=[tree.subdistrict.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("社区") >= (6 if grow else 2)


@pytest.mark.parametrize("grow", [False, True], ids=["small-tree", "grown-tree"])
def test_children_endpoint_query_count_is_capped(grow, tree, subdistrict_staff, login,
                                                 django_assert_max_num_queries):
    if grow:
        _grow(tree)
    client = login(subdistrict_staff)
    with django_assert_max_num_queries(MAX_CHILDREN_QUERIES):
        response = client.get(f"/api/v1/places/{tree.subdistrict.pk}/children")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == (6 if grow else 2)
    assert sum(r["households"] for r in rows) == 4 + (24 if grow else 0)
    assert sum(r["entrances"] for r in rows) == 3 + (12 if grow else 0)
