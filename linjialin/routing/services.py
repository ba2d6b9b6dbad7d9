"""Writes of the router: training and storing model versions (docs/routing.md §3).

Labels come from this instance's history: a request that a handler accepted (or that went further)
carries the category it ended with, and a request whose category a dispatcher corrected
(`recategorise`, a timeline event) carries the corrected one, whatever its state — such corrections
weigh `RoutingRules.correction_weight` times an ordinary example. Requests never handled nor
corrected (submitted only, not accepted, withdrawn, merged into another, diverted) are left out.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from linjialin.accounts.roles import Perm
from linjialin.core import audit
from linjialin.core.scope import scope_for
from linjialin.service_requests.models import Category, RequestEvent, ServiceRequest, State

from . import ml
from .models import KeywordRule, ModelVersion, RoutingRules

logger = logging.getLogger("linjialin.routing")

HANDLED_STATES = (
    State.ACCEPTED,
    State.IN_PROGRESS,
    State.EXTENSION_REQUESTED,
    State.ESCALATED,
    State.RETURNED,
    State.RESOLVED,
    State.CALLED_BACK,
    State.CLOSED,
)
METHOD = ml.METHOD


def rules() -> RoutingRules:
    return RoutingRules.objects.first() or RoutingRules()


def may_retrain(actor) -> bool:
    """The system (actor None: the nightly task, the server command), a dispatcher, a system admin."""
    if actor is None:
        return True
    return (
        not scope_for(actor, Perm.DISPATCH_REQUESTS).is_empty
        or scope_for(actor, Perm.MANAGE_GRANTS).everywhere
    )


def keyword_prior() -> list[tuple[str, str]]:
    """(keyword, category code) of every active rule: extra training examples for the model."""
    return [
        (word, code)
        for code, words in KeywordRule.objects.filter(active=True, category__active=True).values_list(
            "category__code", "keywords"
        )
        for word in words.splitlines()
        if word.strip()
    ]


def history_examples() -> tuple[list[str], list[str], list[bool]]:
    """(descriptions, category codes, corrected?) of handled requests and of requests whose category a
    dispatcher corrected (service_requests.services.recategorise_request), oldest first."""
    corrected = RequestEvent.objects.filter(request=OuterRef("pk"), kind="recategorise")
    rows = (
        ServiceRequest.objects.filter(category__isnull=False, diversion="")
        .annotate(corrected=Exists(corrected))
        .filter(Q(state__in=HANDLED_STATES) | Q(corrected=True))
        .order_by("submitted_at", "pk")
        .values_list("description", "category__code", "corrected")
    )
    texts, labels, flags = [], [], []
    for text, code, flag in rows.iterator(chunk_size=5000):
        texts.append(text)
        labels.append(code)
        flags.append(flag)
    return texts, labels, flags


@dataclass
class TrainResult:
    version: ModelVersion | None
    promoted: bool
    message: str


def train_from_history(actor=None) -> TrainResult:
    """Train on this instance's handled requests; keep the version; make it current if it scores at
    least as well on held-out history as the current one. Not enough history: nothing is written."""
    if not may_retrain(actor):
        raise PermissionDenied(_("Only a dispatcher or a system administrator may retrain the router."))
    settings_row = rules()
    texts, labels, flags = history_examples()
    counts = Counter(labels)
    keep = {code for code, n in counts.items() if n >= settings_row.min_per_category}
    rows = [(t, c, f) for t, c, f in zip(texts, labels, flags, strict=True) if c in keep]
    pairs = [(t, c) for t, c, _f in rows]
    if len(pairs) < settings_row.min_training_requests or len(keep) < 2:
        message = _(
            "Not enough handled history to train: %(n)s requests in %(k)s categories "
            "(needed: %(min)s, in at least two categories); suggestions come from the keyword rules."
        ) % {"n": len(pairs), "k": len(keep), "min": settings_row.min_training_requests}
        logger.info("routing: %s", message)
        return TrainResult(version=None, promoted=False, message=message)
    return _train(
        actor,
        [t for t, _c in pairs],
        [c for _t, c in pairs],
        weights=[settings_row.correction_weight if f else 1.0 for _t, _c, f in rows],
        source=ModelVersion.Source.HISTORY,
        holdout_percent=settings_row.holdout_percent,
    )


def train_from_rows(
    actor,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    note: str = "",
    prior: Sequence[tuple[str, str]] = (),
) -> TrainResult:
    """Train from a labelled file (oldest first). Labels that are category codes or Chinese names of
    this instance's categories are mapped to the codes and the version may become current; with
    other labels (another taxonomy) the version is kept with its scores but never used for
    suggestions. `prior`: (name, label) pairs, e.g. the file's own taxonomy, used as extra examples
    (with the keyword rules when the labels are our categories)."""
    if not may_retrain(actor):
        raise PermissionDenied(_("Only a dispatcher or a system administrator may retrain the router."))
    if len(texts) != len(labels) or len(set(labels)) < 2 or len(texts) < 5:
        raise ValidationError(_("The file needs at least 5 labelled rows in at least two classes."))
    by_name = {}
    for code, name in Category.objects.filter(active=True).values_list("code", "name_zh"):
        by_name[code] = code
        by_name.setdefault(name, code)
    mapped = [by_name.get(str(lb).strip()) for lb in labels]
    usable = all(mapped)
    params = ml.Params()
    docs = [ml.prepare(t, (titles[i] if titles else ""), params=params) for i, t in enumerate(texts)]
    return _train(
        actor,
        docs,
        mapped if usable else [str(lb).strip() for lb in labels],
        source=ModelVersion.Source.FILE,
        holdout_percent=rules().holdout_percent,
        prepared=True,
        may_serve=usable,
        note=note,
        extra_prior=[(term, by_name.get(label, label) if usable else label) for term, label in prior],
    )


def _train(
    actor,
    texts,
    labels,
    *,
    source,
    holdout_percent,
    weights=None,
    prepared=False,
    may_serve=True,
    note="",
    extra_prior=(),
) -> TrainResult:
    started = time.perf_counter()
    trained = ml.train_and_score(
        texts,
        labels,
        prior=(keyword_prior() if may_serve else []) + list(extra_prior),
        holdout_percent=holdout_percent,
        prepared=prepared,
        weights=weights,
    )
    seconds = time.perf_counter() - started
    blob = trained.classifier.dumps()
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().filter(current=True).first()
        promoted = may_serve and (current is None or trained.heldout.accuracy >= current.accuracy)
        if promoted and current is not None:
            ModelVersion.objects.filter(pk=current.pk).update(current=False)
        if not may_serve:
            note = (
                note + " " + _("labels are not categories of this instance: not used for suggestions")
            ).strip()
        version = ModelVersion.objects.create(
            created_by=actor,
            source=source,
            method=METHOD,
            trained_on=trained.n_train,
            heldout_n=trained.n_heldout,
            accuracy=trained.heldout.accuracy,
            macro_f1=trained.heldout.macro_f1,
            labels=trained.classifier.labels,
            report=trained.heldout.as_dict(),
            train_seconds=round(seconds, 2),
            current=promoted,
            note=note[:300],
            blob=blob,
        )
        audit.record(
            "routing.train",
            actor=actor,
            obj=version,
            before={
                "current": current.pk if current else None,
                "accuracy": current.accuracy if current else None,
            },
            after={
                "version": version.pk,
                "source": source,
                "trained_on": version.trained_on,
                "accuracy": round(version.accuracy, 4),
                "macro_f1": round(version.macro_f1, 4),
                "current": promoted,
            },
        )
    if promoted:
        message = _("Model #%(pk)s trained on %(n)s examples (held-out accuracy %(acc).3f) is now in use.")
    else:
        message = _(
            "Model #%(pk)s trained on %(n)s examples (held-out accuracy %(acc).3f) is kept but not used: "
            "the current model scored better."
        )
        if not may_serve:
            message = _(
                "Model #%(pk)s trained on %(n)s examples (held-out accuracy %(acc).3f) is kept for reference."
            )
    return TrainResult(
        version=version,
        promoted=promoted,
        message=message % {"pk": version.pk, "n": version.trained_on, "acc": version.accuracy},
    )
