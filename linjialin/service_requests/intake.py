"""Intake screening (docs/intake.md): before a submission is queued as normal work, is it

1. a **diversion** — an emergency (call 110 / 119 / 120 / 122), a court, arbitration or 信访 matter —
   found by keywords that are data (`DiversionRule`, admin-editable, seeded in migration 0008); or
2. a **repeat** — the same requester (or household) already has an open request at the same place,
   submitted within `RequestRules.repeat_days`, with the same category or very similar text
   (`RequestRules.repeat_similarity`, a difflib ratio in per cent)?

Reads only: the writes (recording a diverted or linked submission) are in services.submit_request.

Matching is deliberately simple so that a person can explain it: the text and each keyword are
normalised (Unicode NFKC — full-width letters and digits become half-width —, lower case, runs of white
space as one space); a keyword in Chinese matches anywhere in the text, a keyword in Latin letters or
digits only as a whole word ("court" does not match "courtyard"). Rules are tried emergency first,
then litigation, arbitration and petition, each in admin order; the first keyword that matches decides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import get_language
from rapidfuzz import fuzz

from linjialin.core import rows
from linjialin.places.models import Level

from . import policy_cache
from .models import OPEN_STATES, Diversion, DiversionRule, ServiceRequest

KIND_ORDER = (Diversion.EMERGENCY, Diversion.LITIGATION, Diversion.ARBITRATION, Diversion.PETITION)
EMERGENCY_NUMBER = re.compile(r"(?<!\d)1(?:10|19|20|22)(?!\d)")
REPEAT_CANDIDATES = 50  # the most recent open requests at the place compared with a new submission


class PossibleRepeat(Exception):  # noqa: N818 (a condition the caller asks about, not a failure)
    """`submit_request(screen=True, repeat="ask")` found an open request like this one. Nothing was
    written: ask whether there are new facts, then submit again with repeat="link" (no new facts: the
    submission is recorded and linked to `existing`) or repeat="new" (it goes through as a new request)."""

    def __init__(self, existing: ServiceRequest):
        super().__init__(existing.number)
        self.existing = existing


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def _pattern(keyword: str) -> re.Pattern:
    """Latin/digit keywords as whole words; anything with CJK (or other scripts) anywhere."""
    escaped = re.escape(keyword)
    if keyword.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


def rule_keywords(rule: DiversionRule) -> list[str]:
    return [k for k in (normalise(line) for line in rule.keywords.splitlines()) if k]


@dataclass(frozen=True)
class Match:
    """A diversion rule that matched: which kind, the keyword (as normalised), what the person is told."""

    kind: str
    keyword: str
    message_zh: str
    message_en: str
    referred_to: str
    rule_id: int | None = None

    @property
    def emergency(self) -> bool:
        return self.kind == Diversion.EMERGENCY

    @property
    def message(self) -> str:
        """In the active language (English when asked and written, otherwise the Chinese)."""
        english = (get_language() or "").startswith("en")
        return self.message_en if english and self.message_en else self.message_zh

    @property
    def kind_label(self) -> str:
        return str(Diversion(self.kind).label)

    @property
    def call_number(self) -> str:
        """The emergency number this rule tells the person to call (110 / 119 / 120 / 122), or ""."""
        if not self.emergency:
            return ""
        found = EMERGENCY_NUMBER.search(self.referred_to) or EMERGENCY_NUMBER.search(self.message_zh)
        return found.group(0) if found else ""

    def data(self) -> dict:
        """What the timeline keeps, so the explanation survives later edits of the rule."""
        return {
            "diversion": self.kind,
            "keyword": self.keyword,
            "referred_to": self.referred_to,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "rule": self.rule_id,
        }

    @classmethod
    def from_data(cls, data: dict) -> Match | None:
        if not data.get("diversion"):
            return None
        return cls(
            kind=data["diversion"],
            keyword=data.get("keyword", ""),
            message_zh=data.get("message_zh", ""),
            message_en=data.get("message_en", ""),
            referred_to=data.get("referred_to", ""),
            rule_id=data.get("rule"),
        )


def active_rules() -> list[DiversionRule]:
    rules = [r for r in DiversionRule.objects.filter(active=True) if r.kind in KIND_ORDER]
    return sorted(rules, key=lambda r: (KIND_ORDER.index(r.kind), r.pk))


def _prepared(rules: list[DiversionRule]) -> list[tuple[DiversionRule, list[tuple[str, re.Pattern]]]]:
    """Each rule with its normalised keywords and their compiled patterns, in matching order."""
    return [(rule, [(k, _pattern_cached(k)) for k in rule_keywords(rule)]) for rule in rules]


_compiled: dict[str, re.Pattern] = {}


def _pattern_cached(keyword: str) -> re.Pattern:
    """Keyword patterns compiled once per process."""
    pattern = _compiled.get(keyword)
    if pattern is None:
        pattern = _compiled[keyword] = _pattern(keyword)
    return pattern


def _active_prepared() -> list[tuple[DiversionRule, list[tuple[str, re.Pattern]]]]:
    """The active rules, prepared, cached per process (policy_cache: a minute, cleared on save; read
    fresh inside a transaction)."""
    return policy_cache.diversion_rules(lambda: _prepared(active_rules()))


def match_diversion(text: str, rules: list[DiversionRule] | None = None) -> Match | None:
    """The first diversion rule whose keyword occurs in the text, or None."""
    norm = normalise(text)
    if not norm:
        return None
    for rule, keywords in _active_prepared() if rules is None else _prepared(rules):
        for keyword, pattern in keywords:
            if pattern.search(norm):
                return Match(
                    kind=rule.kind,
                    keyword=keyword,
                    message_zh=rule.message_zh,
                    message_en=rule.message_en,
                    referred_to=rule.referred_to,
                    rule_id=rule.pk,
                )
    return None


def diversion_of(req: ServiceRequest) -> Match | None:
    """What the submitter was told: from the request's "diverted" (or "diversion_overridden") event."""
    event = req.events.filter(kind__in=("diverted", "diversion_overridden")).order_by("-id").first()
    return Match.from_data(event.data) if event else None


