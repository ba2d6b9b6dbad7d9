"""`linjialin beat`: enqueue scheduled jobs (core/beat.py) on time. Safe to run more than one."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from linjialin.core import beat


class Command(BaseCommand):
    help = "Run the scheduler: every few seconds, enqueue each registered job whose cron slot is due."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between ticks (default 5)")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument(
            "--list", dest="list_jobs", action="store_true", help="list the registered jobs and exit"
        )

    def handle(self, *args, interval: float, once: bool, list_jobs: bool, **options):
        if list_jobs:
            for job in beat.JOBS.values():
                self.stdout.write(f"{job.name:24} {job.cron:16} {job.task.module_path}")
            return
        stop = threading.Event()

        def _stop(signum, frame):
            stop.set()

        if not once:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            self.stdout.write(f"beat: {len(beat.JOBS)} jobs, tick every {interval:g}s")
        while not stop.is_set():
            close_old_connections()
            try:
                for name in beat.tick():
                    self.stdout.write(f"beat: enqueued {name}")
            except Exception as exc:  # a database hiccup must not kill the scheduler
                self.stderr.write(f"beat: tick failed: {exc!r}")
            if once:
                break
            stop.wait(interval)
        close_old_connections()
