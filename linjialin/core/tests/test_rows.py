"""core.rows (plain reads) and core.bulk.insert_one / insert_rows (plain writes): the same instances and
rows as the ORM's, in one statement each, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.core import audit, rows
from linjialin.core.bulk import FEW_ROWS, insert_one, insert_rows
from linjialin.core.models import AuditEvent
from linjialin.places.models import Compound, Place

pytestmark = pytest.mark.django_db


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _grants(user, on):
    return rows.fetch(
        RoleGrant,
        "t.user_id = %s AND t.valid_from <= %s AND (t.valid_to IS NULL OR t.valid_to >= %s)",
        [user.pk, on, on],
        related=("place", "building"),
        order_by="t.path, t.role, t.valid_from DESC",
    )


def test_fetch_gives_the_orms_instances_with_related_rows_cached(tree):
    user = User.objects.create_user("13900000099", "Pass-word-2026", display_name="甲")
    today = timezone.localdate()
    RoleGrant.objects.create(user=user, role="resident", place=tree.household_a1, path=tree.household_a1.path)
    RoleGrant.objects.create(
        user=user, role="building_leader", place=tree.grid_1, building=tree.building_1, path=tree.grid_1.path
    )
    RoleGrant.objects.create(  # ended yesterday: not current
        user=user, role="grid_worker", place=tree.grid_1, path=tree.grid_1.path, valid_to=today - timedelta(1)
    )
    orm = list(RoleGrant.objects.current(today).filter(user=user).select_related("place", "building"))
    with CaptureQueriesContext(connection) as ctx:
        plain = _grants(user, today)
        # the related rows came with them: reading them needs no query
        seen = [(g.place.name, g.building.number if g.building else None) for g in plain]
    assert len(ctx.captured_queries) == 1
    assert [_values(g) for g in plain] == [_values(g) for g in orm]
    assert [_values(g.place) for g in plain] == [_values(g.place) for g in orm]
    assert seen == [(g.place.name, g.building.number if g.building else None) for g in orm]
    assert all(isinstance(g.valid_from, date) for g in plain)  # converted as the ORM converts (SQLite: text)
    assert not plain[0]._state.adding and plain[0]._state.db == "default"


def test_related_through_a_related_row_is_cached_on_it(tree):
    """ "place__parent": the grant's place's parent comes in the same statement (None at the top)."""
    user = User.objects.create_user("13900000098", "Pass-word-2026", display_name="乙")
    for place in (tree.household_a1, tree.subdistrict):
        RoleGrant.objects.create(user=user, role="resident", place=place, path=place.path)
    with CaptureQueriesContext(connection) as ctx:
        plain = rows.fetch(
            RoleGrant,
            "t.user_id = %s",
            [user.pk],
            related=("place", "building", "place__parent"),
            order_by="t.path",
        )
        parents = [g.place.parent for g in plain]
    assert len(ctx.captured_queries) == 1
    assert parents[0] is None  # the subdistrict has no parent
    assert _values(parents[1]) == _values(Place.objects.get(pk=tree.household_a1.parent_id))
    assert plain[1].building is None


def test_fields_defers_the_others_and_iterate_makes_instances_as_the_loop_reaches_them(tree):
    for name in ("G1", "G3", "G2"):
        Compound.objects.create(community=tree.community_1, name=name, path=tree.community_1.path)
    found = rows.iterate(
        Compound,
        "t.community_id = %s AND t.name LIKE %s",
        [tree.community_1.pk, "G%"],
        fields=("name",),
        order_by="t.name DESC",
    )
    first = next(found)
    assert first.name == "G3"
    assert first.get_deferred_fields() == {"community_id", "path"}
    with CaptureQueriesContext(connection) as ctx:
        assert first.path == tree.community_1.path  # a deferred field is read when asked for
    assert len(ctx.captured_queries) == 1
    assert [
        c.name for c in rows.fetch(Compound, "t.community_id = %s", [tree.community_1.pk], order_by="t.name")
    ] == sorted(Compound.objects.filter(community=tree.community_1).values_list("name", flat=True))


def test_first_and_datetime_parameters(tree):
    assert rows.first(Place, "t.id = %s", [tree.entrance_a.pk]).name == tree.entrance_a.name
    assert rows.first(Place, "t.id = %s", [0]) is None
    audit.record("test.one", object_type="test", object_id="1", path="110112008.")
    now = timezone.now()
    assert (
        rows.first(AuditEvent, "t.at <= %s", [now + timedelta(minutes=1)], order_by="t.seq DESC").action
        == "test.one"
    )
    assert rows.first(AuditEvent, "t.at > %s", [now + timedelta(minutes=1)]) is None


def test_insert_one_writes_what_save_would_and_numbers_the_key(tree, admin):
    grant = RoleGrant(user=admin, role="resident", place=tree.household_b1, path=tree.household_b1.path)
    with CaptureQueriesContext(connection) as ctx:
        insert_one(RoleGrant, grant)
    assert len(ctx.captured_queries) == 1
    assert grant.pk and not grant._state.adding
    stored = RoleGrant.objects.get(pk=grant.pk)
    assert _values(stored) == _values(grant)
    assert stored.valid_from == timezone.localdate()  # the field's default
    assert stored.created_at is not None and abs(stored.created_at - timezone.now()) < timedelta(minutes=1)
    grant.end_reason = "moved"
    grant.save(update_fields=["end_reason"])  # an UPDATE now, not a second INSERT
    assert RoleGrant.objects.get(pk=grant.pk).end_reason == "moved"

    given = Compound(pk=grant.pk + 1000, community=tree.community_2, name="给定", path=tree.community_2.path)
    insert_one(Compound, given)
    assert Compound.objects.get(pk=grant.pk + 1000).name == "给定"


def test_insert_rows_writes_a_few_rows_in_one_statement_and_many_streamed(tree):
    def compounds(n, prefix):
        return [
            Compound(community=tree.community_1, name=f"{prefix}{i}", path=tree.community_1.path)
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as ctx:
        insert_rows(Compound, compounds(3, "少"))
    assert len(ctx.captured_queries) == 1
    insert_rows(Compound, compounds(FEW_ROWS + 7, "多"))
    assert Compound.objects.filter(name__startswith="少").count() == 3
    assert Compound.objects.filter(name__startswith="多").count() == FEW_ROWS + 7
