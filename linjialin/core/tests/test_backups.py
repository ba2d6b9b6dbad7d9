"""`linjialin backup` / `linjialin restore`: a round trip into a fresh database keeps every row and an
audit trail that verifies, on whichever engine the suite runs (SQLite, and PostgreSQL in `make test`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from linjialin.core import audit, backups
from linjialin.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)  # the backup must see committed rows

ROOT = Path(__file__).resolve().parents[3]


class FreshDatabase:
    """An empty database of the suite's engine, reachable by URL from a child process."""

    def __init__(self, tmp_path: Path):
        self.name = f"restore_{uuid.uuid4().hex[:10]}"
        params = connection.settings_dict
        if connection.vendor == "sqlite":
            self.file = tmp_path / f"{self.name}.sqlite3"
            self.url = f"sqlite:///{self.file}"
        else:
            self.params = params
            self.url = f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:{params['PORT']}/{self.name}"
            self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, sql: str, dbname: str = "postgres"):
        import psycopg

        p = self.params
        with psycopg.connect(
            host=p["HOST"],
            port=p["PORT"],
            user=p["USER"],
            password=p["PASSWORD"],
            dbname=dbname,
            autocommit=True,
        ) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if sql.startswith("SELECT") else None

    def counts(self) -> dict[str, int]:
        tables = [t for t in backups.table_counts()]
        if connection.vendor == "sqlite":
            with sqlite3.connect(self.file) as db:
                return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        return {t: self._admin(f'SELECT COUNT(*) FROM "{t}"', self.name)[0][0] for t in tables}  # noqa: S608

    def drop(self):
        if connection.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        # the child checks the restored chain against this test's own checkpoints (testing/plugin.py),
        # not against whatever other databases wrote into var/
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "PYTHONPATH": str(ROOT),
            "LINJIALIN_AUDIT_CHECKPOINTS": str(settings.AUDIT_CHECKPOINT_FILE),
        }
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "linjialin", *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture
def fresh(tmp_path):
    db = FreshDatabase(tmp_path)
    yield db
    db.drop()


def _some_history(tree, community_worker):
    for i in range(5):
        audit.record("calendar.day_saved", actor=community_worker, obj=tree.entrance_a, after={"i": i})


def test_backup_then_restore_into_a_fresh_database_keeps_rows_and_audit_chain(
    tree, community_worker, tmp_path, fresh
):
    _some_history(tree, community_worker)
    before = backups.table_counts()
    target = tmp_path / ("db.sqlite3" if connection.vendor == "sqlite" else "db.dump")
    call_command("backup", str(target))
    assert target.is_file() and target.stat().st_size > 0
    assert AuditEvent.objects.filter(action="system.backup_created").count() == 1  # the backup is audited

    done = fresh.run("restore", str(target))
    assert done.returncode == 0, done.stderr
    assert "audit verify OK" in done.stdout
    after = fresh.counts()
    expected = {**before, "core_auditevent": before["core_auditevent"] + 1}  # plus the restore's own event
    assert after == expected
    assert before["places_resident"] > 0 and before["core_auditevent"] >= 5

    verify = fresh.run("audit", "verify")  # the public check, in the restored database
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("OK")


def test_restore_refuses_a_database_that_already_holds_data(tree, tmp_path):
    target = tmp_path / "copy.bak"
    call_command("backup", str(target))
    rows = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(target))
    assert AuditEvent.objects.count() == rows  # nothing written, not even an audit event


def test_backup_never_overwrites_an_existing_file(db, tmp_path):
    target = tmp_path / "exists.bak"
    target.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(target))
    assert target.read_bytes() == b"keep me"


def test_restore_refuses_a_file_that_is_no_backup_of_this_engine(tmp_path, fresh):
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"hello, not a database")
    done = fresh.run("restore", str(junk))
    assert done.returncode != 0
    assert "is not a" in done.stderr
