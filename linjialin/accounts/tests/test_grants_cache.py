"""Each user's current grants kept per process (accounts/scope.py): read once for the user's next requests,
and never longer than the grants are what they were. User.grants_version, raised by the database on any
write to a user's grants (migration 0005), is the proof: whatever path changes a grant, the user's next
request reads the grants again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.scope import current_grants
from linjialin.accounts.services import end_grant
from linjialin.core.bulk import insert_rows
from linjialin.testing.plugin import make_user

ME = "/api/v1/me"


def fresh(user) -> User:
    """The user as a new request loads them."""
    return User.objects.get(pk=user.pk)


def grants_read(call) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as ctx:
        value = call()
    return value, len([q for q in ctx.captured_queries if 'FROM "accounts_rolegrant"' in q["sql"]])


def version(user) -> int:
    return User.objects.values_list("grants_version", flat=True).get(pk=user.pk)


def test_every_write_to_a_users_grants_raises_their_version_and_nothing_lowers_it(tree):
    user = make_user("13900000081", "赵六")
    other = make_user("13900000082", "钱七")
    seen = [version(user)]

    def changed() -> bool:
        seen.append(version(user))
        return seen[-1] > seen[-2]

    grant = RoleGrant.objects.create(
        user=user, role="resident", place=tree.household_a1, path=tree.household_a1.path
    )
    assert changed()  # the ORM's INSERT
    RoleGrant.objects.filter(pk=grant.pk).update(valid_to=timezone.localdate())
    assert changed()  # a queryset UPDATE (no signal)
    insert_rows(
        RoleGrant,
        [RoleGrant(user=user, role="resident", place=tree.household_b1, path=tree.household_b1.path)],
    )
    assert changed()  # a bulk INSERT (no signal)
    before_other = version(other)
    RoleGrant.objects.filter(pk=grant.pk).update(user=other)
    assert changed() and version(other) > before_other  # moved: both users' grants changed
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_rolegrant WHERE user_id = %s", [user.pk])
    assert changed()  # plain SQL

    stale = User.objects.get(pk=user.pk)
    stale.grants_version = 0
    stale.display_name = "赵六六"
    stale.save()  # a full save of a User read before the change writes every column
    assert version(user) == seen[-1] and fresh(user).display_name == "赵六六"


@pytest.mark.django_db(transaction=True)
def test_a_users_grants_are_read_once_for_their_next_requests(tree):
    resident = make_user("13900000083", "孙八", "resident", tree.household_a1)
    first, reads = grants_read(lambda: current_grants(fresh(resident)))
    assert reads == 1 and [g.place_id for g in first] == [tree.household_a1.pk]
    again, reads = grants_read(lambda: current_grants(fresh(resident)))
    assert reads == 0 and [g.pk for g in again] == [g.pk for g in first]
    # another user's grants are theirs
    neighbour = make_user("13900000084", "周九", "resident", tree.household_b1)
    theirs, reads = grants_read(lambda: current_grants(fresh(neighbour)))
    assert reads == 1 and [g.place_id for g in theirs] == [tree.household_b1.pk]


@pytest.mark.django_db(transaction=True)
def test_a_grant_ended_or_given_by_any_path_counts_at_the_users_next_request(tree, client):
    leader = make_user("13900000085", "吴十", "entrance_leader", tree.entrance_a)
    admin = make_user("13900000086", "郑一", "system_admin", tree.subdistrict)
    client.force_login(leader)

    def roles() -> list[str]:
        response = client.get(ME)
        assert response.status_code == 200
        return sorted(r["role"] for r in response.json()["roles"])

    assert roles() == ["entrance_leader"]
    assert roles() == ["entrance_leader"]  # kept (the second request reads no grants: test above)
    grant = RoleGrant.objects.get(user=leader)
    end_grant(admin, grant, reason="搬走了")  # the service
    assert roles() == []
    RoleGrant.objects.create(
        user=leader, role="resident", place=tree.household_a1, path=tree.household_a1.path
    )
    assert roles() == ["resident"]  # given outside the services (as the Django admin would)
    RoleGrant.objects.filter(user=leader).delete()
    assert roles() == []


@pytest.mark.django_db(transaction=True)
def test_grants_read_inside_a_transaction_are_not_kept(tree):
    """A change not yet committed, or rolled back, never answers for a later request."""
    user = make_user("13900000087", "冯二")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        RoleGrant.objects.create(
            user=user, role="resident", place=tree.household_a1, path=tree.household_a1.path
        )
        assert [g.place_id for g in current_grants(fresh(user))] == [tree.household_a1.pk]
        raise Undo
    RoleGrant.objects.create(user=user, role="resident", place=tree.household_b1, path=tree.household_b1.path)
    # the same version number as the rolled-back change had, other grants
    assert [g.place_id for g in current_grants(fresh(user))] == [tree.household_b1.pk]


@pytest.mark.django_db(transaction=True)
def test_kept_grants_follow_the_day_and_the_user_object_told_of_a_change_reads_again(tree, time_machine):
    """A grant ending today is gone tomorrow without any write; a user object whose grants this
    process changed (its version now old) reads them from the database."""
    today = timezone.localdate()
    user = make_user("13900000088", "陈三")
    RoleGrant.objects.create(
        user=user, role="resident", place=tree.household_a1, path=tree.household_a1.path, valid_to=today
    )
    loaded = fresh(user)
    assert len(current_grants(fresh(user))) == 1
    time_machine.move_to(timezone.now() + timedelta(days=1))
    assert current_grants(fresh(user)) == []

    admin = make_user("13900000089", "褚四", "system_admin", tree.subdistrict)
    from linjialin.accounts.services import grant_role

    grant_role(admin, user=loaded, role="resident", place=tree.household_b1)
    assert [g.place_id for g in current_grants(loaded)] == [tree.household_b1.pk]
