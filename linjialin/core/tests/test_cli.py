"""The `linjialin` command: audit verify, production settings, the `up` supervisor, generated docs."""

import importlib.util
import io
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from linjialin import __main__ as cli
from linjialin.core import audit

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 300  # seconds; a bound on waiting (it migrates first), not an assertion about speed


def production_env(var_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "LINJIALIN_"))}
    env.update(
        DEBUG="0",
        LINJIALIN_HTTPS="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        LINJIALIN_VAR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


def linjialin(*args, env, timeout=120):
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "linjialin", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- audit verify ----------------------------------------------------------------------------------


def test_audit_verify_reports_ok_on_an_intact_chain(db):
    for i in range(3):
        audit.record(f"test.event{i}")
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    first, second = out.getvalue().strip().splitlines()
    assert first == "OK: 3 events"
    assert second.startswith("checkpoint (keep a copy elsewhere): linjialin-audit-checkpoint v1 seq=3 ")


def test_audit_verify_points_at_a_row_edited_with_raw_sql(db):
    for i in range(3):
        audit.record(f"test.event{i}")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action='x' WHERE seq=2")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    assert err.getvalue().startswith("BROKEN at event #2: ")
    assert "OK" not in out.getvalue()


def test_audit_verify_reports_a_deleted_row(db):
    for i in range(3):
        audit.record(f"test.event{i}")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq=2")
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stderr=err)
    assert err.getvalue().startswith("BROKEN at event #2: ")


# --- the console command ---------------------------------------------------------------------------


def test_dashed_command_names_map_to_django_names(capsys, db):  # system checks may query the DB
    cli.main(["linjialin", "beat", "--list"])
    assert "audit_verify" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # django-tasks-db's prune_db_task_results
        cli.main(["linjialin", "prune-db-task-results", "--help"])
    assert "--min-age-days" in capsys.readouterr().out


# --- production settings ---------------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = linjialin("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_without_https_settings(tmp_path):
    result = linjialin(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path, LINJIALIN_HTTPS="0")
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def test_secret_key_is_generated_once_into_var(tmp_path, monkeypatch):
    from linjialin import settings as project_settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path)
    first = project_settings._secret_key()
    second = project_settings._secret_key()
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert project_settings._secret_key() == "from-the-environment"


# --- `linjialin up` --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def up_var(tmp_path_factory):
    return tmp_path_factory.mktemp("up-var")


class Up:
    """`linjialin up` on a free loopback port, its log in a file."""

    def __init__(self, var_dir: Path):
        self.port = free_port()
        self.log = var_dir / f"up-{self.port}.log"
        env = production_env(var_dir, LINJIALIN_HTTPS="0", WEB_WORKERS="1")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "linjialin", "up", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def output(self) -> str:
        return self.log.read_text()

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"linjialin up did not serve within {START_TIMEOUT}s:\n{self.output()}")

    def children(self) -> dict[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = dict(re.findall(r"started (\w+) \(pid (\d+)\)", self.output()))
            if len(found) == 3:
                return {name: int(pid) for name, pid in found.items()}
            time.sleep(0.2)
        pytest.fail(self.output())

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"linjialin up did not stop:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def up(up_var):
    started = []

    def _start():
        started.append(Up(up_var))
        return started[-1]

    yield _start
    for u in started:
        u.stop()
        for pid in dict(re.findall(r"started (\w+) \(pid (\d+)\)", u.output())).values():
            if alive(int(pid)):
                os.kill(int(pid), signal.SIGKILL)


@pytest.mark.xdist_group("linjialin-up")
def test_up_serves_health_check_and_login_then_stops_on_sigterm(up):
    server = up()
    server.wait_until_serving()
    children = server.children()
    assert server.get("/healthz") == (200, "ok")
    status, body = server.get("/accounts/login/")
    assert status == 200 and "/static/" in body  # DEBUG off: hashed names from whitenoise's manifest
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0, server.output()
    assert [name for name, pid in children.items() if alive(pid)] == []


def test_the_supervisor_stops_everything_and_fails_when_one_process_dies():
    """What `up` does when a child dies (its children here are sleepers: the real three start in the
    test above, which is slow; the supervision is the same)."""
    from linjialin.core.management.commands.up import Supervisor

    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    out = io.StringIO()
    supervisor = Supervisor({"web": sleeper, "worker": sleeper, "beat": sleeper}, out=out)
    supervisor.start()
    try:
        os.kill(supervisor.procs["worker"].pid, signal.SIGKILL)
        assert supervisor.wait() == -signal.SIGKILL  # non-zero: `up` exits with it
        assert "worker exited with code -9; stopping the others" in out.getvalue()
        assert [name for name, proc in supervisor.procs.items() if proc.poll() is None] == []
    finally:
        for proc in supervisor.procs.values():
            if proc.poll() is None:
                proc.kill()


# --- generated docs --------------------------------------------------------------------------------


def test_roles_doc_is_generated_from_the_roles_table():
    """docs/roles.md is exactly what scripts/gen_docs.py writes from ROLES (`make docs`)."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    generated = gen_docs.render()
    assert (ROOT / "docs" / "roles.md").read_text() == generated, "docs/roles.md is stale: run `make docs`"
    for code in ("resident", "entrance_leader", "community_worker", "system_admin", "places.unmask"):
        assert f"`{code}`" in generated
    requests_doc = gen_docs.render_requests()
    assert (ROOT / "docs" / "service_requests.md").read_text() == requests_doc, "run `make docs`"
    assert "| `accept` |" in requests_doc and "stateDiagram-v2" in requests_doc
    mediation_doc = gen_docs.render_mediation()
    assert (ROOT / "docs" / "mediation_states.md").read_text() == mediation_doc, "run `make docs`"
    assert "| `close` |" in mediation_doc and "`not_accepted`" in mediation_doc
