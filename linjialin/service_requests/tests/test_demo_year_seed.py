"""The demo year is deterministic by seed: the same seed replays the same requests, steps and ratings."""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from linjialin.places import demo as places_demo
from linjialin.places.models import Level, Place
from linjialin.service_requests import demo, demo_year
from linjialin.service_requests.models import CallBack, RequestEvent, ServiceRequest

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo's logins, made quickly


def _digest(rows) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode())
    return h.hexdigest()


def _restart_sequences() -> None:
    """PostgreSQL does not roll sequences back: set each to its table's highest id again, so that a
    replay draws the same ids (a request number ends in one, and the call-back sample is picked by it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def _year(seed: int, now) -> tuple[str, dict]:
    """A two-community demo with a thin year of requests; rolled back so that the next starts empty."""
    _restart_sequences()
    with transaction.atomic():
        places_demo.load_demo(seed=seed, communities=2, progress=False)
        subdistrict = Place.objects.get(level=Level.SUBDISTRICT)
        demo.load_units(subdistrict)
        counts = demo_year.load(subdistrict, seed=seed, now=now, per_household=0.01)
        # a request number ends in a serial drawn from the id sequence, which PostgreSQL does not roll
        # back: each request is named by its place in the year instead
        requests = list(
            ServiceRequest.objects.order_by("number").values_list(
                "number", "place__path", "category__code", "requester__mobile", "state", "level",
                "unit__code", "handler__mobile", "submitted_at", "resolved_at", "satisfaction",
                "reopen_count", "merged_into__number", "description", "result",
            )
        )  # fmt: skip
        ordinal = {row[0]: i for i, row in enumerate(requests)}
        events = RequestEvent.objects.order_by("request__number", "at", "kind", "actor__mobile").values_list(
            "request__number", "kind", "at", "actor__mobile", "note"
        )
        calls = CallBack.objects.order_by("request__number", "reason", "pk").values_list(
            "request__number", "reason", "attempts", "outcome", "caller__mobile", "satisfaction"
        )
        digest = _digest(
            [
                *((ordinal[r[0]], *r[1:12], ordinal.get(r[12]), *r[13:]) for r in requests),
                *((ordinal[e[0]], *e[1:]) for e in events),
                *((ordinal[c[0]], *c[1:]) for c in calls),
            ]
        )
        transaction.set_rollback(True)
    return digest, counts


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_the_same_seed_replays_the_same_year_and_another_seed_does_not(db):
    now = timezone.now()
    first, counts = _year(11, now)
    assert counts["requests"] > 20 and counts["rated"] > 0 and counts["escalated"] > 0
    # requests without a requester login (代报, patrol, phone) and silent residents are called back by
    # staff who did not handle them; each month a sample of rated requests is called back too
    assert counts["called_back"] > 0 and counts["sample_called"] > 0
    assert not ServiceRequest.objects.exists()
    assert _year(11, now) == (first, counts)
    assert _year(12, now)[0] != first
