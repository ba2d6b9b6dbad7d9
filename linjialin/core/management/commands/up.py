"""`linjialin up`: web + task worker + beat under one small supervisor.

Runs `migrate` and `collectstatic` first (both idempotent and quick when nothing changed), starts the
three as child processes, prefixes their output (`web | …`), and stops all of them on Ctrl-C or
SIGTERM. If one child dies, the others are stopped too and `up` exits non-zero, so a process manager
(systemd, docker) notices and restarts the whole thing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

STOP_TIMEOUT = 15  # seconds a child gets between SIGTERM and SIGKILL


try:  # Linux: ask the kernel to SIGTERM a child if the supervisor itself is killed (-9)
    import ctypes

    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None
PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)


def _child_setup() -> None:  # runs in the child between fork and exec: keep it to one C call
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, _SIGTERM)


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], out=sys.stdout):
        self.commands = commands
        self.out = out
        self.procs: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.pumps: list[threading.Thread] = []
        self.stopping = threading.Event()

    def say(self, name: str, line: str) -> None:
        with self.lock:
            self.out.write(f"{name:6}| {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        for line in iter(proc.stdout.readline, b""):
            self.say(name, line.decode("utf-8", "replace"))

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DEBUG": "0"}
        for name, argv in self.commands.items():
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                process_group=0,  # own group: a terminal Ctrl-C reaches only us; we stop children in order
                preexec_fn=_child_setup,
            )
            self.procs[name] = proc
            self.say("up", f"started {name} (pid {proc.pid})")
            pump = threading.Thread(target=self._pump, args=(name, proc), daemon=True)
            pump.start()
            self.pumps.append(pump)

    def wait(self) -> int:
        """Block until a signal arrives (exit 0) or a child dies (exit non-zero)."""
        while not self.stopping.is_set():
            for name, proc in self.procs.items():
                code = proc.poll()
                if code is not None:
                    self.say("up", f"{name} exited with code {code}; stopping the others")
                    self.stop()
                    return code or 1
            self.stopping.wait(0.2)
        self.stop()
        return 0

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        started = time.monotonic()
        deadline = started + STOP_TIMEOUT
        for name, proc in self.procs.items():
            try:
                code = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("up", f"{name} did not stop in {STOP_TIMEOUT}s; killing it")
                proc.kill()
                code = proc.wait()
            self.say("up", f"{name} stopped (code {code}, {time.monotonic() - started:.1f}s)")
        for pump in self.pumps:
            pump.join(timeout=2)


def collectstatic_if_changed() -> bool:
    """collectstatic, unless the static sources are exactly as they were at the last run (then ~50 ms)."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    stamp = Path(settings.STATIC_ROOT) / ".sources.sha256"
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest.hexdigest())
    return True


class Command(BaseCommand):
    help = "Run web (gunicorn), the task worker and beat together; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("LINJIALIN_BIND", "127.0.0.1:8000"),
            help="host:port (default 127.0.0.1:8000)",
        )
        parser.add_argument("--workers", type=int, default=None, help="gunicorn worker processes")
        parser.add_argument(
            "--no-migrate", action="store_true", help="skip migrate (when the caller just ran it)"
        )

    def handle(self, *args, bind: str, workers: int | None, no_migrate: bool, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        collectstatic_if_changed()
        connections.close_all()
        me = [sys.executable, "-m", "linjialin"]
        web = [*me, "web", "--bind", bind] + (["--workers", str(workers)] if workers else [])
        supervisor = Supervisor(
            {"web": web, "worker": [*me, "worker"], "beat": [*me, "beat"]}, out=self.stdout
        )

        def _on_signal(signum, frame):
            supervisor.stopping.set()

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        supervisor.start()
        self.stdout.write(f"邻家邻 is running at http://{bind}/  (Ctrl-C stops)")
        code = supervisor.wait()
        if code:
            sys.exit(code)
        self.stdout.write("stopped")
