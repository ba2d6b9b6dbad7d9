"""Labelled CSV files for `linjialin routing evaluate|train` (UTF-8 with or without BOM, or GBK —
read with the roster importer's decoder)."""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from linjialin.places.roster import FileProblem, decode_csv

DEFAULT_TEXT_COLS = (("topic", "detail"), ("title", "text"), ("text",), ("description",))


class FileError(ValueError):
    pass


@dataclass
class Labelled:
    titles: list[str]
    texts: list[str]
    labels: list[str]


def read_labelled(path: str | Path, text_cols: list[str] | None = None, label_col: str = "label") -> Labelled:
    """Rows with a non-empty label. With two or more text columns the first is the title (it weighs
    more, ml.prepare) and the others are joined as the body; with one, it is the body."""
    path = Path(path)
    if not path.is_file():
        raise FileError(f"No such file: {path}")
    text = decode_csv(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if text_cols is None:
        text_cols = next((list(c) for c in DEFAULT_TEXT_COLS if all(x in header for x in c)), None)
        if text_cols is None:
            raise FileError(
                f"{path.name}: say which columns hold the text (--text-cols); columns: {', '.join(header)}"
            )
    missing = [c for c in [*text_cols, label_col] if c not in header]
    if missing:
        raise FileError(f"{path.name}: no column {', '.join(missing)}; columns: {', '.join(header)}")
    out = Labelled([], [], [])
    for row in reader:
        label = (row.get(label_col) or "").strip()
        if not label:
            continue
        parts = [(row.get(c) or "").strip() for c in text_cols]
        title, body = (parts[0], " ".join(parts[1:])) if len(parts) > 1 else ("", parts[0])
        out.titles.append(title)
        out.texts.append(body)
        out.labels.append(label)
    if not out.labels:
        raise FileError(f"{path.name}: no labelled rows")
    return out


def read_prior(path: str | Path) -> list[tuple[str, str]]:
    """(term, label) pairs from a taxonomy CSV: the first column is the label (e.g. l1), every other
    column holds names under it (l2, l3 …). A name found under more than one label (其他, 综合 …) says
    nothing and is left out."""
    path = Path(path)
    if not path.is_file():
        raise FileError(f"No such file: {path}")
    rows = list(csv.reader(io.StringIO(decode_csv(path.read_bytes()), newline="")))
    if len(rows) < 2 or len(rows[0]) < 2:
        raise FileError(f"{path.name}: a taxonomy needs a label column and at least one name column")
    labels_of: dict[str, set[str]] = {}
    for row in rows[1:]:
        if not row or not row[0].strip():
            continue
        for term in row[1:]:
            if term.strip():
                labels_of.setdefault(term.strip(), set()).add(row[0].strip())
    return sorted((term, next(iter(labels))) for term, labels in labels_of.items() if len(labels) == 1)


def find_prior(data: Path, labels: list[str]) -> Path | None:
    """A taxonomy CSV beside the data file whose header starts with l1 (or label) and whose first column
    names at least half of the data's classes — the hotline exports come with one."""
    wanted = set(labels)
    for candidate in sorted(Path(data).parent.glob("*.csv")):
        if candidate.resolve() == Path(data).resolve():
            continue
        text = ""
        with contextlib.suppress(OSError, FileProblem):  # an unreadable neighbour is not a taxonomy
            text = decode_csv(candidate.read_bytes())
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows or not rows[0] or rows[0][0].strip().lower() not in ("l1", "label", "category"):
            continue
        named = {r[0].strip() for r in rows[1:] if r}
        if len(wanted & named) * 2 >= len(wanted):
            return candidate
    return None
