from django.db.models import Q

from linjialin.core.scope import Scope
from linjialin.places.models import Level, Place, Resident


def test_scope_drops_prefixes_covered_by_a_shorter_one():
    s = Scope(prefixes=("a.b.",)) | Scope(prefixes=("a.", "c.d."))
    assert s.prefixes == ("a.", "c.d.")
    assert s.covers("a.x.") and s.covers("c.d.e.") and not s.covers("c.e.")


def test_empty_scope_sees_nothing_and_everywhere_sees_all():
    assert Scope.nowhere().is_empty
    assert Scope(everywhere=True).covers("anything.")


def test_an_everywhere_scope_or_another_condition_still_sees_every_row(tree):
    everything = Place.objects.count()
    assert Place.objects.filter(Scope(everywhere=True).q()).count() == everything
    only_one = Q(pk=tree.entrance_a.pk)
    assert Place.objects.filter(Scope(everywhere=True).q() | only_one).count() == everything
    assert Place.objects.filter(only_one | Scope(everywhere=True).q("path")).count() == everything
    assert Place.objects.filter(Scope.nowhere().q() | only_one).count() == 1
    assert Place.objects.filter(Scope(everywhere=True).q() & only_one).count() == 1


def test_entrance_leader_sees_only_their_entrance(tree, entrance_leader_a):
    visible = set(
        Place.objects.visible_to(entrance_leader_a, "places.view_place").values_list("pk", flat=True)
    )
    assert tree.entrance_a.pk in visible and tree.household_a1.pk in visible
    assert tree.entrance_b.pk not in visible and tree.grid_1.pk not in visible


def test_resident_sees_only_their_own_household(tree, resident_a):
    residents = list(Resident.objects.visible_to(resident_a, "places.view_household"))
    assert residents == [tree.resident_a1]


def test_prefix_of_code_does_not_leak_to_sibling_with_longer_code(tree, community_worker):
    # community 001's prefix must not match community 0010-something: paths end with "."
    visible = Place.objects.visible_to(community_worker, "places.view_place")
    assert not visible.filter(path__startswith=tree.community_2.path).exists()
    assert visible.filter(level=Level.HOUSEHOLD).count() == 3


def test_community_worker_scope_is_one_range_query(tree, community_worker, django_assert_num_queries):
    community_worker.scope_for("places.view_place")  # load grants
    with django_assert_num_queries(1):
        list(Place.objects.visible_to(community_worker, "places.view_place"))


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from linjialin.core.models import AuditEvent  # noqa: E402

segment = st.sampled_from(["1", "01", "001", "0010", "002", "9", "0001", "10"])
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: ".".join(parts) + ".")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(paths, min_size=1, max_size=12, unique=True), prefixes=st.lists(paths, max_size=3))
def test_sql_range_filter_agrees_with_python_covers(db, rows, prefixes):
    """The indexed range query must select exactly the rows whose path starts with a prefix."""
    AuditEvent.objects.all().delete()
    AuditEvent.objects.bulk_create(
        AuditEvent(seq=i, at="2026-01-01T00:00:00Z", action="x", path=p, prev_hash="", hash="")
        for i, p in enumerate(rows, 1)
    )
    scope = Scope.nowhere() | Scope(prefixes=tuple(prefixes))
    selected = set(AuditEvent.objects.filter(scope.q("path")).values_list("path", flat=True))
    assert selected == {p for p in rows if scope.covers(p)}
