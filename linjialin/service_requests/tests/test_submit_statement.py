"""How a submission is written (services._insert_submitted): the request, its number, its timeline and its
audit event together or not at all. On PostgreSQL outside a transaction that is one statement with no
transaction of its own; the audit event is numbered and hashed by the database at the chain head, with the
request's id and number filled in, and the chain verifies."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linjialin.core import audit
from linjialin.core.models import AuditChain, AuditEvent
from linjialin.service_requests.models import RequestEvent, ServiceRequest
from linjialin.testing.concurrency import at_once, outcomes

from .test_workflow import submit

POSTGRES = connection.vendor == "postgresql"


def the_submitted_event(req: ServiceRequest) -> AuditEvent:
    return AuditEvent.objects.get(action="request.submitted", object_id=str(req.pk))


def assert_written_whole(req: ServiceRequest) -> None:
    stored = ServiceRequest.objects.get(pk=req.pk)
    assert stored.number == req.number and req.number.endswith(f"{req.pk:06d}")
    assert list(RequestEvent.objects.filter(request=req).values_list("kind", flat=True)) == ["submitted"]
    event = the_submitted_event(req)
    assert (event.object_type, event.object_repr, event.path) == (
        "service_requests.servicerequest",
        req.number,
        req.path,
    )
    assert event.after == {"channel": "resident", "level": req.level}
    assert event.hash == audit.event_hash(event)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_submission_is_one_statement_written_whole(tree, resident_a):
    with CaptureQueriesContext(connection) as ctx:
        req = submit(resident_a, tree.household_a1, category=None)
    writes = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SELECT")]
    if POSTGRES:
        assert len(writes) == 1 and writes[0].startswith("WITH s AS")  # no BEGIN, no COMMIT
    assert_written_whole(req)
    # what the service returns is what was stored: the audit event's id, number and hash
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_with_no_chain_head_yet_the_head_is_made_and_nothing_is_written_twice(tree, resident_a):
    AuditChain.objects.all().delete()
    AuditEvent.objects.all().delete()
    req = submit(resident_a, tree.household_a1, category=None)
    assert_written_whole(req)
    assert ServiceRequest.objects.count() == 1 and RequestEvent.objects.count() == 1
    assert AuditChain.objects.get(pk=1).last_seq == AuditEvent.objects.count() == 1 and audit.verify().ok


@pytest.mark.django_db
def test_a_hash_the_database_computes_otherwise_refuses_the_submission_in_a_transaction(
    tree, resident_a, monkeypatch
):
    """Python checks the database's hash of the audit event; in a transaction the mismatch writes nothing
    (alone, the one statement has committed when the check runs: the error names the event)."""
    monkeypatch.setattr(audit, "event_hash", lambda event: "0" * 64)
    if not POSTGRES:  # Python hashes the event itself: there is no other hash to disagree with
        assert submit(resident_a, tree.household_a1, category=None).pk is not None
        return
    with pytest.raises(RuntimeError, match="hash"), transaction.atomic():
        submit(resident_a, tree.household_a1, category=None)
    assert not ServiceRequest.objects.exists() and not RequestEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="request.submitted").exists()


@pytest.mark.django_db
def test_text_that_looks_like_a_placeholder_is_hashed_as_written(tree, resident_a):
    """The database fills the request's id and number into the audit event where placeholders stand;
    a name that looks like one is not a placeholder (they are random per submission)."""
    resident_a.display_name = "[id:00000000000000000000000000000000]"
    req = submit(resident_a, tree.household_a1, category=None)
    event = the_submitted_event(req)
    assert event.actor_name == "[id:00000000000000000000000000000000]" and event.object_id == str(req.pk)
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_submissions_at_once_each_get_their_own_audit_event_and_the_chain_verifies(
    tree, resident_a, resident_b
):
    per_thread = 15

    def resident(user, place):
        def run():
            for i in range(per_thread):
                submit(user, place, category=None, description=f"楼道灯坏了 {i}", client_token=f"t-{i}")

        return run

    done = at_once(
        resident(resident_a, tree.household_a1), resident(resident_b, tree.household_b1), timeout=120
    )
    assert outcomes(done) == ["ok", "ok"]
    requests = list(ServiceRequest.objects.all())
    assert len(requests) == 2 * per_thread and len({r.number for r in requests}) == 2 * per_thread
    for req in requests:
        assert_written_whole(req)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert audit.verify().ok


@pytest.mark.django_db
def test_the_submission_statement_is_converted_once_per_process(tree, resident_a, monkeypatch):
    """psycopg keeps a query's conversion ($1, $2 … for %s) only up to a number of parameters that the
    submission's one statement exceeds; settings raise it, or every submission would parse it again.
    SQLite has no such statement: several plain ones in a transaction."""
    if not POSTGRES:
        with CaptureQueriesContext(connection) as ctx:
            submit(resident_a, tree.household_a1, category=None)
        assert len([q for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]) >= 3
        return
    from psycopg import _queries

    submit(resident_a, tree.household_a1, category=None, description="楼道灯坏了", client_token="a")  # noqa: S106
    converted_again = []
    uncached = _queries._query2pg_nocache
    monkeypatch.setattr(
        _queries, "_query2pg_nocache", lambda *a, **kw: converted_again.append(a[0]) or uncached(*a, **kw)
    )
    with CaptureQueriesContext(connection) as ctx:
        submit(resident_a, tree.household_a1, category=None, description="楼梯扶手松了", client_token="b")  # noqa: S106
    assert any(q["sql"].startswith("WITH s AS") for q in ctx.captured_queries)
    assert converted_again == []
