"""Benchmark: import N residents (default 50,000) from a roster file on SQLite and on PostgreSQL.

    .venv/bin/python bench/roster_import.py [--n 50000] [--no-postgres]

Generates a deterministic roster (10 communities, grids by name, ~40 households per entrance, 1–4
residents per household, half with a valid ID number, some tags) into bench/data/ (git-ignored) as CSV and
XLSX, then in a fresh database per run (SQLite in a temp LINJIALIN_VAR; PostgreSQL in a throwaway cluster
started here as the postgres user) migrates, creates the subdistrict, its 10 communities and an admin,
and times `places.roster.import_roster` — the same function the page and the command call:

- first import of the CSV (everything created), per phase (read / check / write);
- re-import of the unchanged file (everything checked, nothing written): the idempotence path;
- baseline in the same run: a plain csv.reader pass over the same file (decode + split, no checks).

The XLSX file is imported too on SQLite (openpyxl read-only parsing is the slow part there).
Writes bench/results/roster_import.md and .json. Target: 50k residents < 60 s on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DATA,
    Timer,
    machine_info,
    machine_markdown,
    postgres_available,
    run_python,
    throwaway_postgres,
    write_results,
)

SEED = 20260301
COMMUNITIES = [
    "紫荆社区",
    "牡丹社区",
    "京贺社区",
    "荔景社区",
    "运河湾社区",
    "芙蓉社区",
    "通运社区",
    "新华社区",
    "滨河社区",
    "西营社区",
]
COMPOUNDS = [
    "紫荆雅园",
    "牡丹园",
    "京贺家园",
    "荔景园",
    "运河湾",
    "芙蓉园",
    "通运小区",
    "新华里",
    "滨河苑",
    "西营里",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志红"
RELATIONS = ["户主", "配偶", "子女", "父母", "孙子女"]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def valid_id(rng: random.Random, year: int, used: set[str]) -> str:
    while True:
        body = f"110112{year:04d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        if body not in used:
            used.add(body)
            return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def generate(n: int) -> list[list[str]]:
    """Rows for N residents (plus household-only rows for vacant flats): grids of 5 entrances, 40 households
    an entrance, 1–4 residents each."""
    from linjialin.places.roster import COLUMNS  # noqa: F401  (header order below mirrors it)

    rng = random.Random(SEED)
    rows: list[list[str]] = []
    serial = 0  # residents so far
    used_ids: set[str] = set()
    entrance = 0
    while serial < n:
        community = entrance % len(COMMUNITIES)
        local = entrance // len(COMMUNITIES)
        grid = f"第{local // 5 + 1}网格"
        compound = COMPOUNDS[community]
        building, unit = f"{local // 3 + 1}号楼", f"{local % 3 + 1}单元"
        for h in range(40):
            floor, room = h // 4 + 1, f"{h // 4 + 1}0{h % 4 + 1}"
            area = f"{rng.choice([56, 62.5, 72, 86.5, 90, 105, 120.3])}"
            tenure = rng.choices(["自有", "租住", "空置"], [80, 15, 5])[0]
            if tenure == "空置":
                rows.append(
                    [
                        COMMUNITIES[community],
                        grid,
                        compound,
                        building,
                        unit,
                        room,
                        str(floor),
                        area,
                        tenure,
                        "否",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
                continue
            for k in range(rng.randint(1, 4)):
                serial += 1
                year = rng.randint(1935, 2020)
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) + str(k or "")
                with_id = rng.random() < 0.5
                tags, consent = [], ""
                if rng.random() < 0.08:
                    tags.append("党员")
                if rng.random() < 0.05:
                    tags.append("志愿者")
                if year < 1950 and rng.random() < 0.3:
                    tags.append("独居老人")
                    consent = "本人书面同意"
                rows.append(
                    [
                        COMMUNITIES[community],
                        grid,
                        compound,
                        building,
                        unit,
                        room,
                        str(floor),
                        area,
                        tenure,
                        "是",
                        name,
                        f"13{serial:09d}",
                        valid_id(rng, year, used_ids) if with_id else "",
                        str(year),
                        RELATIONS[min(k, len(RELATIONS) - 1)],
                        "、".join(tags),
                        consent,
                    ]
                )
                if serial >= n:
                    break
            if serial >= n:
                break
        entrance += 1
    return rows


def write_files(n: int) -> tuple[Path, Path]:
    from openpyxl import Workbook

    from linjialin.places.roster import COLUMNS

    DATA.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = DATA / f"roster_{n}.csv", DATA / f"roster_{n}.xlsx"
    rows = generate(n)
    header = [c.header for c in COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    csv_path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民名册")
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(xlsx_path)
    return csv_path, xlsx_path


# --- worker: runs inside a fresh database -------------------------------------------------------------
def worker(path: Path, reimport: bool) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from linjialin.accounts.models import User
    from linjialin.accounts.services import grant_role
    from linjialin.places.models import Level, Place, Resident
    from linjialin.places.roster import import_roster
    from linjialin.places.services import new_place

    subdistrict = new_place(None, level=Level.SUBDISTRICT, code="110112008", name="通运街道")
    subdistrict.save()
    for i, name in enumerate(COMMUNITIES, 1):
        new_place(subdistrict, level=Level.COMMUNITY, code=i, name=name).save()
    admin = User.objects.create_user("13999999999", "Bench-pass-2026", display_name="bench")
    grant_role(None, user=admin, role="system_admin", place=subdistrict, check=False)

    figures: dict = {"vendor": connection.vendor}
    figures["baseline_csv_reader_s"] = None
    if path.suffix == ".csv":
        with Timer() as t:
            text = path.read_bytes().decode("utf-8-sig")
            parsed = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
        figures["baseline_csv_reader_s"] = round(t.seconds, 3)
        figures["baseline_rows"] = parsed

    phases: dict[str, float] = {}

    def progress(phase, done, total):
        phases.setdefault(phase, time.perf_counter())

    with Timer() as t, path.open("rb") as f:
        report = import_roster(admin, f, filename=path.name, progress=progress)
    assert report.ok, report.errors[:10]
    end = time.perf_counter()
    figures["import_s"] = round(t.seconds, 3)
    marks = [t.start, phases.get("check", end), phases.get("write", end), end]
    for name, a, b in zip(("read", "check", "write"), marks, marks[1:], strict=False):
        figures[f"phase_{name}_s"] = round(b - a, 3)
    figures["rows"] = report.rows
    figures["residents"] = Resident.objects.count()
    figures["households"] = Place.objects.filter(level=Level.HOUSEHOLD).count()
    figures["entrances"] = Place.objects.filter(level=Level.ENTRANCE).count()
    figures["counts"] = report.summary()
    if reimport:
        with Timer() as t, path.open("rb") as f:
            again = import_roster(admin, f, filename=path.name)
        assert again.ok and not again.changed, again.summary()
        figures["reimport_unchanged_s"] = round(t.seconds, 3)
    return figures


def run_worker(path: Path, env: dict[str, str], reimport: bool = True) -> dict:
    out = run_python(
        [str(Path(__file__).resolve()), "--worker", str(path)] + ([] if reimport else ["--no-reimport"]),
        env=env,
    )
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-xlsx", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-reimport", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linjialin.settings")
    if args.worker:
        print(json.dumps(worker(args.worker, not args.no_reimport)))
        return

    import django

    with tempfile.TemporaryDirectory(prefix="linjialin-bench-") as var:
        os.environ["LINJIALIN_VAR"] = var  # settings create var/ and a secret there, not in the checkout
        django.setup()
        with Timer() as gen:
            csv_path, xlsx_path = write_files(args.n)
    print(
        f"generated {args.n} residents in {gen.seconds:.1f} s: "
        f"{csv_path} ({csv_path.stat().st_size / 1e6:.1f} MB), "
        f"{xlsx_path} ({xlsx_path.stat().st_size / 1e6:.1f} MB)"
    )

    results: dict[str, dict] = {}
    clean_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LINJIALIN_VAR")}
    for label, path, reimport in (("sqlite_csv", csv_path, True), ("sqlite_xlsx", xlsx_path, False)):
        if label == "sqlite_xlsx" and args.no_xlsx:
            continue
        with tempfile.TemporaryDirectory(prefix="linjialin-bench-") as var:
            env = {**clean_env, "LINJIALIN_VAR": var}
            os.environ.pop("DATABASE_URL", None)
            results[label] = run_worker(path, env, reimport)
        print(label, json.dumps({k: v for k, v in results[label].items() if k != "counts"}))
    if not args.no_postgres and postgres_available():
        with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="linjialin-bench-") as var:
            env = {**clean_env, "LINJIALIN_VAR": var, "DATABASE_URL": url, "DB_POOL": "0"}
            results["postgres_csv"] = run_worker(csv_path, env, True)
        print("postgres_csv", json.dumps({k: v for k, v in results["postgres_csv"].items() if k != "counts"}))
    elif not args.no_postgres:
        print("PostgreSQL server binaries not found: PostgreSQL figures skipped")

    report(args.n, csv_path, xlsx_path, results)


def _rate(rows: int, seconds: float | None) -> int | None:
    return round(rows / seconds) if seconds else None


def report(n: int, csv_path: Path, xlsx_path: Path, results: dict[str, dict]) -> None:
    s, x, p = results.get("sqlite_csv", {}), results.get("sqlite_xlsx", {}), results.get("postgres_csv", {})
    k = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    figures = {
        f"import_{k}_sqlite_s": s.get("import_s"),
        "rows_per_s_sqlite": _rate(s.get("rows", n), s.get("import_s")),
        f"import_{k}_postgres_s": p.get("import_s"),
        "rows_per_s_postgres": _rate(p.get("rows", n), p.get("import_s")),
        "reimport_unchanged_sqlite_s": s.get("reimport_unchanged_s"),
        "reimport_unchanged_postgres_s": p.get("reimport_unchanged_s"),
        f"import_{k}_xlsx_sqlite_s": x.get("import_s"),
        "rows_per_s_xlsx_sqlite": _rate(x.get("rows", n), x.get("import_s")),
        "baseline_csv_reader_s": s.get("baseline_csv_reader_s"),
    }
    for name, value in figures.items():
        print(f"{name:32} {value}")

    def row(label: str, r: dict, fmt: str) -> str:
        if not r:
            return f"| {label} | {fmt} | — | — | — | — |"
        phases = " / ".join(f"{r.get(f'phase_{p}_s', 0):.1f}" for p in ("read", "check", "write"))
        again = f"{r['reimport_unchanged_s']:.1f}" if r.get("reimport_unchanged_s") is not None else "—"
        rate = _rate(r["rows"], r["import_s"])
        return f"| {label} | {fmt} | {r['import_s']:.1f} | {rate:,} | {phases} | {again} |"

    csv_mb, xlsx_mb = csv_path.stat().st_size / 1e6, xlsx_path.stat().st_size / 1e6
    baseline = s.get("baseline_csv_reader_s")
    counts = s.get("counts", {})
    created = ", ".join(f"{kind} {c['created']:,}" for kind, c in counts.items())
    target = "met" if s.get("import_s") and s["import_s"] < 60 else "NOT met"
    md = f"""# Roster import benchmark

