"""Reads of the router: `suggest(text, place=None)` — the top categories for a text with their
handling level, default unit and a confidence (docs/routing.md §4).

Scores: the keyword rules (each matched keyword adds weight × its length, so the longer, more
specific keyword counts more; shares of the total) and, once a trained model is current, the model's
softmax confidences, blended by `RoutingRules.model_weight`. The current model is loaded from the
database once per process and reloaded when another version becomes current (one small query per
call to check).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import get_language

from linjialin.core.cache import ProcessCache
from linjialin.core.text import normalise
from linjialin.service_requests.models import Category, HandlingLevel, HandlingUnit

from . import ml
from .models import KeywordRule, ModelVersion, RoutingRules


@dataclass(frozen=True)
class Suggestion:
    category: Category
    confidence: float  # 0–1
    source: str  # "rules", "model" or "both"
    level: int
    unit: HandlingUnit | None

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def name(self) -> str:
        zh = (get_language() or "zh-hans").startswith("zh")
        return self.category.name_zh if zh or not self.category.name_en else self.category.name_en

    @property
    def parent_name(self) -> str:
        parent = self.category.parent
        if parent is None:
            return ""
        zh = (get_language() or "zh-hans").startswith("zh")
        return parent.name_zh if zh or not parent.name_en else parent.name_en

    @property
    def level_label(self) -> str:
        return str(HandlingLevel(self.level).label)

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


_lock = threading.Lock()
_loaded: dict = {"pk": None, "classifier": None}


def current_version_id() -> int | None:
    return ModelVersion.objects.filter(current=True).values_list("pk", flat=True).first()


def current_classifier() -> ml.Classifier | None:
    """The current model, deserialised once per process and version."""
    pk = current_version_id()
    if pk is None:
        return None
    if _loaded["pk"] != pk:
        with _lock:
            if _loaded["pk"] != pk:
                blob = ModelVersion.objects.filter(pk=pk).values_list("blob", flat=True).first()
                if blob is None:
                    return None
                _loaded.update(pk=pk, classifier=ml.Classifier.loads(bytes(blob)))
    return _loaded["classifier"]


@lru_cache(maxsize=4096)
def _normalised_keywords(keywords: str) -> tuple[str, ...]:
    """A rule's keywords, normalised once per process per distinct text (an edit is a new text)."""
    return tuple(w for w in (normalise(line, placeholders=False) for line in keywords.splitlines()) if w)


# The settings row and the active keyword rules, cached per process (suggest runs as the resident types;
# core.cache: a save or delete of a rule, the settings or a category clears it, other processes see an
# edit within a minute, read fresh inside a transaction).
_cache = ProcessCache("routing.selectors", RoutingRules, KeywordRule, Category, seconds=60)


def clear_cache() -> None:
    _cache.clear()


def settings_row() -> RoutingRules:
    """The RoutingRules row (the model defaults when there is none), cached. Read only."""
    return _cache.read("settings", lambda: RoutingRules.objects.first() or RoutingRules())


def _keyword_rows() -> list[tuple[str, tuple[str, ...], float]]:
    """(category code, normalised keywords, weight) of the active rules of active categories, cached."""

    def load():
        rows = KeywordRule.objects.filter(active=True, category__active=True).values_list(
            "category__code", "keywords", "weight"
        )
        return [(code, _normalised_keywords(keywords), weight) for code, keywords, weight in rows]

    return _cache.read("keywords", load)


def rule_scores(text: str) -> dict[str, float]:
    """Category code → share of the keyword weight matched in the text (0–1; empty: nothing matched)."""
    norm = normalise(text)
    if not norm:
        return {}
    raw: dict[str, float] = defaultdict(float)
    for code, words, weight in _keyword_rows():
        for word in words:
            if word in norm:
                raw[code] += weight * len(word)
    total = sum(raw.values())
    return {code: value / total for code, value in raw.items()} if total > 0 else {}


def suggest(text: str, place=None, *, limit: int | None = None) -> list[Suggestion]:
    """Up to `limit` (default RoutingRules.suggestions) active categories, most likely first, with a
    confidence of at least RoutingRules.min_confidence. With `place`, a default unit that does not
    serve that place is left out (the dispatcher picks one)."""
    settings = settings_row()
    limit = settings.suggestions if limit is None else limit
    if not normalise(text) or limit <= 0:
        return []
    rules = rule_scores(text)
    classifier = current_classifier()
    scores: dict[str, float] = {}
    sources: dict[str, set[str]] = defaultdict(set)
    if classifier is not None:
        w = min(max(settings.model_weight, 0.0), 1.0)
        model = dict(classifier.top(text, k=max(limit * 3, 10)))
        for code in set(model) | set(rules):
            scores[code] = (
                w * model.get(code, 0.0) + (1 - w) * rules.get(code, 0.0) if rules else model.get(code, 0.0)
            )
        for code in model:
            sources[code].add("model")
    else:
        scores = dict(rules)
    for code in rules:
        sources[code].add("rules")
    ranked = sorted(
        ((code, s) for code, s in scores.items() if s >= settings.min_confidence),
        key=lambda item: (-item[1], item[0]),
    )
    codes = [code for code, _s in ranked[: limit * 2]]  # a few spare for inactive/unknown codes
    categories = {
        c.code: c
        for c in Category.objects.filter(code__in=codes, active=True).select_related(
            "parent", "unit", "parent__unit"
        )
    }
    out = []
    for code, score in ranked:
        category = categories.get(code)
        if category is None:
            continue
        unit = category.unit or (category.parent.unit if category.parent_id else None)
        if unit is not None and place is not None and not place.path.startswith(unit.path):
            unit = None
        source = "both" if len(sources[code]) == 2 else next(iter(sources[code]), "rules")
        out.append(
            Suggestion(
                category=category, confidence=min(score, 1.0), source=source, level=category.level, unit=unit
            )
        )
        if len(out) >= limit:
            break
    return out
