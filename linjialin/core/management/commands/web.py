"""`linjialin web`: serve the site with gunicorn (gthread workers) and whitenoise for static files.

Stateless: run one per machine behind nginx. DEBUG is forced off by `linjialin web` / `linjialin up`.
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    return max(2, min(4, (os.cpu_count() or 1)))


class DjangoApplication(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


class Command(BaseCommand):
    help = "Serve the site with gunicorn (gthread) + whitenoise."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("LINJIALIN_BIND", "127.0.0.1:8000"),
            help="host:port (default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_WORKERS", default_workers()))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 4)))
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a stuck worker is restarted"
        )
        parser.add_argument("--no-access-log", action="store_true")

    def handle(self, *args, bind, workers, threads, timeout, no_access_log, **options):
        self.check(display_num_errors=False)
        manifest = settings.STATIC_ROOT / "staticfiles.json"
        if not settings.DEBUG and not manifest.exists():
            call_command("collectstatic", interactive=False, verbosity=0)
        opts = {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": timeout,
            "graceful_timeout": 10,
            "control_socket_disable": True,
            "errorlog": "-",
            "proc_name": "linjialin-web",
        }
        if not no_access_log:
            opts["accesslog"] = "-"
        # Never share a connection across the fork: close them, and close a connection pool too (the
        # system checks above may have opened one; its threads do not survive the fork, and workers
        # that inherited it waited for connections forever). Each worker opens its own on first use.
        connections.close_all()
        for connection in connections.all(initialized_only=True):
            if callable(close_pool := getattr(connection, "close_pool", None)):
                close_pool()
        DjangoApplication(opts).run()
