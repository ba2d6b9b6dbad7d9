"""`linjialin hotspots --data file.csv --text-col … --time-col … [--place-col …] [--category-col …]`

Runs the hotspot detection (hotspots/detection.py, the same code as the nightly job) on an external
export and prints the top clusters with their counts and sample texts. Nothing is written.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.dateparse import parse_date, parse_datetime

from linjialin.hotspots import detection, selectors
from linjialin.hotspots.models import HotspotRules
from linjialin.service_requests.board_views import anonymise


def parse_time(value: str) -> datetime | None:
    value = (value or "").strip().replace("/", "-")
    at = parse_datetime(value) or parse_datetime(value.replace(" ", "T"))
    if at is None:
        day = parse_date(value[:10]) if len(value) >= 10 else None
        at = datetime(day.year, day.month, day.day) if day else None
    return at.replace(tzinfo=None) if at else None


def read_rows(path: Path, *, text_cols, time_col, place_col=None, category_col=None):
    """The file's rows as detection rows, and the number of rows skipped (no text or no time)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    rows, skipped = [], 0
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for col in [*text_cols, time_col, place_col, category_col]:
            if col and col not in header:
                raise CommandError(f"no column {col!r} in {path} (columns: {', '.join(header)})")
        for n, record in enumerate(reader, start=2):
            text = " ".join((record.get(c) or "").strip() for c in text_cols).strip()
            at = parse_time(record.get(time_col, ""))
            if not text or at is None:
                skipped += 1
                continue
            place = (record.get(place_col) or "").strip() if place_col else ""
            key = place or "—"
            rows.append(
                detection.Row(
                    id=n,
                    text=text,
                    at=at,
                    category=(record.get(category_col) or "").strip() or None if category_col else None,
                    places=(detection.Place("place", key, key, ""),),
                    household=f"line{n}",
                    entrance=place,
                )
            )
    return rows, skipped


class Command(BaseCommand):
    help = "Detect hotspots in an external CSV export and print the top clusters (nothing is written)."

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="CSV file (UTF-8, with a header row)")
        parser.add_argument("--text-col", required=True, help="text column(s), comma-separated")
        parser.add_argument(
            "--time-col", required=True, help="submission time column (ISO date or date-time)"
        )
        parser.add_argument("--place-col", help="place column: clusters are found within each place")
        parser.add_argument("--category-col", help="category column: clusters are found within each category")
        parser.add_argument(
            "--window-days",
            type=int,
            help="window length; default: the whole file is the current window (no previous window)",
        )
        parser.add_argument("--similarity", type=int, help="text similarity in %% (default: the rules)")
        parser.add_argument("--min-count", type=int, help="rows for a cluster to count (default: the rules)")
        parser.add_argument("--top", type=int, default=10, help="clusters printed (default 10)")
        parser.add_argument("--samples", type=int, default=3, help="sample texts per cluster (default 3)")

    def handle(self, *args, **o):
        rows, skipped = read_rows(
            Path(o["data"]),
            text_cols=[c.strip() for c in o["text_col"].split(",") if c.strip()],
            time_col=o["time_col"],
            place_col=o.get("place_col"),
            category_col=o.get("category_col"),
        )
        if not rows:
            raise CommandError("no rows with a text and a time")
        try:
            rules = selectors.rules()
        except DatabaseError:  # a database not migrated yet: the defaults
            rules = HotspotRules()
        first, last = min(r.at for r in rows), max(r.at for r in rows)
        end = last + timedelta(seconds=1)
        window = o["window_days"] or ((end - first).days + 1)
        s = detection.Settings(
            **{
                **selectors.settings_from(rules).__dict__,
                "window_days": window,
                "trend_windows": 2,
                "similarity": (o["similarity"] if o["similarity"] is not None else rules.similarity) / 100,
                "min_count": o["min_count"] if o["min_count"] is not None else rules.min_count,
                "keep_per_level": max(o["top"], 1),
                "samples": o["samples"],
            }
        )
        found = detection.detect(rows, end, s)
        start = end - timedelta(days=window)
        in_window = sum(1 for r in rows if r.at >= start)
        self.stdout.write(
            f"{len(rows)} rows ({skipped} skipped), {first:%Y-%m-%d} … {last:%Y-%m-%d}; window {window} days "
            f"from {start:%Y-%m-%d}: {in_window} rows; similarity {s.similarity:.2f}, "
            f"min count {s.min_count}; {len(found)} clusters"
        )
        for f in found[: o["top"]]:
            growth = f" (previous window {f.previous_count})" if o["window_days"] else ""
            where = [f"place {f.place.label}"] if o.get("place_col") else []
            if f.category is not None:
                where.append(f"category {f.category}")
            self.stdout.write(
                f"\n#{f.rank}  {f.count} rows{growth}, {f.spread if o.get('place_col') else '-'} places, "
                f"score {f.score:g}" + (f" — {', '.join(where)}" if where else "")
            )
            for text in f.samples:
                short = anonymise(" ".join(text.split()))
                self.stdout.write(f"    · {short[:120]}{'…' if len(short) > 120 else ''}")
