"""How a submission is written (services._insert_submitted): the request, its number, its timeline and its
audit event together or not at all, by the same statements on SQLite and PostgreSQL (one write path, the
audit event hashed in Python by core.audit.event_hash), and the chain verifies."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linjialin.core import audit
from linjialin.core.models import AuditChain, AuditEvent
from linjialin.service_requests.models import RequestEvent, RequestHolding, ServiceRequest
from linjialin.testing.concurrency import at_once, outcomes

from .test_workflow import submit


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


def _writes(ctx) -> list[str]:
    """The kinds of write statements (INSERT INTO t / UPDATE t), tables by name, in order."""
    shapes = []
    for q in ctx.captured_queries:
        m = re.match(r'\s*(INSERT INTO|UPDATE)\s+"?(\w+)"?', q["sql"])
        if m:
            shapes.append(f"{m[1]} {m[2]}")
    return shapes


@pytest.mark.django_db(transaction=True)
def test_a_submission_is_the_same_plain_writes_on_every_engine(tree, resident_a):
    """One write path: no statement computes the audit hash in SQL; the writes are the request, its
    number, its timeline, its first holder, then the audit event and the chain head."""
    with CaptureQueriesContext(connection) as ctx:
        req = submit(resident_a, tree.household_a1, category=None)
    assert _writes(ctx) == [
        "INSERT INTO service_requests_servicerequest",
        "UPDATE service_requests_servicerequest",
        "INSERT INTO service_requests_requestevent",
        *(["INSERT INTO service_requests_requestholding"] if RequestHolding.objects.exists() else []),
        "INSERT INTO core_auditevent",
        "UPDATE core_auditchain",
    ]
    assert not any("sha256" in q["sql"] or q["sql"].startswith("WITH") for q in ctx.captured_queries)
    assert_written_whole(req)
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
def test_a_failing_audit_append_leaves_no_request_behind(tree, resident_a, monkeypatch):
    """The audit event is the last write of the transaction: if it fails, nothing of the request stays."""

    def broken(event):
        raise RuntimeError("the audit chain is unavailable")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError, match="audit chain"), transaction.atomic():
        submit(resident_a, tree.household_a1, category=None)
    assert not ServiceRequest.objects.exists() and not RequestEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="request.submitted").exists()


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
