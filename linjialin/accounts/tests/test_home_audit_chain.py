"""The auditor's home shows the state of the audit chain from the last recorded check (the hourly and
nightly jobs, `linjialin audit verify`): when, how many events, OK or which event or checkpoint failed,
and the checkpoint line to keep elsewhere — without walking the chain on each view."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from linjialin.core import audit, audit_checkpoints, tasks


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _chain_block(client) -> str:
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-chain"' in page
    return page.split('data-testid="home-chain"')[1].split("</details>")[0].split('<div class="list-group')[0]


def test_auditor_home_says_the_chain_was_not_checked_yet(tree, auditor, login):
    assert "has not been checked yet" in _chain_block(login(auditor))


def test_auditor_home_shows_the_last_nightly_check_and_its_checkpoint_line(tree, auditor, login):
    for i in range(3):
        audit.record("test.event", object_id=str(i))
    tasks.audit_verify.call()
    check = audit_checkpoints.latest()
    client = login(auditor)  # a login appends more events: the home shows the check, not the chain now
    with CaptureQueriesContext(connection) as ctx:
        block = _chain_block(client)
    assert f"Audit chain intact: {check.head_seq} events" in block
    assert check.checkpoint in block and check.checkpoint.startswith("linjialin-audit-checkpoint v1 ")
    assert not any(
        "core_auditevent" in q["sql"]
        and "ORDER BY" in q["sql"]
        and "seq" in q["sql"]
        and "LIMIT" not in q["sql"]
        for q in ctx.captured_queries
    )  # no walk of the chain


def test_auditor_home_names_the_event_that_failed(tree, auditor, login):
    for i in range(4):
        audit.record("test.event", object_id=str(i))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = 'x' WHERE seq = 3")
    tasks.audit_verify.call()
    block = _chain_block(login(auditor))
    assert "Audit chain broken at event #3" in block and "edited" in block
    assert "linjialin-audit-checkpoint" not in block