def similarity(a: str, b: str) -> int:
    """The Indel similarity of the normalised texts in per cent (0–100): the same figure as difflib's
    SequenceMatcher ratio, computed by rapidfuzz (about a thousand times faster)."""
    return round(fuzz.ratio(normalise(a), normalise(b)))


def find_repeat(*, actor, requester, place, category, description: str, now=None) -> ServiceRequest | None:
    """An open request that this submission repeats, or None.

    Candidates: open, at the same place, submitted within `repeat_days`, and — at a household — any
    request of that household; elsewhere (an entrance, a public area) only one by the same requester or
    submitted by the same person. A candidate is a repeat when both have the same category, or when the
    texts are at least `repeat_similarity` per cent alike. The most recent repeat wins.

    Entered by staff with no requester (a patrol finding, a phone call) at a shared place: also any open
    request there with the same category, whoever submitted it — the place already has that matter open."""
    rules = policy_cache.request_rules()
    if not rules.repeat_days:
        return None
    now = now or timezone.now()
    # ServiceRequest.objects.filter(place=…, state__in=OPEN_STATES, submitted_at__gte=…), newest first, a
    # few columns: one plain statement (core/rows.py), as every resident's submission runs it. The match
    # is a model instance with the other fields deferred (loaded if read): what callers read of it (id,
    # number, state) needs no second query.
    states = ", ".join(["%s"] * len(OPEN_STATES))
    where = f"t.place_id = %s AND t.state IN ({states}) AND t.submitted_at >= %s"
    params = [place.pk, *OPEN_STATES, now - timedelta(days=rules.repeat_days)]
    if place.level != Level.HOUSEHOLD:
        who, params = ["t.submitted_by_id = %s"], [*params, actor.pk]
        if requester is not None:
            who, params = [*who, "t.requester_id = %s"], [*params, requester.pk]
        elif category is not None:
            who, params = [*who, "t.category_id = %s"], [*params, category.pk]
        where += f" AND ({' OR '.join(who)})"
    recent = rows.iterate(
        ServiceRequest,
        where,
        params,
        fields=_COLUMNS,
        order_by="t.submitted_at DESC, t.id DESC",
        limit=REPEAT_CANDIDATES,
    )
    text = normalise(description)
    for other in recent:
        if (category is not None and other.category_id == category.pk) or fuzz.ratio(
            text, normalise(other.description)
        ) >= rules.repeat_similarity:
            return other
    return None


_COLUMNS = ("id", "category_id", "description", "number", "state")


def outcome(req: ServiceRequest) -> dict:
    """What a client (the API) is told about a screened submission, in the active language: the
    diversion with its message and channel, or the open request it was linked to. Empty values for an
    ordinary request."""
    match = diversion_of(req) if req.diversion else None
    repeat_of = req.repeat_of if req.repeat_of_id else None
    return {
        "diversion": req.diversion or None,
        "diversion_message": match.message if match else "",
        "referred_to": match.referred_to if match else "",
        "repeat_of": repeat_of.pk if repeat_of else None,
        "repeat_of_number": repeat_of.number if repeat_of else "",
    }
