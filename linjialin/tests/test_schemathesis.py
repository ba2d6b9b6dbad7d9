"""Property tests of the whole API against its own OpenAPI document (schemathesis, in-process WSGI).

Part of `make test` (it is an ordinary pytest module, so it runs on SQLite and again on PostgreSQL).
For every operation and each caller — a resident's API token, a staff API token (the subdistrict
dispatcher, who may see and move every request) and a community worker's session (so the CSRF path is
exercised too) — generated requests, valid and invalid, must never produce a 5xx, must answer only
documented status codes, and every body must match the documented schema. Anonymous calls are covered
by schemathesis itself: for each authenticated case it also sends none and a wrong token and expects 401.

Generated ids rarely name a real object, so the first case of each operation and caller is replayed
with the ids of real places, residents, a request, a mediation case and a mutual aid post built through
the project's services: that exercises the 200/403/409 answers. The number of generated examples is
bounded (MAX_EXAMPLES per operation and caller) to keep the module near two minutes on two cores.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings

from linjialin.api import api

MAX_EXAMPLES = 5

APP = get_wsgi_application()
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = APP  # requests go in-process through Django's WSGI handler (full middleware stack)
schema.config.generation.update(modes=["positive", "negative"], deterministic=True, database="none")


@pytest.fixture
def in_process_app(db):
    """Let the WSGI app share the test's transaction: Django would otherwise close the connection
    at the end of each request (the test client does the same thing)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield APP
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The caller's credentials, set by the `caller` fixture and attached to every generated case by the
# auth provider below: schemathesis then knows them for the case's own (so its auth check removes them
# and expects 401, and sends a wrong token / cookie and expects 401).
CREDENTIALS: dict = {}


@schema.auth(refresh_interval=None)
class CallerAuth:
    def get(self, case, context):
        return dict(CREDENTIALS) or None  # nothing outside a test (schemathesis asks while collecting)

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


CALLERS = ["token:resident_a", "token:subdistrict_dispatcher", "session:community_worker"]
REPLAYED: set[tuple[str, str]] = set()  # (operation, caller) whose case was replayed with real ids


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The place tree, the callers and one request, mediation case and mutual aid post, built once for
    the module through the project's services (each test's own transaction is a savepoint inside this
    one, which is rolled back at the end): ~126 cases do not each build the tree again."""
    from linjialin.accounts.services import create_api_token
    from linjialin.mediation.models import DisputeType
    from linjialin.mediation.services import cases
    from linjialin.mutual_aid.models import AidCategory, Kind
    from linjialin.mutual_aid.services import posts
    from linjialin.service_requests import services
    from linjialin.service_requests.models import RequestType
    from linjialin.testing.plugin import make_user
    from linjialin.testing.tree import build_tree

    with django_db_blocker.unblock(), transaction.atomic():
        tree = build_tree()
        resident = make_user("13900000001", "张三", "resident", tree.household_a1)
        tree.resident_a1.user = resident
        tree.resident_a1.save(update_fields=["user"])
        users = {
            "resident_a": resident,
            "subdistrict_dispatcher": make_user(
                "13900000009", "街道派单员", "subdistrict_dispatcher", tree.subdistrict
            ),
            "community_worker": make_user("13900000005", "社区工作者", "community_worker", tree.community_1),
        }
        # a person's token is minted by that person (nobody else may act as them)
        tokens = {name: create_api_token(u, user=u, name="schemathesis")[1] for name, u in users.items()}
        request = services.submit_request(
            resident,
            place=tree.household_a1,
            request_type=RequestType.COMPLAINT,
            description="楼道灯坏了，晚上很黑",
        )
        case = cases.apply_for_mediation(
            resident,
            household=tree.household_a1,
            dispute_type=DisputeType.NEIGHBOUR,
            title="楼上漏水",
            facts="楼上漏水到我家厨房",
            other_party_name="李四",
        )
        post = posts.create_post(
            resident,
            household=tree.household_a1,
            kind=Kind.NEED,
            category=AidCategory.LENDING,
            text="求借梯子",
        )
        places = [tree.subdistrict, tree.community_1, tree.community_2, tree.grid_1, tree.entrance_a]
        places += [tree.entrance_x, tree.household_a1, tree.household_x1]
        ids = {
            "place_id": [p.pk for p in places],
            "resident_id": [r.pk for r in (tree.resident_a1, tree.resident_x1)],
            "request_id": [request.pk],
            "case_id": [case.pk],
            "post_id": [post.pk],
        }
        yield {"users": users, "tokens": tokens, "ids": ids}
        transaction.set_rollback(True)


@pytest.fixture(params=CALLERS)
def caller(request, world, client, in_process_app):
    """The persona's credentials: an API token, or a signed-in session with a CSRF token for POSTs."""
    kind, _, persona = request.param.partition(":")
    CREDENTIALS.clear()
    if kind == "token":
        CREDENTIALS.update(cookies={}, headers={"Authorization": f"Bearer {world['tokens'][persona]}"})
    else:
        client.force_login(world["users"][persona])
        csrf = get_random_string(32)
        cookies = {"csrftoken": csrf, "sessionid": client.cookies["sessionid"].value}
        CREDENTIALS.update(cookies=cookies, headers={"X-CSRFToken": csrf})
    yield request.param
    CREDENTIALS.clear()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, caller, world, in_process_app):
    case.call_and_validate(app=in_process_app)
    if (case.operation.label, caller) in REPLAYED:
        return
    REPLAYED.add((case.operation.label, caller))
    for name, ids in world["ids"].items():
        if name not in (case.path_parameters or {}):
            continue
        for pk in ids:
            case.path_parameters[name] = pk
            case.call_and_validate(app=in_process_app)
