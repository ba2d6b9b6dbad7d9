"""Hotspot detection, the pure part: rows in, ranked problems out (no database).

Used by the scheduled job (jobs.py reads the requests and stores the result) and by the
`linjialin hotspots` command on an external export. docs/hotspots.md explains the method:

1. Rows are grouped by category × place (each row carries one key per place level it belongs to).
2. Inside a group, texts are split into concrete problems: character 1–2-gram TF-IDF over the
   normalised text without punctuation (core.text.normalise: NFKC, phone and ID numbers removed),
   cosine similarity, connected components over the pairs at or above the similarity threshold.
   Identical texts are vectorised once.
3. Each problem is counted per window (current, previous, … for the trend); a problem with at least
   `min_count` rows in the current window is a hotspot, scored
   w_count·count + w_growth·max(0, count − previous) + w_households·households + w_spread·entrances.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from linjialin.core.text import normalise

_PUNCTUATION = re.compile(r"[^\w]")  # white space and punctuation carry nothing here
BLOCK = 2000  # rows of the similarity matrix computed at once (memory stays ~BLOCK × group size)


@dataclass(frozen=True)
class Place:
    level: str
    key: str
    label: str
    path: str = ""


@dataclass
class Row:
    id: int | str
    text: str
    at: datetime
    category: object  # a category id or label; None = uncategorised
    places: tuple[Place, ...]
    household: str = ""
    entrance: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    window_days: int = 30
    trend_windows: int = 6
    similarity: float = 0.16
    min_count: int = 3
    weight_count: float = 1.0
    weight_growth: float = 1.0
    weight_households: float = 1.0
    weight_spread: float = 2.0
    keep_per_level: int = 20
    samples: int = 3


@dataclass
class Found:
    place: Place
    category: object
    label: str
    count: int
    previous_count: int
    households: int
    spread: int
    score: float
    request_ids: list
    samples: list[str]  # the most central texts of the current window (not anonymised here)
    sample_rows: list  # the rows of the samples (for anonymising with their names)
    trend: list[tuple[datetime, int]]  # (window end, count), oldest first
    rank: int = 0


def windows(now: datetime, s: Settings) -> list[tuple[datetime, datetime]]:
    """The trend windows, oldest first; the last is the current one, the one before it the previous."""
    width = timedelta(days=s.window_days)
    n = max(s.trend_windows, 2)
    return [(now - width * (n - i), now - width * (n - i - 1)) for i in range(n)]


def vectorise(texts: list[str]):
    """Unique normalised texts → (row index of each text into the matrix, L2-normalised TF-IDF matrix)."""
    index: dict[str, int] = {}
    seen: dict[str, int] = {}  # raw text → position: each distinct raw text is normalised once
    positions = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        position = seen.get(t)
        if position is None:
            key = _PUNCTUATION.sub("", normalise(t, placeholders=False))
            position = seen[t] = index.setdefault(key, len(index))
        positions[i] = position
    unique = list(index)
    if not unique:
        return positions, None
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(unique)
    except ValueError:  # only empty texts
        matrix = None
    return positions, matrix


def components(matrix, threshold: float) -> np.ndarray:
    """Connected components of the graph 'cosine ≥ threshold' over the rows of `matrix`."""
    n = matrix.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    rows, cols = [], []
    transposed = matrix.T.tocsr()
    for start in range(0, n, BLOCK):
        block = (matrix[start : start + BLOCK] @ transposed).tocoo()
        keep = block.data >= threshold
        rows.append(block.row[keep] + start)
        cols.append(block.col[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def detect(rows: list[Row], now: datetime, s: Settings) -> list[Found]:
    """The hotspots among `rows` at `now`, best first (rank 1 is the highest score)."""
    spans = windows(now, s)
    start = spans[0][0]
    rows = [r for r in rows if start <= r.at < now]
    if not rows:
        return []
    positions, matrix = vectorise([r.text for r in rows])
    window_of = _window_index(rows, spans)
    current = len(spans) - 1
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        for place in r.places:
            groups[(place, r.category)].append(i)
    by_category: dict = defaultdict(set)
    for i, r in enumerate(rows):
        by_category[r.category].add(int(positions[i]))
    edges = _CategoryEdges(matrix, by_category, s.similarity)
    found: list[Found] = []
    for (place, category), members in groups.items():
        in_current = sum(1 for i in members if window_of[i] == current)
        if in_current < s.min_count:
            continue
        found.extend(_problems(rows, members, place, category, positions, edges, window_of, spans, s))
    found.sort(key=lambda f: (-f.score, -f.count, f.place.key, str(f.category), f.label))
    kept: list[Found] = []
    per: dict = defaultdict(int)
    for f in found:
        bucket = (f.place.level, ".".join(f.place.path.split(".")[:2]))
        if per[bucket] >= s.keep_per_level:
            continue
        per[bucket] += 1
        f.rank = len(kept) + 1
        kept.append(f)
    return kept


def _window_index(rows: list[Row], spans) -> list[int]:
    ends = [end for _, end in spans]
    out = []
    for r in rows:
        for k, end in enumerate(ends):
            if r.at < end:
                out.append(k)
                break
    return out


class _CategoryEdges:
    """The similar pairs among a category's distinct texts, computed once per category when a large
    group needs them (a community's group is a large part of its category); a small group (an
    entrance's) compares its own texts directly. Components over a group's texts use only the pairs
    inside the group, so the result is the same either way."""

    def __init__(self, matrix, by_category: dict, threshold: float):
        self.matrix, self.by_category, self.threshold = matrix, by_category, threshold
        self._edges: dict = {}

    def labels(self, category, unique: np.ndarray) -> np.ndarray:
        n = len(unique)
        total = len(self.by_category[category])
        if self.matrix is None or n == 1:
            return np.zeros(n, dtype=np.int64)
        if n * n <= 4 * total or n < 300:
            return components(self.matrix[unique], self.threshold)
        if category not in self._edges:
            ids = np.array(sorted(self.by_category[category]), dtype=np.int64)
            self._edges[category] = _pairs(self.matrix, ids, self.threshold)
        first, second = self._edges[category]
        inside = np.isin(first, unique) & np.isin(second, unique)
        r, c = np.searchsorted(unique, first[inside]), np.searchsorted(unique, second[inside])
        graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
        return connected_components(graph, directed=False)[1]


def _pairs(matrix, ids: np.ndarray, threshold: float):
    """(first, second) text indices of the pairs among `ids` with cosine ≥ threshold (first < second)."""
    sub = matrix[ids]
    transposed = sub.T.tocsr()
    firsts, seconds = [], []
    for start in range(0, len(ids), BLOCK):
        block = (sub[start : start + BLOCK] @ transposed).tocoo()
        keep = (block.data >= threshold) & (block.row + start < block.col)
        firsts.append(ids[block.row[keep] + start])
        seconds.append(ids[block.col[keep]])
    return np.concatenate(firsts), np.concatenate(seconds)


def _problems(rows, members, place, category, positions, edges, window_of, spans, s) -> Iterable[Found]:
    current = len(spans) - 1
    matrix = edges.matrix
    unique = np.array(sorted({int(positions[i]) for i in members}), dtype=np.int64)
    labels_of = dict(zip(unique.tolist(), edges.labels(category, unique).tolist(), strict=True))
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in members:
        clusters[int(labels_of[int(positions[i])])].append(i)
    for cluster in clusters.values():
        now_rows = [i for i in cluster if window_of[i] == current]
        if len(now_rows) < s.min_count:
            continue
        counts = [0] * len(spans)
        for i in cluster:
            counts[window_of[i]] += 1
        previous = counts[current - 1]
        households = len({rows[i].household or f"r{rows[i].id}" for i in now_rows})
        spread = len({rows[i].entrance for i in now_rows if rows[i].entrance})
        score = (
            s.weight_count * len(now_rows)
            + s.weight_growth * max(0, len(now_rows) - previous)
            + s.weight_households * households
            + s.weight_spread * spread
        )
        central = _central(now_rows, positions, matrix, rows)
        seen, samples, sample_rows = set(), [], []
        for i in central:
            key = normalise(rows[i].text, placeholders=False)
            if key in seen:
                continue
            seen.add(key)
            samples.append(rows[i].text)
            sample_rows.append(rows[i])
            if len(samples) >= s.samples:
                break
        yield Found(
            place=place,
            category=category,
            label=_short(samples[0]) if samples else "",
            count=len(now_rows),
            previous_count=previous,
            households=households,
            spread=spread,
            score=round(float(score), 3),
            request_ids=sorted((rows[i].id for i in now_rows), key=str),
            samples=samples,
            sample_rows=sample_rows,
            trend=[(end, counts[k]) for k, (_, end) in enumerate(spans)],
        )


def _central(members: list[int], positions, matrix, rows) -> list[int]:
    """`members` ordered by closeness to the cluster's centroid (most typical text first)."""
    if matrix is None or len(members) == 1:
        return list(members)
    sub = matrix[positions[members]]
    centroid = np.asarray(sub.mean(axis=0)).ravel()
    closeness = sub @ centroid
    order = np.argsort(-closeness, kind="stable")
    return [members[k] for k in order]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def similar_count(anchor_texts: list[str], texts: list[str], threshold: float) -> int:
    """How many of `texts` are at least `threshold` similar to one of `anchor_texts` (before/after)."""
    if not anchor_texts or not texts:
        return 0
    positions, matrix = vectorise(anchor_texts + texts)
    if matrix is None:
        return 0
    anchors = matrix[positions[: len(anchor_texts)]]
    others = matrix[positions[len(anchor_texts) :]]
    best = (others @ anchors.T).max(axis=1).toarray().ravel()
    return int((best >= threshold - 1e-9).sum())
