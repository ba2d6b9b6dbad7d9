"""Signed checkpoints of the audit chain's head, kept outside the database, and the check that uses them.

The keyed hash (core.audit.event_hash) stops someone who can write the database but not read the key.
Checkpoints stop more: each is one line — the head's sequence number and hash, the time, the key's
name, and an HMAC over them — appended to `settings.AUDIT_CHECKPOINT_FILE` (var/audit-checkpoints.log)
at every `linjialin audit verify` and by the scheduled check (core/tasks.py). A later check demands
that each checkpointed event still has the hash it had then and that the chain is not shorter than
the last checkpoint. Someone holding the key who rewrites the database can rewrite events after the
last checkpoint only; copying the line somewhere else (it is printed by verify and shown on the
auditor's home) takes the file itself out of their reach: `linjialin audit verify --checkpoint LINE`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import audit, audit_key
from .models import AuditChain, AuditCheck, AuditEvent

PREFIX = "linjialin-audit-checkpoint v1"
_LINE = re.compile(
    rf"^{re.escape(PREFIX)} seq=(?P<seq>\d+) hash=(?P<hash>[0-9a-f]{{64}}) "
    r"at=(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) key=(?P<key>[0-9a-f]{12}) mac=(?P<mac>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # UTC, seconds: 2026-12-07T02:30:00Z
    key: str  # audit_key.key_id() of the key that signed it
    mac: str

    @property
    def message(self) -> str:
        return _message(self.seq, self.hash, self.at, self.key)

    @property
    def line(self) -> str:
        return f"{PREFIX} seq={self.seq} hash={self.hash} at={self.at} key={self.key} mac={self.mac}"


def _message(seq: int, head: str, at: str, key: str) -> str:
    return f"checkpoint|{seq}|{head}|{at}|{key}"  # "checkpoint|": never the text of an event link


def make(seq: int, head: str, at: datetime | None = None) -> Checkpoint:
    stamp = (at or timezone.now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    kid = audit_key.key_id()
    return Checkpoint(seq, head, stamp, kid, audit_key.sign(_message(seq, head, stamp, kid)))


def parse(line: str) -> Checkpoint | None:
    m = _LINE.match(line.strip())
    if m is None:
        return None
    return Checkpoint(int(m["seq"]), m["hash"], m["at"], m["key"], m["mac"])


def path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def write(checkpoint: Checkpoint) -> None:
    """Append one line (O_APPEND: one write of a short line, never interleaved with another writer's)."""
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (checkpoint.line + "\n").encode())
    finally:
        os.close(fd)


def read_lines() -> list[str]:
    try:
        return path().read_text().splitlines()
    except FileNotFoundError:
        return []


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    checked: int  # events walked
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    checkpoint_line: int | None = None  # 1-based line of the checkpoint file (0: the line given)
    problem: str = ""
    checkpoint: Checkpoint | None = None  # written when OK

    @property
    def message(self) -> str:
        if self.ok:
            return f"OK: {self.head_seq} events"
        if self.checkpoint_line is not None:
            where = (
                "the checkpoint given"
                if self.checkpoint_line == 0
                else f"checkpoint line {self.checkpoint_line}"
            )
            return f"BROKEN at {where}: {self.problem}"
        return f"BROKEN at event #{self.broken_seq}: {self.problem}"


def _check_checkpoints(lines: list[tuple[int, str]], head_seq: int) -> tuple[int, int | None, str] | None:
    """The first checkpoint that fails: (line number, event, problem), or None. Each must be readable,
    signed with the current key, still match the event it names, and name no event beyond the head."""
    kid = audit_key.key_id()
    points = []
    for number, text in lines:
        if not text.strip():
            continue
        cp = parse(text)
        if cp is None:
            return number, None, "the line is not a checkpoint (edited?)"
        if cp.key != kid:
            return number, None, f"signed with another audit key ({cp.key}, the key here is {kid})"
        if not audit_key.constant_equal(audit_key.sign(cp.message), cp.mac):
            return number, None, "its signature does not match (the line was edited)"
        points.append((number, cp))
    hashes = {}
    seqs = sorted({cp.seq for _n, cp in points if cp.seq})
    for start in range(0, len(seqs), 1000):
        part = seqs[start : start + 1000]
        hashes.update(AuditEvent.objects.filter(seq__in=part).values_list("seq", "hash"))
    for number, cp in points:
        if cp.seq > head_seq or (cp.seq and cp.seq not in hashes):
            return (
                number,
                cp.seq,
                (
                    f"the chain has {head_seq} events, fewer than the {cp.seq} of this checkpoint ({cp.at}): "
                    "events were removed"
                ),
            )
        if cp.seq and hashes[cp.seq] != cp.hash:
            return (
                number,
                cp.seq,
                (
                    f"event #{cp.seq} no longer has the hash it had at this checkpoint ({cp.at}): "
                    "the chain was rewritten"
                ),
            )
    return None


def _last_good(lines: list[str]) -> Checkpoint | None:
    kid = audit_key.key_id()
    for text in reversed(lines):
        cp = parse(text)
        if cp is not None and cp.key == kid and audit_key.constant_equal(audit_key.sign(cp.message), cp.mac):
            return cp
    return None


def check(
    *, since_checkpoint: bool = False, extra: list[str] = (), write_checkpoint: bool = True
) -> CheckResult:
    """Verify the chain (links and keyed hashes: the whole chain, or only after the last checkpoint
    with `since_checkpoint`) and every checkpoint in the file plus the lines in `extra` (copied from
    elsewhere); when all is well append a checkpoint of the head. Records the outcome (AuditCheck) for
    the auditor's home."""
    head = AuditChain.objects.filter(pk=1).first()
    head_seq = head.last_seq if head else 0
    lines = read_lines()
    after = None
    if since_checkpoint and (cp := _last_good(lines)) is not None and cp.seq <= head_seq:
        after = (cp.seq, cp.hash)
    result = audit.verify(after=after, upto=head_seq)
    if not result.ok:
        outcome = CheckResult(False, result.checked, head_seq, "", result.broken_seq, None, result.problem)
    else:
        numbered = [(0, text) for text in extra] + list(enumerate(lines, 1))
        failed = _check_checkpoints(numbered, head_seq)
        if failed is not None:
            number, seq, problem = failed
            outcome = CheckResult(False, result.checked, head_seq, result.last_hash, seq, number, problem)
        else:
            checkpoint = make(head_seq, result.last_hash)
            if write_checkpoint:
                write(checkpoint)
            outcome = CheckResult(True, result.checked, head_seq, result.last_hash, checkpoint=checkpoint)
    _record(outcome, since_checkpoint, write_checkpoint)
    return outcome


def _record(outcome: CheckResult, since_checkpoint: bool, written: bool) -> None:
    with transaction.atomic():
        AuditCheck.objects.create(
            at=timezone.now(),
            kind=AuditCheck.Kind.SINCE_CHECKPOINT if since_checkpoint else AuditCheck.Kind.FULL,
            ok=outcome.ok,
            checked=outcome.checked,
            head_seq=outcome.head_seq,
            head_hash=outcome.head_hash,
            broken_seq=outcome.broken_seq,
            checkpoint_line=outcome.checkpoint_line,
            problem=outcome.problem[:500],
            checkpoint=outcome.checkpoint.line if outcome.checkpoint and written else "",
        )


def latest() -> AuditCheck | None:
    """The last check recorded (the auditor's home)."""
    return AuditCheck.objects.order_by("-at", "-pk").first()
