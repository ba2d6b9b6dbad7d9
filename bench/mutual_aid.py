# ruff: noqa: S310, E501  (urllib against the loopback server this benchmark starts; the report template)
"""Benchmark: the mutual aid live feed — time from post to display with 200 listening clients.

    .venv/bin/python bench/mutual_aid.py [--listeners 200] [--posts 30] [--interval 1.0]
        [--engine postgres|sqlite] [--worker-class asgi|gthread] [--workers 2] [--threads 4]

In a throwaway database (a PostgreSQL cluster started here as the postgres user, or SQLite in a temp
LINJIALIN_VAR) the worker migrates, builds the test place tree and puts listeners + 1 residents in new
households of one entrance (a post starts at its entrance: every listener is in its first reach), each
opted in (services.posts.subscribe, whole community, all categories) and logged in (a session row).
It starts the real server (`linjialin web`, the same command `linjialin up` runs) and:

1. baseline, 1 listener: the poster posts needs (services.posts.create_post, in this process); the
   time from create_post returning (committed) to the listener reading the event, and to the card in
   hand (it comes with a neighbour's event; the author and carers GET it, as live.js does);
2. the listeners connect (raw HTTP/1.1 on asyncio, one connection each, as EventSource holds one);
   ordinary requests while they listen (the card, the open page, /healthz: 40 sequential GETs each)
   against the same with nobody listening; the server's memory (RSS of gunicorn and its workers) and,
   on PostgreSQL, the database connections open, idle and with the listeners;
3. the poster posts `posts` needs `interval` seconds apart (± 25 % jitter): for every (post, listener)
   pair, post → event received and post → card in hand;
4. baseline at the same concurrency: 200 GETs of a card at once, 3 rounds, without a post.

p50/p95 over all deliveries. Writes bench/results/mutual_aid.md and .json. Target: p95 < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    free_port,
    machine_info,
    machine_markdown,
    postgres_available,
    run_python,
    throwaway_postgres,
    write_results,
)

ROOT = Path(__file__).resolve().parent.parent


def q(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000, 1)


def rss_mb(root: int) -> float:
    """Resident memory (MiB) of `root` and its descendants."""
    total, todo = 0, [root]
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(raw[raw.rindex(")") + 2 :].split()[1]), []).append(int(entry.name))
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def threads_of(root: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry.name}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0")) == root or int(entry.name) == root:
            total += int(fields.get("Threads", "0"))
    return total


# --- a raw HTTP/1.1 client on asyncio ----------------------------------------------------------------------
class Feed:
    """One EventSource-like connection: records when each post's event arrived and, if asked, when its card
    was fetched."""

    def __init__(self, port: int, session: str, fetch_cards: bool):
        self.port, self.session, self.fetch_cards = port, session, fetch_cards
        self.events: dict[int, float] = {}
        self.cards: dict[int, float] = {}
        self.card_errors = 0
        self.inline = 0
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            (
                f"GET /mutual-aid/stream/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Cookie: sessionid={self.session}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream answered {status!r}")
        chunked = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                chunked = True
        buffer = b""
        try:
            while True:
                if chunked:
                    size = int((await reader.readline()).strip() or b"0", 16)
                    data = await reader.readexactly(size + 2)
                    data = data[:-2]
                else:
                    data = await reader.read(65536)
                if not data:
                    return
                buffer += data
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    self.ready.set()
                    self._frame(frame.decode())
        finally:
            writer.close()

    def _frame(self, frame: str) -> None:
        for line in frame.splitlines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                post = data["post"]
                now = time.monotonic()
                self.events.setdefault(post, now)
                if data.get("html"):  # the card came with the event (a neighbour's)
                    self.cards.setdefault(post, now)
                    self.inline += 1
                elif self.fetch_cards:
                    asyncio.get_running_loop().create_task(self._card(post))

    async def _card(self, post: int) -> None:
        status, _ms = await get(self.port, f"/mutual-aid/posts/{post}/card/", self.session)
        if status == 200:
            self.cards.setdefault(post, time.monotonic())
        else:
            self.card_errors += 1


async def get(port: int, path: str, session: str | None) -> tuple[int, float]:
    """GET path (Connection: close); returns (status, seconds)."""
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie = f"Cookie: sessionid={session}\r\n" if session else ""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    return status, time.monotonic() - t0


class Loop:
    """An asyncio loop in a thread, for the clients; the poster runs in the main thread (the ORM)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 600):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- the worker: inside the throwaway database --------------------------------------------------------------
