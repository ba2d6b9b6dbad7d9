"""pytest plugin: the place tree and personas by role and place (DESIGN.md §4 naming).

Personas: resident_a (household A1), resident_b (household B1), entrance_leader_a (entrance A),
grid_worker (grid 1), community_worker (community 1), community_secretary (community 1),
outsider (community worker of community 2), subdistrict_staff, subdistrict_dispatcher, auditor, admin.
Mediation centre: mediation_manager (subdistrict), mediator_a (community 1), mediator_b (community 2),
lawyer, counsellor (subdistrict).
"""

from __future__ import annotations

import os

import pytest

# Plain static storage in tests (no collectstatic manifest needed to render pages).
os.environ.setdefault("LINJIALIN_TESTING", "1")
# The suite's personas sign in like the demo logins (no forced two-factor enrolment or password change);
# the tests of those controls turn DEMO_MODE off (accounts/tests/test_signin_controls.py).
os.environ.setdefault("LINJIALIN_DEMO", "1")

PASSWORD = "Test-pass-2026"  # noqa: S105  (test accounts only)


@pytest.fixture
def tree(db):
    from .tree import build_tree

    return build_tree()


def make_user(mobile: str, name: str, role: str | None = None, place=None, **grant):
    from linjialin.accounts.models import User
    from linjialin.accounts.services import grant_role

    user = User.objects.create_user(mobile, PASSWORD, display_name=name)
    if role:
        grant_role(None, user=user, role=role, place=place, check=False, **grant)
    return user


@pytest.fixture
def resident_a(tree):
    user = make_user("13900000001", "张三", "resident", tree.household_a1)
    tree.resident_a1.user = user
    tree.resident_a1.save(update_fields=["user"])
    return user


@pytest.fixture
def resident_b(tree):
    user = make_user("13900000002", "王五", "resident", tree.household_b1)
    tree.resident_b1.user = user
    tree.resident_b1.save(update_fields=["user"])
    return user


@pytest.fixture
def entrance_leader_a(tree):
    return make_user("13900000003", "楼门长A", "entrance_leader", tree.entrance_a)


@pytest.fixture
def grid_worker(tree):
    return make_user("13900000004", "网格员", "grid_worker", tree.grid_1)


@pytest.fixture
def community_worker(tree):
    return make_user("13900000005", "社区工作者", "community_worker", tree.community_1)


@pytest.fixture
def community_secretary(tree):
    return make_user("13900000006", "社区书记", "community_secretary", tree.community_1)


@pytest.fixture
def outsider(tree):
    return make_user("13900000007", "外社区工作者", "community_worker", tree.community_2)


@pytest.fixture
def subdistrict_staff(tree):
    return make_user("13900000008", "街道干部", "subdistrict_staff", tree.subdistrict)


@pytest.fixture
def subdistrict_dispatcher(tree):
    return make_user("13900000009", "街道派单员", "subdistrict_dispatcher", tree.subdistrict)


@pytest.fixture
def auditor(tree):
    return make_user("13900000010", "审计员", "auditor", tree.subdistrict)


@pytest.fixture
def admin(tree):
    return make_user("13900000011", "系统管理员", "system_admin", tree.subdistrict)


@pytest.fixture
def mediation_manager(tree):
    return make_user("13900000012", "调解中心主任", "mediation_manager", tree.subdistrict)


@pytest.fixture
def mediator_a(tree):
    return make_user("13900000013", "调解员甲", "mediator", tree.community_1)


@pytest.fixture
def mediator_b(tree):
    return make_user("13900000014", "调解员乙", "mediator", tree.community_2)


@pytest.fixture
def lawyer(tree):
    return make_user("13900000015", "律师", "lawyer", tree.subdistrict)


@pytest.fixture
def counsellor(tree):
    return make_user("13900000016", "心理咨询师", "counsellor", tree.subdistrict)