`bench/roster_import.py --n {n}` (run {time.strftime("%Y-%m-%d %H:%M %Z")}).

## Machine

{machine_markdown(machine_info())}

## Data

{n:,} residents generated deterministically (seed {SEED}) in 10 communities: grids named per community
(created by the import), ~40 households per entrance (5% vacant household-only rows), 1–4 residents per
household, half with a valid 18-digit ID number, party-member / volunteer / living-alone (sensitive, with
consent) tags. CSV {csv_mb:.1f} MB (UTF-8 with BOM), XLSX {xlsx_mb:.1f} MB (openpyxl, inline strings).
The first import creates: {created}.

## Method

Each run starts a fresh database (SQLite: new file in a temp `LINJIALIN_VAR`, WAL, the project's settings;
PostgreSQL 15: a throwaway cluster created with initdb in a temp dir, started as the `postgres` user on
a free loopback port, dropped afterwards), migrates, creates the subdistrict, its 10 communities and a
system admin, then times `linjialin.places.roster.import_roster(...)` — the function behind the import page
and `linjialin import-roster` — in one process. Phases: read (decode and parse the file), check (every
row against the others and the preloaded database), write (bulk inserts in one transaction + one audit event).
"Re-import" imports the same file again: all rows checked, nothing written (all unchanged).
Baseline (same run, same file): a plain `csv.reader` pass (decode + split only) = {baseline} s.

## Figures

| database | file | import (s) | rows/s | read / check / write (s) | re-import unchanged (s) |
|---|---|---:|---:|---|---:|
{row("SQLite", s, "csv")}
{row("SQLite", x, "xlsx")}
{row("PostgreSQL", p, "csv")}

Target: {n:,} residents in under 60 s on SQLite — **{target}**.

```json
{json.dumps(figures, indent=2)}
```
"""
    md_path, json_path = write_results("roster_import", md, figures)
    print(f"wrote {md_path} and {json_path}")


if __name__ == "__main__":
    main()
