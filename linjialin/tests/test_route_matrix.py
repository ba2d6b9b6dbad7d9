"""The permission matrix of every page route, generated from the URL configuration and the personas.

Every named page route (linjialin/testing/routes.py: page_routes — all but the Django admin, the JSON
API with its own matrix in test_permission_matrix.py, the language switch and the JavaScript catalogue)
must have a row in ROWS, or test_every_route_has_a_row fails: a new page cannot ship without saying who
may open it. For each row (DESIGN.md §3, §7):

- anonymous → a redirect to the login page (the few public pages say what they answer instead);
- `ok`, a persona with the permission, on objects inside its scope → `code` (200, or what the page
  answers when it has nothing to show yet: a redirect, a 422 form error). A POST-only route answers
  405 to a GET, and its POST with an empty form gives a form error or a message — never 403, 404 or 500;
- the same persona on the same kind of objects in another community → 404 (missing and forbidden look
  the same), when the route names an object and the persona's scope is one community;
- `forbidden`, a persona that sees the object but lacks the permission → 403.

A route's URL arguments are filled from the world (build_world): the object each argument names
(routes.OBJECT_OF, or the row's `objects`) inside community 1 and outside it; other arguments (a format,
an action's name) come from the row's `args`. The world is built once for the module; every test runs
in its own transaction inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from linjialin.testing.routes import build_world, object_for, page_routes


@dataclass(frozen=True)
class Row:
    ok: str | None  # a persona with the permission; None: the route's success needs state a
    # fixture cannot cheaply give (the row's `why` names the test that covers it)
    forbidden: str | None = None  # in scope, without the permission → 403
    code: int = 200  # what `ok` gets (GET); for a POST-only route see `post`
    post: bool = False  # POST-only: GET → 405, the empty POST → a form error, never 403/404/500
    args: dict = field(default_factory=dict)  # non-object URL arguments
    objects: dict = field(default_factory=dict)  # argument → object name, overriding routes.OBJECT_OF
    query: dict = field(default_factory=dict)  # GET parameters
    outside: bool = True  # `ok` gets 404 for the objects outside its scope (when the route names one)
    anonymous: str = "login"  # "login", or the status a public page answers
    why: str = ""  # the reason for anything unusual


L = "login"
ROWS: dict[str, Row] = {
    # --- public ------------------------------------------------------------------------------------
    "healthz": Row(None, anonymous="200", why="the load balancer's probe: public by design"),
    "accounts:login": Row("resident_a", code=302, anonymous="200", why="signed in already: sent home"),
    "accounts:logout": Row(None, anonymous="405", why="POST only; signs out whoever asks"),
    "accounts:language": Row("resident_a", post=True, why="everyone chooses their own language"),
    # --- accounts, audit, home ------------------------------------------------------------------------
    "home": Row("resident_a"),
    "accounts:coverage": Row("community_worker", forbidden="grid_worker"),
    "accounts:coverage_community": Row("community_worker", forbidden="auditor"),
    "accounts:coverage_assign": Row(
        "community_worker", forbidden="grid_worker", post=True, objects={"place_id": "entrance"}
    ),
    "accounts:coverage_end": Row("community_worker", forbidden="grid_worker", post=True),
    "accounts:account": Row("resident_a", why="everyone's own account: no object, no 403"),
    "accounts:password_change": Row("resident_a", why="one's own password"),
    "accounts:two_factor_setup": Row("community_worker", why="anyone may enrol; staff must"),
    "accounts:two_factor_verify": Row(
        "community_worker", code=302, why="no code owed in this session: sent on (signin tests cover it)"
    ),
    "accounts:sessions": Row("resident_a", why="one's own sessions"),
    "accounts:sign_out_others": Row("resident_a", post=True, why="one's own other sessions"),
    "accounts:my_data": Row("resident_a", why="everyone's own data (PIPL): no object, no 403"),
    "accounts:my_data_download": Row("resident_a", post=True, why="one's own data only"),
    "accounts:my_data_correct": Row("resident_a", post=True, why="one's own record only"),
    "accounts:tokens": Row("admin", forbidden="community_secretary"),
    "accounts:token_revoke": Row(
        "admin", post=True, outside=False, why="tokens belong to no place; nobody else sees one (404)"
    ),
    "audit:list": Row("auditor", forbidden="community_worker"),
    "notifications:inbox": Row("resident_a"),
    "notifications:mark_read": Row("resident_a", post=True, why="outside: another person's notice"),
    "notifications:mark_all_read": Row("resident_a", post=True),
    # --- places -----------------------------------------------------------------------------------------
    "places:browse": Row("community_worker", code=302, why="one top place: straight to it"),
    "places:detail": Row("community_worker"),
    "places:profile_edit": Row(
        "community_worker", forbidden="subdistrict_staff", objects={"place_id": "entrance"}
    ),
    "places:unmask": Row("community_worker", forbidden="resident_a", post=True),
    "places:move_out": Row("community_worker", forbidden="grid_worker", post=True),
    "places:corrections": Row("community_worker", forbidden="grid_worker"),
    "places:correction_decide": Row("community_worker", forbidden="grid_worker", post=True),
    "places:resident_tags": Row("community_worker", forbidden="resident_a"),
    "places:import": Row("community_worker", forbidden="grid_worker"),
    "places:import_template": Row("community_worker", forbidden="grid_worker", args={"fmt": "xlsx"}),
    "places:export": Row("community_worker", forbidden="auditor", args={"fmt": "csv"}),
    "places:household_search": Row(
        "entrance_leader_a",
        query={"for": "requests", "field": "household", "household_q": "101"},
        why="a search fragment: without the permission it lists no household (200, empty), no 403",
    ),
    # --- requests ---------------------------------------------------------------------------------------
    "requests:mine": Row("resident_a"),
    "requests:submit": Row("resident_a", forbidden="auditor"),
    "requests:behalf": Row("entrance_leader_a", forbidden="resident_a"),
    "requests:queue": Row("community_worker", forbidden="resident_a"),
    "requests:board": Row("community_worker"),
    "requests:board_entrance": Row("community_worker"),
    "requests:board_photo": Row("community_worker", objects={"photo_id": "board_photo"}),
    "requests:rates": Row("community_worker", forbidden="resident_a"),
    "requests:callbacks": Row("community_worker", forbidden="grid_worker"),
    "requests:callback": Row(
        None,
        forbidden="grid_worker",
        why="only a request due for a call-back: service_requests/tests/test_callback*.py",
    ),
    "requests:hotline_import": Row("subdistrict_dispatcher", forbidden="community_secretary"),
    "requests:hotline_template": Row(
        "subdistrict_dispatcher", forbidden="community_secretary", args={"fmt": "xlsx"}
    ),
    "requests:detail": Row("community_worker"),
    "requests:outcome": Row(
        "community_worker", code=302, why="an open request has no outcome yet: back to it"
    ),
    "requests:act": Row(
        "entrance_leader_a", forbidden="community_secretary", post=True, args={"name": "accept"}
    ),
    "requests:desk_act": Row(
        "subdistrict_dispatcher",
        post=True,
        outside=False,
        args={"name": "dispatch"},
        why="the dispatcher's scope is the subdistrict: nothing is outside it",
    ),
    "requests:desk": Row("subdistrict_dispatcher", forbidden="community_secretary"),
    "requests:bulk_dispatch": Row("subdistrict_dispatcher", forbidden="community_secretary", post=True),
    "requests:rate": Row("resident_a", forbidden="community_secretary", post=True),
    "requests:add_photos": Row("community_worker", post=True),
    "requests:photo": Row("community_worker"),
    "requests:similar": Row("resident_a"),
    "requests:join": Row(
        None, post=True, why="only a similar open request nearby: service_requests/tests/test_duplicates*.py"
    ),
    "requests:co_rate": Row(None, why="only a co-requester's: service_requests/tests/test_duplicates*.py"),
    "requests:duplicates": Row(
        "subdistrict_dispatcher",
        forbidden="community_secretary",
        outside=False,
        why="the dispatcher's scope is the subdistrict",
    ),
    "requests:unmerge": Row(None, forbidden="community_secretary", post=True, why="only a merged request"),
    "routing:suggest": Row("community_worker"),
    # --- hotspots ---------------------------------------------------------------------------------------
    "hotspots:index": Row("community_worker", code=302, why="straight to the user's board"),
    "hotspots:board": Row("community_worker"),
    "hotspots:create_task": Row("community_worker"),
    "hotspots:task": Row("community_worker"),
    "hotspots:task_act": Row(None, post=True, why="an empty form names no transition: 404 (hotspots/tests)"),
    "hotspots:themes": Row("community_worker"),
    "hotspots:theme_new": Row("community_secretary", forbidden="community_worker"),
    "hotspots:theme": Row("community_worker"),
    "hotspots:theme_edit": Row("community_secretary", forbidden="community_worker"),
    "hotspots:report": Row("community_worker", args={"fmt": "xlsx"}, code=422, why="no month given: says so"),
    # --- mediation ---------------------------------------------------------------------------------------
    "mediation:from_request": Row("community_worker", post=True),
    "mediation:desk": Row("mediator_a", forbidden="community_secretary"),
    "mediation:case_new": Row("mediator_a", forbidden="community_secretary"),
    "mediation:case": Row("mediator_a"),
    "mediation:case_unmask": Row("mediator_a", post=True),
    "mediation:case_document": Row("mediator_a"),
    "mediation:case_act": Row("mediator_a", post=True, args={"action": "accept"}),
    "mediation:apply": Row("resident_a", forbidden="community_secretary"),
    "mediation:apply_done": Row("resident_a", why="a party's own case; outside: a case they are no party to"),
    "mediation:my_cases": Row("resident_a"),
    "mediation:my_case": Row("resident_a"),
    "mediation:screenings": Row("mediator_a", forbidden="community_secretary"),
    "mediation:screening": Row("mediator_a"),
    "mediation:screening_hold": Row("mediator_a", post=True),
    "mediation:screening_cancel": Row("mediator_a", post=True),
    "mediation:finding_add": Row("mediator_a", post=True),
    "mediation:finding_case": Row("mediator_a", post=True),
    "mediation:finding_task": Row("mediator_a", post=True),
    "mediation:finding_close": Row("mediator_a", post=True),
    "mediation:consultations": Row("mediator_a", forbidden="community_secretary"),
    "mediation:tasks": Row("mediator_a", forbidden="community_secretary"),
    "mediation:task_finish": Row("mediator_a", post=True),
    "mediation:task_cancel": Row("mediator_a", post=True),
    "mediation:agreement_pdf": Row("mediator_a", code=302, why="no agreement yet: back to the case"),
    "mediation:agreement_docx": Row("mediator_a", code=302, why="no agreement yet: back to the case"),
    "mediation:filing_pack": Row(
        "mediation_manager",
        forbidden="mediator_a",
        outside=False,
        why="the centre's managers only (subdistrict)",
    ),
    "mediation:reports": Row("community_secretary", forbidden="community_worker"),
    "mediation:report_download": Row(
        "community_secretary", forbidden="community_worker", code=422, why="no period"
    ),
    # --- mutual aid ----------------------------------------------------------------------------------------
    "mutual_aid:open": Row("resident_a", forbidden="auditor"),
    "mutual_aid:new": Row("resident_a", forbidden="community_secretary"),
    "mutual_aid:mine": Row("resident_a", forbidden="auditor"),
    "mutual_aid:settings": Row("resident_a", forbidden="community_secretary"),
    "mutual_aid:moderation": Row("community_worker", forbidden="resident_a"),
    "mutual_aid:moderate_report": Row(
        "community_worker", code=302, outside=False, why="a GET goes back to the list"
    ),
    "mutual_aid:post": Row("community_worker"),
    "mutual_aid:post_card": Row("community_worker"),
    "mutual_aid:post_photo": Row("community_worker"),
    "mutual_aid:post_act": Row(
        "community_worker",
        code=302,
        outside=False,
        args={"action": "respond"},
        why="a GET goes back to the post",
    ),
    "mutual_aid:care": Row("community_worker", forbidden="resident_a"),
    "mutual_aid:care_household": Row("community_worker"),
    "mutual_aid:care_plan": Row("community_worker", post=True),
    "mutual_aid:care_record": Row("community_worker", post=True),
    "mutual_aid:emergency": Row("community_worker", forbidden="grid_worker"),
    "mutual_aid:episode": Row("community_worker"),
    "mutual_aid:coverage": Row("community_worker"),
    "mutual_aid:episode_end": Row("community_worker", post=True),
    "mutual_aid:episode_member": Row("community_worker", post=True),
    "mutual_aid:episode_join": Row(None, forbidden="community_worker", post=True, why="volunteers join"),
    "mutual_aid:episode_tasks": Row("community_worker", post=True),
    "mutual_aid:emergency_task_claim": Row(
        None, forbidden="community_worker", post=True, why="team members claim"
    ),
    "mutual_aid:emergency_task_release": Row("community_worker", post=True),
    "mutual_aid:emergency_task_finish": Row(None, forbidden="community_worker", post=True, why="the claimer"),
    "mutual_aid:stream": Row("resident_a", anonymous="403", why="an event stream: no page to send anyone to"),
    "mutual_aid:figures": Row("community_secretary", forbidden="community_worker"),
}


# --- the world, once per module ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once, in a transaction rolled back when the module ends; its files in a temporary folder."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _cheap_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ROUTES = page_routes()


def url_of(world, route: str, row: Row, *, inside: bool = True) -> str:
    objects = world.inside if inside else world.outside
    kwargs = {}
    for arg in ROUTES[route]:
        name = row.objects.get(arg) or object_for(route, arg)
        kwargs[arg] = objects[name].pk if name else row.args[arg]
    return reverse(route, kwargs=kwargs)


def names_an_object(route: str, row: Row) -> bool:
    return any(row.objects.get(a) or object_for(route, a) for a in ROUTES[route])


def ask(client, world, persona, route, row, *, inside=True, method="get"):
    client.logout()
    if persona is not None:
        client.force_login(world.users[persona])
    url = url_of(world, route, row, inside=inside)
    if method == "post":
        return client.post(url, {})
    return client.get(url, row.query)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- the tests -------------------------------------------------------------------------------------------
def test_every_route_has_a_row():
    missing = sorted(set(ROUTES) - set(ROWS))
    gone = sorted(set(ROWS) - set(ROUTES))
    assert not missing, f"page routes without a row in ROWS (who may open them?): {missing}"
    assert not gone, f"rows for routes that no longer exist: {gone}"


def test_the_walk_finds_every_app_and_leaves_out_the_admin_and_the_api():
    namespaces = {r.split(":")[0] for r in ROUTES if ":" in r}
    assert {"accounts", "places", "requests", "audit", "notifications", "routing", "hotspots"} <= namespaces
    assert {"mediation", "mutual_aid"} <= namespaces
    assert not namespaces & {"admin", "api"}


CASES = sorted(ROWS)


@pytest.mark.parametrize("route", CASES)
def test_anonymous(route, world, client, db):
    row = ROWS[route]
    response = ask(client, world, None, route, row, method="post" if row.post else "get")
    if row.anonymous == L:
        assert is_login_redirect(response), (response.status_code, response.get("Location"))
    else:
        assert response.status_code == int(row.anonymous)


@pytest.mark.parametrize("route", [r for r in CASES if ROWS[r].ok])
def test_with_the_permission(route, world, client, db):
    row = ROWS[route]
    if row.post:
        assert ask(client, world, row.ok, route, row).status_code == 405
        response = ask(client, world, row.ok, route, row, method="post")
        assert response.status_code not in (403, 404, 405) and response.status_code < 500, (
            response.status_code
        )
    else:
        response = ask(client, world, row.ok, route, row)
        assert response.status_code == row.code, (response.status_code, response.content[:300])
        if row.code == 302:
            assert not is_login_redirect(response)


@pytest.mark.parametrize(
    "route", [r for r in CASES if ROWS[r].ok and ROWS[r].outside and names_an_object(r, ROWS[r])]
)
def test_outside_the_scope_is_404(route, world, client, db):
    row = ROWS[route]
    response = ask(client, world, row.ok, route, row, inside=False, method="post" if row.post else "get")
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("route", [r for r in CASES if ROWS[r].forbidden])
def test_in_scope_without_the_permission_is_403(route, world, client, db):
    row = ROWS[route]
    response = ask(client, world, row.forbidden, route, row, method="post" if row.post else "get")
    assert response.status_code == 403, response.status_code
