# ruff: noqa: S603  (runs the PostgreSQL binaries and this interpreter, with fixed arguments)
"""Shared helpers for benchmarks: machine description, result files, a throwaway PostgreSQL cluster.

Benchmarks are scripts, not tests: they print their figures and write bench/results/<name>.md (machine,
data size, method, figures, the baseline measured in the same run) and bench/results/<name>.json
(a flat {figure_with_unit: number} map).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "bench" / "data"  # git-ignored
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def machine_info() -> dict[str, str]:
    info = {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": _cpu_model(),
        "ram": _ram(),
        "os": f"{platform.system()} {platform.release()} ({_os_name()})",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if (PG_BIN / "postgres").exists():
        out = subprocess.run(
            [str(PG_BIN / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
        info["postgresql"] = out.stdout.strip()
    try:
        import django

        info["django"] = django.get_version()
    except ImportError:
        pass
    return info


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram() -> str:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return ""


def machine_markdown(info: dict[str, str] | None = None) -> str:
    info = info or machine_info()
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def write_results(name: str, markdown: str, figures: dict[str, float | int | None]) -> tuple[Path, Path]:
    """Write bench/results/<name>.md and <name>.json (flat figure → number)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    md, js = RESULTS / f"{name}.md", RESULTS / f"{name}.json"
    md.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    js.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run a server command as the `postgres` user (the server refuses to run as root)."""
    if getpass.getuser() == "postgres":
        return cmd
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    raise RuntimeError("run as root (the cluster is started as the postgres user) or as postgres")


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


@contextlib.contextmanager
def throwaway_postgres(dbname: str = "bench") -> Iterator[str]:
    """Create a PostgreSQL cluster in a temp dir, start it on a free loopback port, yield its
    DATABASE_URL, and stop and delete it afterwards (also on errors)."""
    if not postgres_available():
        raise RuntimeError(f"no PostgreSQL server binaries in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="linjialin-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = free_port()
    started = False
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(base / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        started = True
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "createdb") if (PG_BIN / "createdb").exists() else "createdb",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    dbname,
                ]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(base, ignore_errors=True)


def run_python(args: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> str:
    """Run `python args…` with the same interpreter, return stdout; raise with stderr on failure."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
