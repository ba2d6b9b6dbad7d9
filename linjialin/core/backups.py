"""Backups of the whole database and restores from them, on both engines (`linjialin backup|restore`).

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while the
site keeps writing (WAL readers are not blocked). PostgreSQL: `pg_dump -Fc` (one consistent snapshot,
compressed, restorable table by table) and `pg_restore --single-transaction`, so a failed restore
leaves the target as it was. Point-in-time recovery for PostgreSQL is a server setting, not this
module: see docs/security.md (backups).

A restore goes into the configured database (DATABASE_URL) and refuses one that already holds tables
unless asked to replace it: restoring over live data by mistake is the accident to prevent.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    size: int


def engine() -> str:
    return connection.vendor  # "sqlite" or "postgresql"


def default_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if engine() == "sqlite" else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"linjialin-{stamp}.{suffix}"


# --- PostgreSQL client programs ---------------------------------------------------------------------
def pg_program(name: str) -> str:
    """`pg_dump` / `pg_restore`: from PG_BIN, else the newest /usr/lib/postgresql/*/bin (a pg_dump older
    than the server refuses to dump), else PATH."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")],
        reverse=True,
    )
    candidates += versions
    for folder in candidates:
        program = folder / name
        if program.is_file() and os.access(program, os.X_OK):
            return str(program)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client or set PG_BIN")
    return found


def _pg_args_env(alias: str = "default") -> tuple[list[str], dict[str, str]]:
    params = connections[alias].settings_dict
    args = ["--dbname", params["NAME"]]
    if params.get("HOST"):
        args += ["--host", params["HOST"]]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    if params.get("USER"):
        args += ["--username", params["USER"]]
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]  # not on the command line, where `ps` would show it
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


# --- backup -----------------------------------------------------------------------------------------
def backup(path: Path | str | None = None) -> BackupResult:
    """Write a consistent copy of the database to `path` (a new file; never overwrites one)."""
    target = Path(path) if path else default_path()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")  # a crash mid-copy leaves no file that looks whole
    partial.unlink(missing_ok=True)
    try:
        if engine() == "sqlite":
            connection.ensure_connection()
            destination = sqlite3.connect(partial)
            try:
                connection.connection.backup(destination)
            finally:
                destination.close()
        elif engine() == "postgresql":
            args, env = _pg_args_env()
            _run([pg_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args], env)
        else:
            raise BackupError(f"no backup for the {engine()} engine")
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, engine(), target.stat().st_size)


# --- restore ----------------------------------------------------------------------------------------
def has_tables() -> bool:
    return bool(connection.introspection.table_names())


def restore(path: Path | str, *, replace: bool = False) -> None:
    """Load a backup into the configured database. Refuses a database with tables unless `replace`."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    if has_tables() and not replace:
        raise BackupError(
            "the database is not empty; restore into a fresh database, or pass --replace to overwrite it"
        )
    if engine() == "sqlite":
        _check_sqlite_file(source)
        connection.ensure_connection()
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db:
            backup_db.backup(connection.connection)
        connection.close()  # the next query opens a fresh connection onto the restored pages
    elif engine() == "postgresql":
        if source.read_bytes()[:5] != b"PGDMP":
            raise BackupError(f"{source} is not a pg_dump custom-format file (a SQLite backup?)")
        args, env = _pg_args_env()
        connection.close()
        command = [pg_program("pg_restore"), "--single-transaction", "--no-owner", "--exit-on-error"]
        if replace:
            command += ["--clean", "--if-exists"]
        _run([*command, *args, str(source)], env)
    else:
        raise BackupError(f"no restore for the {engine()} engine")


def _check_sqlite_file(source: Path) -> None:
    with source.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{source} is not a SQLite database (a PostgreSQL dump?)")


def table_counts() -> dict[str, int]:
    """Rows per table of the configured database (for the restore report and the round-trip test)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts
