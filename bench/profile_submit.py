"""Profile one submission over the API in-process (Django test client): queries per request and a cProfile.

    DATABASE_URL=postgresql://… LINJIALIN_VAR=/tmp/x .venv/bin/python bench/profile_submit.py [--n 300]

Not a benchmark (no figures written): a tool to see where a submission's time goes (this process's CPU,
and on PostgreSQL the database server's). PROF_FILTER=regex limits the profile's lines (e.g.
'linjialin|ninja/'); --sort tottime for the functions' own time; PROF_CALLEES=regex also
prints what the matching functions call.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _backend_cpu(connection):
    """A function giving the CPU seconds of this connection's PostgreSQL backend (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        raw = Path(f"/proc/{pid}/stat").read_text()
        return sum(int(x) for x in raw[raw.rindex(")") + 2 :].split()[11:13]) / tick

    return read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--sql", action="store_true", help="print the statements of one submission")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    from linjialin.accounts.models import User
    from linjialin.accounts.services import grant_role
    from linjialin.testing.tree import build_tree

    tree = build_tree()
    mobile = f"139{int(time.time()) % 100000000:08d}"
    user = User.objects.create_user(mobile, "Bench-pass-2026", display_name="张三")
    grant_role(None, user=user, role="resident", place=tree.household_a1, check=False)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    serial = [0]

    def send():
        serial[0] += 1
        body = {
            "place_id": tree.household_a1.pk,
            "request_type": "help",
            "description": f"楼道灯不亮 {serial[0]}",
            "client_token": f"p-{time.time()}-{serial[0]}",
            "repeat": "new",  # the texts are alike: submitted as new facts (see bench/requests.py)
        }
        r = client.post("/api/v1/requests/", json.dumps(body), content_type="application/json")
        assert r.status_code == 201, r.content

    for _i in range(20):
        send()
    with CaptureQueriesContext(connection) as ctx:
        send()
    kinds = collections.Counter(q["sql"].split()[0] for q in ctx.captured_queries)
    print(f"queries per submission: {len(ctx.captured_queries)} {dict(kinds)}")
    if args.sql:
        for q in ctx.captured_queries:
            print(f"  {q['time']}  {q['sql'][:220]}")
    t0 = time.perf_counter()
    prof = cProfile.Profile(time.process_time)  # CPU time: waits on the database do not count
    prof.enable()
    for _i in range(args.n):
        send()
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"{args.n} submissions in {wall:.2f} s: {wall / args.n * 1000:.2f} ms each (under cProfile)")
    db_cpu = _backend_cpu(connection)
    t0, c0, d0 = time.perf_counter(), time.process_time(), db_cpu()
    for _i in range(args.n):
        send()
    wall, cpu, db = time.perf_counter() - t0, time.process_time() - c0, db_cpu() - d0
    print(
        f"{args.n} submissions in {wall:.2f} s: {wall / args.n * 1000:.2f} ms each, "
        f"{cpu / args.n * 1000:.2f} ms CPU in this process (no profiler), "
        f"{db / args.n * 1000:.2f} ms in the database server"
    )
    stats = pstats.Stats(prof)
    stats.sort_stats(args.sort).print_stats(os.environ.get("PROF_FILTER", ""), args.top)
    if os.environ.get("PROF_CALLEES"):
        stats.print_callees(os.environ["PROF_CALLEES"])


if __name__ == "__main__":
    main()
