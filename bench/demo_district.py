"""How long `linjialin demo --scale district` takes (~300,000 households, ~750,000 residents).

Method: for each database (SQLite in a temp file; PostgreSQL in a throwaway cluster when the server
binaries exist), migrate a fresh database, run the normal demo (通运街道, the baseline) as a separate
process, then migrate another fresh database and run `demo --scale district`. The command reports its
own load time ("Loaded in … s", generation + inserts in one transaction, without Python/Django start-up);
the wall time of the whole command and the child's CPU time are measured here too.

    .venv/bin/python bench/demo_district.py [--households 300000] [--no-postgres]

Writes bench/results/demo_district.md and .json.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Timer,
    machine_markdown,
    postgres_available,
    run_python,
    throwaway_postgres,
    write_results,
)

LOADED = re.compile(r"Loaded in ([\d.]+) s \(seed (\d+)\): (.*?)\.\n")


def run(database_url: str, *demo_args: str) -> dict[str, float]:
    """Migrate, then run `linjialin demo …` in a child process; return its figures."""
    env = {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "linjialin.settings"}
    run_python(["-m", "linjialin", "migrate", "-v0"], env=env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Timer() as t:
        out = run_python(["-m", "linjialin", "demo", "--no-progress", *demo_args], env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = LOADED.search(out)
    if not match:
        raise RuntimeError(f"unexpected demo output:\n{out[:2000]}")
    figures = {
        "load_s": float(match.group(1)),
        "command_wall_s": round(t.seconds, 1),
        "command_cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
    }
    for number, name in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", match.group(3)):
        figures[name.strip().replace(" ", "_")] = int(number)
    return figures


def bench(database: str, url_for, households: int) -> dict[str, dict[str, float]]:
    results = {}
    for label, args in (
        ("subdistrict", ()),
        ("district", ("--scale", "district", "--households", str(households))),
    ):
        with url_for() as url:
            print(f"{database}: demo {' '.join(args) or '(通运街道)'} …", flush=True)
            results[label] = run(url, *args)
            if database == "sqlite":
                results[label]["db_mb"] = round(
                    Path(url.removeprefix("sqlite:///")).stat().st_size / 2**20, 1
                )
            print(f"  {results[label]}", flush=True)
    return results


class sqlite_file:
    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="linjialin-bench-")
        return f"sqlite:///{self.dir.name}/bench.sqlite3"

    def __exit__(self, *exc):
        self.dir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.perf_counter()
    runs = {"sqlite": bench("sqlite", sqlite_file, args.households)}
    if not args.no_postgres and postgres_available():
        runs["postgres"] = bench("postgres", throwaway_postgres, args.households)
    load_after = os.getloadavg()

    figures: dict[str, float] = {}
    for db, result in runs.items():
        for label, f in result.items():
            figures[f"{label}_load_s_{db}"] = f["load_s"]
            figures[f"{label}_command_wall_s_{db}"] = f["command_wall_s"]
            figures[f"{label}_command_cpu_s_{db}"] = f["command_cpu_s"]
            figures[f"{label}_rows_per_s_{db}"] = round(
                (f["households"] + f["residents"] + f["tags"] + f["entrances"]) / f["load_s"]
            )
            if "db_mb" in f:
                figures[f"{label}_db_mb_{db}"] = f["db_mb"]
    sizes = runs["sqlite"]
    for label in ("subdistrict", "district"):
        for key in (
            "subdistricts",
            "communities",
            "grids",
            "entrances",
            "households",
            "residents",
            "tags",
            "users",
        ):
            figures[f"{label}_{key}"] = sizes[label][key]

    rows = []
    for db, result in runs.items():
        for label in ("subdistrict", "district"):
            f = result[label]
            rows.append(
                f"| {db} | {label} | {f['households']:,} | {f['residents']:,} | {f['load_s']:.1f} | "
                f"{f['command_wall_s']:.1f} | {f['command_cpu_s']:.1f} | "
                f"{figures[f'{label}_rows_per_s_{db}']:,} |"
            )
    d = sizes["district"]
    md = f"""# Demo data generation: `linjialin demo` and `linjialin demo --scale district`

Measured {time.strftime("%Y-%m-%d %H:%M %Z")} by `bench/demo_district.py`
(total run {time.perf_counter() - started:.0f} s).

## Machine

{machine_markdown()}
- load average before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f}
  (the machine was shared with other work during the run, so wall times are upper bounds;
  CPU time is the steadier figure)

## Data

- **baseline** `linjialin demo`: 通运街道, {sizes["subdistrict"]["communities"]} communities,
  {sizes["subdistrict"]["grids"]} grids, {sizes["subdistrict"]["entrances"]} entrances,
  {sizes["subdistrict"]["households"]:,} households, {sizes["subdistrict"]["residents"]:,} residents,
  {sizes["subdistrict"]["tags"]:,} tags, {sizes["subdistrict"]["users"]} users
  (楼门长, 楼长, 层长, demo logins).
- **district** `linjialin demo --scale district --households {args.households}`:
  {d["subdistricts"]} subdistricts (通运街道 + synthetic 110112001…), {d["communities"]} communities,
  {d["grids"]} grids, {d["entrances"]:,} entrances,
  {d["households"]:,} households, {d["residents"]:,} residents, {d["tags"]:,} tags, {d["users"]:,} users.

## Method

Each row is a fresh database: `linjialin migrate`, then `linjialin demo …` as a child process.
*load* is the time the command reports for generating and writing (one transaction per subdistrict),
*wall* and *CPU* cover the whole command including Python and Django start-up. Rows per second counts
households + residents + tags + entrances. SQLite is a file in a temp directory (WAL, synchronous=NORMAL,
as in settings); PostgreSQL 15 is a throwaway cluster on the same machine with default settings.

## Figures

| database | scale | households | residents | load s | wall s | CPU s | rows/s |
|---|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    md += "\n## Reading\n\n"
    for db, result in runs.items():
        base, dist = result["subdistrict"], result["district"]
        ratio = dist["households"] / base["households"]
        md += (
            f"- {db}: {ratio:.1f}× the baseline's households took "
            f"{dist['load_s'] / base['load_s']:.1f}× its load time ({dist['load_s']:.0f} s vs "
            f"{base['load_s']:.1f} s) and {dist['command_cpu_s'] / base['command_cpu_s']:.1f}× its CPU "
            f"time ({dist['command_cpu_s']:.0f} s vs {base['command_cpu_s']:.1f} s). The district command "
            f"ran on a CPU for {100 * dist['command_cpu_s'] / dist['command_wall_s']:.0f} % of its wall "
            "time; the rest was waiting (for a CPU on the shared machine, the disk or the database).\n"
        )
    md += (
        "- Python work (generating people and preparing rows) is the same for both databases; the inserts "
        "use executemany on SQLite and COPY on PostgreSQL (`insert_rows` in linjialin/core/bulk.py).\n"
    )
    if "postgres" not in runs:
        md += "\nPostgreSQL: not measured (no server binaries or --no-postgres).\n"
    paths = write_results("demo_district", md, figures)
    print(md)
    print("wrote", *paths)


if __name__ == "__main__":
    main()