@pytest.fixture
def login(client):
    """login(user) → the test client, logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fresh_language():
    """Each test starts with no language activated in its thread (a view or test may have left one)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """A rolled-back test may have added calendar days: never let the per-year cache outlive it."""
    from linjialin.core import calendar

    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_signin_throttle():
    """Failed sign-ins are counted in Django's cache (accounts/throttle.py): one test's failures from
    127.0.0.1 must not slow another's sign-in."""
    from django.core.cache import cache

    from linjialin.accounts import throttle

    cache.clear()
    throttle.clear_rules_cache()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_grants_cache():
    """Each test starts with no user's grants kept per process (accounts/scope.py): what one test's
    requests kept never answers for another's (its key already differs; this keeps tests independent)."""
    from linjialin.accounts.scope import clear_shared

    clear_shared()
    yield
    clear_shared()


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(tmp_path_factory):
    """Each test its own audit checkpoint file: a checkpoint one test's chain wrote (say at event 10)
    would fail the next test's fresh chain as "events were removed"."""
    import uuid

    from django.conf import settings

    folder = tmp_path_factory.getbasetemp() / "audit-checkpoints"
    folder.mkdir(exist_ok=True)
    kept = settings.AUDIT_CHECKPOINT_FILE
    settings.AUDIT_CHECKPOINT_FILE = folder / f"{uuid.uuid4().hex}.log"
    yield
    settings.AUDIT_CHECKPOINT_FILE = kept


# --- handling units at the department level (service_requests.HandlingUnit) ---------------------------
def make_unit(tree, code: str, name: str, **kw):
    from linjialin.service_requests.models import HandlingUnit

    return HandlingUnit.objects.create(
        code=code, name_zh=name, place=tree.subdistrict, path=tree.subdistrict.path, **kw
    )


def make_unit_member(unit, mobile: str, name: str, *, supervisor: bool = False):
    from linjialin.service_requests.models import UnitMember

    user = make_user(mobile, name, "department_handler", unit.place)
    UnitMember.objects.create(unit=unit, user=user, supervisor=supervisor)
    return user


@pytest.fixture
def housing_unit(tree):
    return make_unit(tree, "housing", "区住建委", name_en="District housing commission")


@pytest.fixture
def city_unit(tree):
    return make_unit(tree, "city", "区城管委", name_en="District city management")


@pytest.fixture
def housing_handler(housing_unit):
    return make_unit_member(housing_unit, "13900000012", "住建委办事员")


@pytest.fixture
def housing_supervisor(housing_unit):
    return make_unit_member(housing_unit, "13900000013", "住建委科长", supervisor=True)


@pytest.fixture
def city_handler(city_unit):
    return make_unit_member(city_unit, "13900000014", "城管委办事员")


def pytest_collection_modifyitems(items):
    """Two rules about transactional tests (those that empty the database when they end):

    - every one restores the migrated data (categories, rules …) it found: without
      `serialized_rollback` Django re-creates content types after the flush and the next restoring
      test fails on them;
    - the browser tests run before the other transactional tests: a browser test that starts the
      session's live server after another transactional test emptied the database was seen to miss
      seeded rows (the sub-categories); tests that do not empty the database still run first."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)

    def order(item) -> int:  # the tests that keep the data first (as pytest-django orders them), then
        marker = item.get_closest_marker("django_db")  # the browser tests, then other transactional ones
        if not (marker and marker.kwargs.get("transaction")):
            return 0
        return 1 if item.get_closest_marker("browser") else 2

    items.sort(key=order)


class _GroupsOnOneWorker:
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker by the suffix "@<group>"
    that pytest-xdist adds to their node ids on each worker. pytest-xdist 3.8 writes it to
    `item._nodeid`, which pytest 9.2 no longer reads (the id lives in `item._id`), so every group was
    split across the workers and its costly fixtures (the loaded demo, the demo years) were built once
    per worker. This adds the suffix where pytest reads it; it changes nothing once xdist does."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        from _pytest.nodeid import coerce_node_id

        if not getattr(config.option, "loadgroup", False):  # set by pytest-xdist on its workers
            return
        for item in items:
            marks = item.iter_markers("xdist_group")
            names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
            suffix = "@" + "_".join(sorted(names))
            if names and not item.nodeid.endswith(suffix):
                item._id = coerce_node_id(item.nodeid + suffix)


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_GroupsOnOneWorker(), "linjialin-xdist-groups")