def worker(
    listeners: int, posts: int, interval: float, worker_class: str, workers: int, threads: int
) -> dict:
    import subprocess

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0, interactive=False)
    from linjialin.accounts.models import User
    from linjialin.accounts.services import grant_role
    from linjialin.mutual_aid.models import AidRules, Reach
    from linjialin.mutual_aid.services import posts as aid
    from linjialin.places.models import Level
    from linjialin.places.services import new_place
    from linjialin.testing.tree import build_tree

    tree = build_tree()
    rules = AidRules.objects.first() or AidRules()
    rules.posts_per_day = 30000  # one poster posts every need of the run
    rules.save()
    people = []
    for i in range(listeners + 1):
        household = new_place(
            tree.entrance_a,
            level=Level.HOUSEHOLD,
            code=str(1001 + i),
            name=f"{tree.entrance_a.name}{1001 + i}",
            room=str(1001 + i),
            floor=1 + i // 8,
            is_occupied=True,
        )
        household.save()
        user = User.objects.create_user(f"1380{i:07d}", None, display_name=f"邻居{i}")
        grant_role(None, user=user, role="resident", place=household, check=False)
        aid.subscribe(user, active=True, reach=Reach.COMMUNITY, categories=[])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session["last_seen"] = int(time.time())
        session.create()
        people.append((user, household, session.session_key))
    poster, poster_home, poster_session = people[0]
    listening = people[1:]
    vendor = connection.vendor

    def db_connections() -> int | None:
        if vendor != "postgresql":
            return None
        with connection.cursor() as c:
            c.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return c.fetchone()[0]

    connections.close_all()
    port = free_port()
    server = subprocess.Popen(  # noqa: S603  (this interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "linjialin",
            "web",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            worker_class,
            "--no-access-log",
        ],
        env={**os.environ, "DEBUG": "0"},
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    loop = Loop()
    out: dict = {"vendor": vendor, "listeners": listeners, "posts": posts, "worker_class": worker_class}
    out |= {"workers": workers, "threads": threads, "interval_s": interval}
    try:
        import urllib.request

        for _i in range(3000):  # collectstatic into the fresh LINJIALIN_VAR first: minutes on a busy machine
            if server.poll() is not None:
                raise RuntimeError(f"linjialin web exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("linjialin web did not start")
        time.sleep(1)

        def post_need(i: int):
            p = aid.create_post(
                poster,
                household=poster_home,
                kind="need",
                category="errands",
                text=f"谁能帮忙带一袋米上楼 #{i}",
                max_reach=Reach.COMMUNITY,
            )
            t = time.monotonic()
            connections.close_all()
            return p.pk, t

        async def connect(sessions: list[str], fetch_cards: bool) -> list[Feed]:
            feeds = [Feed(port, s, fetch_cards) for s in sessions]
            for f in feeds:
                f.task = asyncio.get_running_loop().create_task(f.run())
            deadline = time.monotonic() + 300
            while not all(f.ready.is_set() for f in feeds):
                for f in feeds:
                    if f.task.done() and not f.ready.is_set():
                        raise RuntimeError(f"a stream failed: {f.task.exception()!r}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{sum(not f.ready.is_set() for f in feeds)} streams not open after 300 s"
                    )
                await asyncio.sleep(0.1)
            return feeds

        async def close(feeds: list[Feed]) -> None:
            for f in feeds:
                f.task.cancel()
            await asyncio.gather(*(f.task for f in feeds), return_exceptions=True)

        def deliveries(feeds: list[Feed], posted: dict[int, float]) -> dict:
            events, cards, missing = [], [], 0
            for f in feeds:
                for post, t0 in posted.items():
                    if post in f.events:
                        events.append(f.events[post] - t0)
                    else:
                        missing += 1
                    if post in f.cards:
                        cards.append(f.cards[post] - t0)
            return {
                "deliveries": len(events),
                "missing": missing,
                "card_errors": sum(f.card_errors for f in feeds),
                "cards_inline": sum(f.inline for f in feeds),
                "event_p50_ms": q(events, 50),
                "event_p95_ms": q(events, 95),
                "event_max_ms": round(max(events) * 1000, 1) if events else None,
                "display_p50_ms": q(cards, 50),
                "display_p95_ms": q(cards, 95),
                "display_max_ms": round(max(cards) * 1000, 1) if cards else None,
            }

        def run_posts(feeds: list[Feed], n: int, tag: str) -> dict:
            posted: dict[int, float] = {}
            rng = random.Random(6)
            for i in range(n):
                pk, t = post_need(i)
                posted[pk] = t
                time.sleep(interval * rng.uniform(0.75, 1.25))
            time.sleep(5)  # the last deliveries
            return deliveries(feeds, posted)

        async def sequential(path: str, session: str | None, n: int) -> list[float]:
            times = []
            for _i in range(n):
                status, seconds = await get(port, path, session)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                times.append(seconds)
            return times

        def ordinary(card: int, tag: str) -> None:
            for name, path, session in (
                ("healthz", "/healthz", None),
                ("card", f"/mutual-aid/posts/{card}/card/", poster_session),
                ("open_page", "/mutual-aid/", poster_session),
            ):
                times = loop.run(sequential(path, session, 40))
                out[f"{tag}_{name}_p50_ms"] = q(times, 50)
                out[f"{tag}_{name}_p95_ms"] = q(times, 95)

        out["load_before"] = round(os.getloadavg()[0], 2)
        out["rss_idle_mb"] = rss_mb(server.pid)
        out["threads_idle"] = threads_of(server.pid)
        out["db_connections_idle"] = db_connections()
        connections.close_all()

        # 1. one listener
        one = loop.run(connect([listening[0][2]], True))
        time.sleep(1)
        out |= {f"one_{k}": v for k, v in run_posts(one, 10, "one").items()}
        loop.run(close(one))
        card, _t = post_need(-1)
        time.sleep(1)
        ordinary(card, "quiet")

        # 2. all listeners
        t0 = time.monotonic()
        feeds = loop.run(connect([s for _u, _h, s in listening], True))
        out["connect_all_s"] = round(time.monotonic() - t0, 2)
        time.sleep(2)
        out["rss_listening_mb"] = rss_mb(server.pid)
        out["threads_listening"] = threads_of(server.pid)
        out["db_connections_listening"] = db_connections()
        connections.close_all()
        ordinary(card, "listening")

        # 3. the posts
        out |= {f"all_{k}": v for k, v in run_posts(feeds, posts, "all").items()}
        out["load_during"] = round(os.getloadavg()[0], 2)

        # 4. the same concurrency without a post: every listener GETs a card at once
        async def burst() -> list[float]:
            results = await asyncio.gather(
                *(get(port, f"/mutual-aid/posts/{card}/card/", s) for _u, _h, s in listening)
            )
            return [t for status, t in results if status == 200]

        bursts: list[float] = []
        for _r in range(3):
            bursts += loop.run(burst())
            time.sleep(1)
        out["burst_card_ok"] = len(bursts)
        out["burst_card_p50_ms"] = q(bursts, 50)
        out["burst_card_p95_ms"] = q(bursts, 95)
        loop.run(close(feeds))
        out["load_after"] = round(os.getloadavg()[0], 2)
    finally:

        async def cancel_all():
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        loop.run(cancel_all(), timeout=30)
        loop.stop()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return out


# --- the driver ----------------------------------------------------------------------------------------------
def run_worker(args, env: dict[str, str]) -> dict:
    argv = [str(Path(__file__).resolve()), "--worker"]
    for name in ("listeners", "posts", "interval", "worker_class", "workers", "threads"):
        argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    out = run_python(argv, env=env, timeout=3600)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--worker-class", choices=["asgi", "gthread"], default="asgi")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--name", default="mutual_aid", help="results file name (bench/results/<name>.md)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(
                worker(
                    args.listeners, args.posts, args.interval, args.worker_class, args.workers, args.threads
                )
            )
        )
        return

    var = tempfile.mkdtemp(prefix="linjialin-aid-bench-")
    env = {"LINJIALIN_VAR": var, "DEBUG": "0"}
    started = time.time()
    if args.engine == "postgres" and postgres_available():
        with throwaway_postgres("aid") as url:
            figures = run_worker(args, {**env, "DATABASE_URL": url})
    else:
        figures = run_worker(args, {**env, "DATABASE_URL": f"sqlite:///{var}/bench.sqlite3"})
    figures["wall_s"] = round(time.time() - started, 1)
    print(json.dumps(figures, indent=2))
    write_results(args.name, report(args, figures), figures)


