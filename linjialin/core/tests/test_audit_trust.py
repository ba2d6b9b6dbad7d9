"""The audit trail against someone with database access: the chain is keyed with a secret kept outside
the database, and signed checkpoints of its head, kept outside the database too, pin what was there.

The attack in each test is the one the finding describes: edit an event with raw SQL and recompute
every later link with the project's own hashing code, moving the head — with a wrong key (a keyless
attacker) or with the right one (someone who also read the key file)."""

from __future__ import annotations

import hashlib
import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection

from linjialin.core import audit, audit_checkpoints, audit_key, beat, tasks
from linjialin.core.models import AuditChain, AuditCheck, AuditEvent

pytestmark = pytest.mark.django_db

WRONG_KEY = b"an attacker's guess at the key, 32+ chars"


def _append(n: int) -> None:
    for i in range(n):
        audit.record("test.event", object_type="test", object_id=str(i), path="110112008.", after={"i": i})


def _forge(from_seq: int, key: bytes, *, reason: str = "rewritten") -> None:
    """Edit event `from_seq` with raw SQL, then recompute every later link with core.audit.event_hash
    under `key`, write them back and move the head: a complete rewrite of the chain from there on."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = %s WHERE seq = %s", [reason, from_seq])
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else audit.GENESIS
    for event in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"):
        event.prev_hash = prev
        event.hash = prev = audit.event_hash(event, key)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
    AuditChain.objects.filter(pk=1).update(last_hash=prev)


def test_the_chain_is_keyed_so_a_plain_sha256_chain_is_not_it():
    _append(2)
    first = AuditEvent.objects.get(seq=1)
    plain = hashlib.sha256((first.prev_hash + audit.canonical(first)).encode()).hexdigest()
    assert first.hash != plain
    assert first.hash == audit.event_hash(first, audit_key.key())


def test_a_keyless_rewrite_with_recomputed_hashes_is_named_by_verify():
    """Finding 3: editing an event and recomputing the later hashes with the project's own function
    verified OK. Without the key the recomputed links do not match."""
    _append(10)
    _forge(5, WRONG_KEY)
    result = audit.verify()
    assert (result.ok, result.broken_seq, result.checked) == (False, 5, 4)
    assert "audit key" in result.problem
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().startswith("BROKEN at event #5: ")


def test_a_rewrite_with_the_key_before_the_last_checkpoint_is_caught_by_the_checkpoint():
    _append(10)
    assert audit_checkpoints.check().ok  # checkpoint: event #10
    _forge(5, audit_key.key())
    assert audit.verify().ok  # the key alone cannot tell: the forger holds it
    result = audit_checkpoints.check()
    assert not result.ok
    assert (result.checkpoint_line, result.broken_seq) == (1, 10)
    assert "rewritten" in result.problem
    assert result.message.startswith("BROKEN at checkpoint line 1: event #10 no longer has the hash")
    assert len(audit_checkpoints.read_lines()) == 1  # a broken chain is never checkpointed


def test_a_rewrite_after_the_last_checkpoint_is_caught_by_the_key_not_the_checkpoint():
    _append(10)
    assert audit_checkpoints.check().ok  # checkpoint: event #10
    _append(5)
    _forge(13, WRONG_KEY)
    result = audit_checkpoints.check(since_checkpoint=True)  # the hourly check walks 11..15
    assert (result.ok, result.broken_seq, result.checkpoint_line) == (False, 13, None)


def test_a_rewrite_with_the_key_after_the_last_checkpoint_is_the_window_checkpoints_leave():
    """Someone holding the key who rewrites only events after the last checkpoint is not caught: the
    hourly checkpoint keeps that window to an hour (docs/security.md, the audit trail)."""
    _append(10)
    assert audit_checkpoints.check().ok
    _append(5)
    _forge(13, audit_key.key())
    assert audit_checkpoints.check().ok


def test_removing_the_newest_events_and_moving_the_head_back_is_caught_by_the_checkpoint():
    _append(10)
    assert audit_checkpoints.check().ok
    seventh = AuditEvent.objects.get(seq=7)
    AuditEvent.objects.filter(seq__gt=7).delete()
    AuditChain.objects.filter(pk=1).update(last_seq=7, last_hash=seventh.hash)
    assert audit.verify().ok  # a shorter chain that is consistent in itself
    result = audit_checkpoints.check()
    assert (result.ok, result.checkpoint_line, result.broken_seq) == (False, 1, 10)
    assert "fewer than the 10" in result.problem


def test_an_edited_checkpoint_line_is_named():
    _append(3)
    assert audit_checkpoints.check().ok
    _append(2)
    assert audit_checkpoints.check().ok
    file = audit_checkpoints.path()
    first, second = file.read_text().splitlines()
    file.write_text(first.replace("seq=3 ", "seq=2 ") + "\n" + second + "\n")
    result = audit_checkpoints.check()
    assert (result.ok, result.checkpoint_line) == (False, 1)
    assert "signature does not match" in result.problem


def test_a_checkpoint_kept_elsewhere_catches_a_rewrite_with_the_key_and_a_new_checkpoint_file():
    """The attacker holds the key and rewrites the checkpoint file too; the line the auditor copied
    elsewhere (printed by verify) still names the event."""
    _append(10)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    copied = out.getvalue().splitlines()[1].split(": ", 1)[1]
    _forge(4, audit_key.key())
    audit_checkpoints.path().unlink()
    assert audit_checkpoints.check().ok  # a fresh, self-consistent file
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", "--checkpoint", copied, stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert err.getvalue().startswith("BROKEN at the checkpoint given: event #10 no longer has the hash")


def test_a_checkpoint_signed_with_another_key_is_named(monkeypatch):
    _append(2)
    line = audit_checkpoints.make(2, AuditEvent.objects.get(seq=2).hash).line
    monkeypatch.setenv(audit_key.ENV, WRONG_KEY.decode())
    other = audit_checkpoints.make(2, "0" * 64).line
    monkeypatch.delenv(audit_key.ENV)
    result = audit_checkpoints.check(extra=[line, other])
    assert (result.ok, result.checkpoint_line) == (False, 0)
    assert "another audit key" in result.problem


def test_the_key_comes_from_the_environment_or_a_file_made_on_first_use(settings, tmp_path, monkeypatch):
    monkeypatch.delenv(audit_key.ENV, raising=False)
    settings.AUDIT_KEY_FILE = tmp_path / "audit_key"
    made = audit_key.key()
    assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert len(made) == 64 and audit_key.key() == made
    monkeypatch.setenv(audit_key.ENV, "k" * 40)
    assert audit_key.key() == b"k" * 40
    monkeypatch.setenv(audit_key.ENV, "short")
    with pytest.raises(Exception, match="at least 32"):
        audit_key.key()


def test_every_check_is_recorded_for_the_auditors_home():
    _append(3)
    audit_checkpoints.check()
    ok = audit_checkpoints.latest()
    assert (ok.ok, ok.head_seq, ok.kind) == (True, 3, AuditCheck.Kind.FULL)
    assert ok.checkpoint.startswith("linjialin-audit-checkpoint v1 seq=3 ")
    _forge(2, WRONG_KEY)
    tasks.audit_checkpoint.call()  # the hourly check starts at the checkpoint: event #3 changed
    broken = audit_checkpoints.latest()
    assert (broken.ok, broken.broken_seq, broken.kind) == (False, 3, AuditCheck.Kind.SINCE_CHECKPOINT)
    assert "no longer has the hash" in broken.problem
    assert broken.checkpoint == ""


def test_the_checkpoint_is_written_on_a_schedule():
    job = beat.JOBS["audit_checkpoint"]
    assert job.task is tasks.audit_checkpoint and job.cron.split()[1] == "*"  # every hour
    assert beat.JOBS["audit_verify"].task is tasks.audit_verify


def _rekey():
    migration = importlib.import_module("linjialin.core.migrations.0004_audit_key_and_checks")
    migration.rekey(django_apps, SimpleNamespace(connection=connection))


def _unkeyed(events) -> None:
    """Rewrite the chain as the earlier code wrote it: plain SHA-256."""
    prev = audit.GENESIS
    for event in events:
        event.prev_hash = prev
        prev = hashlib.sha256((prev + audit.canonical(event)).encode()).hexdigest()
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=prev)
    AuditChain.objects.filter(pk=1).update(last_hash=prev)


def test_an_unkeyed_chain_from_before_is_re_keyed_by_the_migration():
    _append(4)
    _unkeyed(list(AuditEvent.objects.order_by("seq")))
    assert not audit.verify().ok
    _rekey()
    assert audit.verify().ok


def test_the_migration_refuses_to_re_key_an_unkeyed_chain_that_was_edited():
    _append(4)
    _unkeyed(list(AuditEvent.objects.order_by("seq")))
    AuditEvent.objects.filter(seq=3).update(reason="edited")
    with pytest.raises(RuntimeError, match="broken at event #3"):
        _rekey()
