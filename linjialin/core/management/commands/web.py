"""`linjialin web`: serve the site with gunicorn and whitenoise for static files.

Stateless: run one per machine behind nginx. DEBUG is forced off by `linjialin web` / `linjialin up`.

The workers are uvicorn's (ASGI), serving one small router (`application`):

- the long-lived responses (ASYNC_PATHS: the mutual aid live feed, server-sent events) go to their own
  ASGI app (named by dotted path: core imports no domain app): each open stream is a coroutine waiting
  on a queue, not a thread, so 200 listeners cost no threads and no database connections
  (bench/results/mutual_aid.md);
- every other request goes to Django's WSGI handler on a fixed pool of `--threads` threads per worker
  (a2wsgi), exactly as the gthread workers ran it: the same threads, so persistent database connections
  are reused across requests (Django's ASGI handler would run each sync view on a new thread, with a new
  connection per request — the cost bench/results/requests.md measured away).

`--worker-class gthread` serves everything with gunicorn's gthread workers as before (the live feed then
holds one thread per listener: only for a few).
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker


def default_workers() -> int:
    return max(2, min(4, (os.cpu_count() or 1)))


# paths served by their own ASGI apps (long-lived responses); everything else by the WSGI handler
ASYNC_PATHS = {"/mutual-aid/stream/": "linjialin.mutual_aid.stream.asgi_app"}


def application(threads: int, async_paths: dict[str, str] | None = None):
    """The ASGI app: the paths of `async_paths` to their ASGI apps, other HTTP requests to Django's WSGI
    handler on a fixed pool of `threads` threads (a2wsgi), anything else to Django's ASGI handler."""
    from a2wsgi import WSGIMiddleware
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application
    from django.utils.module_loading import import_string

    wsgi = WSGIMiddleware(get_wsgi_application(), workers=threads)
    asgi = get_asgi_application()
    from django.conf import settings

    own = {}
    for path, dotted in (async_paths or ASYNC_PATHS).items():
        own[path] = import_string(dotted)
        for code, _name in settings.LANGUAGES:  # the same page under a language prefix (i18n_patterns)
            own[f"/{code}{path}"] = own[path]

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "http" and scope["path"] in own:
            await own[scope["path"]](scope, receive, send)
        elif scope["type"] == "http":
            await wsgi(scope, receive, send)
        else:
            await asgi(scope, receive, send)

    return app


# uvicorn rewrites the client address from X-Forwarded-For whenever the peer is 127.0.0.1 (its
# proxy_headers default), proxy or not: a client on the same machine, or behind a proxy that does not
# set the header, could then write any address into the audit trail and the sign-in throttle. The
# address is read in one place instead (core.middleware.client_ip), trusting X-Forwarded-For only when
# LINJIALIN_TRUSTED_PROXIES says how many proxies stand in front.
ASGI_WORKER = "linjialin.core.management.commands.web.UvicornWorkerNoProxyHeaders"


class UvicornWorkerNoProxyHeaders(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "proxy_headers": False}


class DjangoApplication(BaseApplication):
    def __init__(self, options: dict, asgi_threads: int | None = None):
        self.options = options
        self.asgi_threads = asgi_threads
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        if self.asgi_threads:
            return application(self.asgi_threads)
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


class Command(BaseCommand):
    help = (
        "Serve the site with gunicorn (uvicorn workers: ASGI for the live feed, WSGI threads for the rest)."
    )
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
        parser.add_argument(
            "--worker-class",
            choices=["asgi", "gthread"],
            default=os.environ.get("WEB_WORKER_CLASS", "asgi"),
            help="asgi (default: uvicorn workers, the live feed on the event loop) or gthread",
        )

    def handle(self, *args, bind, workers, threads, timeout, no_access_log, worker_class, **options):
        self.check(display_num_errors=False)
        manifest = settings.STATIC_ROOT / "staticfiles.json"
        if not settings.DEBUG and not manifest.exists():
            call_command("collectstatic", interactive=False, verbosity=0)
        opts = {
            "bind": bind,
            "workers": workers,
            "worker_class": ASGI_WORKER if worker_class == "asgi" else "gthread",
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
        DjangoApplication(opts, asgi_threads=threads if worker_class == "asgi" else None).run()