def report(args, f: dict) -> str:
    target = f.get("all_display_p95_ms")
    met = target is not None and target < 2000 and not f.get("all_missing")
    return f"""# Mutual aid live feed: post to display with {f["listeners"]} listening clients

Target: p95 < 2 s from a post to its display, {f["listeners"]} clients listening, on this machine.
**{"Met" if met else "Not met"}: p95 {f.get("all_display_p95_ms")} ms** post → card shown
(event received: p95 {f.get("all_event_p95_ms")} ms), over {f.get("all_deliveries")} deliveries, {f.get("all_missing")} missing.

## Machine
{machine_markdown(machine_info())}
- load average (1 min): {f.get("load_before")} before, {f.get("load_during")} while posting, {f.get("load_after")} after
  (the machine is shared: other sessions' tests ran at the same time)

## Method
`python bench/mutual_aid.py --listeners {f["listeners"]} --posts {f["posts"]} --interval {f["interval_s"]} \
--engine {args.engine} --worker-class {f["worker_class"]} --workers {f["workers"]} --threads {f["threads"]}`

- Database: {f["vendor"]}, throwaway; the test place tree plus {f["listeners"] + 1} households in one entrance
  (a post starts at its author's entrance: every listener is in its first reach), each resident opted in
  (whole community, all categories) and logged in.
- Server: `linjialin web` (what `linjialin up` runs), {f["workers"]} workers, worker class {f["worker_class"]}
  ({"uvicorn: the stream on the event loop, other requests on " + str(f["threads"]) + " WSGI threads per worker" if f["worker_class"] == "asgi" else "gunicorn gthread, " + str(f["threads"]) + " threads per worker"}).
- Clients: {f["listeners"]} raw HTTP/1.1 connections on asyncio in the benchmark's process, each holding
  `GET /mutual-aid/stream/` open like an EventSource. As live.js: a neighbour's event carries the card
  (rendered once per post by the hub), shown at once ({f.get("all_cards_inline")} of {f.get("all_deliveries")} here); otherwise (the author,
  a carer) the client GETs `/mutual-aid/posts/<id>/card/` first.
- Posts: {f["posts"]} needs by one resident through `services.posts.create_post` in the benchmark's process
  (so the time is taken on the same clock as the clients), {f["interval_s"]} s ± 25 % apart. Post → event:
  from create_post returning (committed) to the client reading the event; post → card shown: to the card
  in hand. p50/p95 over every (post, listener) pair.
- Baselines in the same run: the same with 1 listener; {f["listeners"]} card GETs at once without a post
  (the card fetch alone at the same concurrency); ordinary requests (40 sequential GETs each) with nobody
  listening and with the {f["listeners"]} listeners connected.

## Figures
| | p50 ms | p95 ms | max ms | deliveries |
|---|---:|---:|---:|---:|
| {f["listeners"]} listeners: post → event | {f.get("all_event_p50_ms")} | {f.get("all_event_p95_ms")} | {f.get("all_event_max_ms")} | {f.get("all_deliveries")} |
| {f["listeners"]} listeners: post → card shown | {f.get("all_display_p50_ms")} | {f.get("all_display_p95_ms")} | {f.get("all_display_max_ms")} | |
| 1 listener: post → event | {f.get("one_event_p50_ms")} | {f.get("one_event_p95_ms")} | {f.get("one_event_max_ms")} | {f.get("one_deliveries")} |
| 1 listener: post → card shown | {f.get("one_display_p50_ms")} | {f.get("one_display_p95_ms")} | {f.get("one_display_max_ms")} | |
| baseline: {f["listeners"]} card GETs at once | {f.get("burst_card_p50_ms")} | {f.get("burst_card_p95_ms")} | | {f.get("burst_card_ok")} |

Ordinary requests (40 sequential GETs each), p50 / p95 ms:

| | nobody listening | {f["listeners"]} listening |
|---|---:|---:|
| /healthz | {f.get("quiet_healthz_p50_ms")} / {f.get("quiet_healthz_p95_ms")} | {f.get("listening_healthz_p50_ms")} / {f.get("listening_healthz_p95_ms")} |
| a card | {f.get("quiet_card_p50_ms")} / {f.get("quiet_card_p95_ms")} | {f.get("listening_card_p50_ms")} / {f.get("listening_card_p95_ms")} |
| the open page | {f.get("quiet_open_page_p50_ms")} / {f.get("quiet_open_page_p95_ms")} | {f.get("listening_open_page_p50_ms")} / {f.get("listening_open_page_p95_ms")} |

Server: RSS {f.get("rss_idle_mb")} MiB idle → {f.get("rss_listening_mb")} MiB with {f["listeners"]} listeners;
threads {f.get("threads_idle")} → {f.get("threads_listening")}; database connections
{f.get("db_connections_idle")} → {f.get("db_connections_listening")} (PostgreSQL, pg_stat_activity; none of them
a listener's: the hub's one per worker and the WSGI threads' persistent ones). All {f["listeners"]} connected in
{f.get("connect_all_s")} s. Card errors: {f.get("all_card_errors")}.

## How it works
One hub per server process (linjialin/mutual_aid/stream.py) reads the new FeedEntry rows every 0.4 s —
one query for all listeners — and routes each to the listeners its reach includes (in memory); each
open stream waits on an asyncio queue on the worker's event loop and holds no database connection.
"""


if __name__ == "__main__":
    main()
