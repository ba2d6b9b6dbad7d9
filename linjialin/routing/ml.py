"""The router's text classifier (docs/routing.md §2). Pure Python + scikit-learn, no Django: the
same code trains from this instance's history, from a CSV file (`linjialin routing train`), and in
the benchmark.

Method, measured on real hotline messages (bench/results/routing.md):
- text: core.text.normalise (NFKC, lower case, phone and ID numbers replaced); when a message has a
  title (topic), the title is repeated `title_weight` times before the body — a title says in a few
  characters what the message is about — and the body is cut to `max_chars` (long messages add
  stories, not signal);
- features: TF-IDF over character 1–3-grams (no word segmentation needed; robust to typos and to
  the short, informal texts residents type), at most `max_features` of them;
- prior: the keyword rules (or a taxonomy's l2/l3 names) are added as extra training examples of
  their category, so a term that names a category counts even if history has few examples of it;
- model: a linear SVM (LinearSVC, one-vs-rest); confidences are a softmax of its decision values.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from linjialin.core.text import normalise

METHOD = "char 1-3-gram TF-IDF (title ×3, body ≤ 300 chars) + LinearSVC, keyword rules / taxonomy as prior"


@dataclass(frozen=True)
class Params:
    title_weight: int = 3
    max_chars: int = 300
    ngram_max: int = 3
    max_features: int = 100_000
    c: float = 1.0
    tol: float = 1e-3
    softmax_scale: float = 3.0


def prepare(text: str, title: str = "", *, params: Params = Params()) -> str:
    """The text a model sees: normalised, the title repeated before the body, the body cut."""
    body = normalise(text)[: params.max_chars]
    title = normalise(title)
    return " ".join([title] * params.title_weight + [body]) if title else body


@dataclass
class Classifier:
    """A fitted vectoriser + linear model and its class labels (category codes or any strings)."""

    params: Params
    vectorizer: object
    model: object
    labels: list[str]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        prior: Sequence[tuple[str, str]] = (),
        params: Params = Params(),
        prepared: bool = False,
        weights: Sequence[float] | None = None,
    ) -> Classifier:
        """Train on (text, label) pairs. `prior`: (term, label) pairs added as extra examples, only
        for labels that occur in `labels` (a prior never invents a class history has not seen).
        `prepared`: the texts already went through `prepare` (with their titles)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        docs = list(texts) if prepared else [prepare(t, params=params) for t in texts]
        ys = list(labels)
        ws = list(weights) if weights is not None else [1.0] * len(ys)
        known = set(ys)
        for term, label in prior:
            if label in known:
                docs.append(normalise(term))
                ys.append(label)
                ws.append(1.0)
        if len(known) < 2:
            raise ValueError("at least two classes are needed to train")
        vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, params.ngram_max),
            max_features=params.max_features,
            dtype=np.float32,
            lowercase=False,  # normalise() already folded the case
        )
        matrix = vectorizer.fit_transform(docs)
        vectorizer.stop_words_ = None  # the n-grams cut by max_features: only for introspection, often huge
        model = LinearSVC(C=params.c, dual=True, tol=params.tol)
        model.fit(matrix, ys, sample_weight=np.asarray(ws, dtype=np.float64) if weights is not None else None)
        # float32 weights: half the size to store and load, same ranking
        model.coef_ = model.coef_.astype(np.float32)
        model.intercept_ = model.intercept_.astype(np.float32)
        return cls(params=params, vectorizer=vectorizer, model=model, labels=[str(c) for c in model.classes_])

    def scores(self, prepared_texts: Sequence[str]) -> np.ndarray:
        """Softmax confidences, one row per text, columns in `labels` order."""
        decision = self.model.decision_function(self.vectorizer.transform(prepared_texts))
        if decision.ndim == 1:  # two classes: one column, positive = labels[1]
            decision = np.column_stack([-decision, decision])
        z = decision * self.params.softmax_scale
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def top(self, text: str, k: int = 3, *, title: str = "") -> list[tuple[str, float]]:
        row = self.scores([prepare(text, title, params=self.params)])[0]
        order = np.argsort(-row)[:k]
        return [(self.labels[i], float(row[i])) for i in order]

    def predict(self, prepared_texts: Sequence[str]) -> list[str]:
        return [str(p) for p in self.model.predict(self.vectorizer.transform(prepared_texts))]

    # --- storage: a compressed pickle of our own object, written and read only by this module ----
    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return zlib.compress(buffer.getvalue(), 6)

    @staticmethod
    def loads(blob: bytes) -> Classifier:
        return pickle.loads(zlib.decompress(blob))  # noqa: S301 — our own blobs from our own database


@dataclass
class Report:
    """Accuracy, macro-F1, per-class precision/recall/support and the confusion matrix."""

    n: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": self.per_class,
            "labels": self.labels,
            "confusion": self.confusion,
        }

    def render(self) -> str:
        width = max([len(lb) for lb in self.labels] + [6]) * 2  # CJK takes two columns
        lines = [f"n={self.n}  accuracy={self.accuracy:.4f}  macro-F1={self.macro_f1:.4f}", ""]
        lines.append(f"{'class':<{width}}  precision  recall  f1      support")
        for label in self.labels:
            pc = self.per_class[label]
            lines.append(
                f"{_pad(label, width)}  {pc['precision']:.3f}      {pc['recall']:.3f}   {pc['f1']:.3f}   "
                f"{pc['support']}"
            )
        lines += ["", "confusion (rows: true, columns: predicted, in the order above)"]
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{_pad(label, width)}  " + " ".join(f"{v:>4}" for v in row))
        return "\n".join(lines)


def _pad(label: str, width: int) -> str:
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in label)
    return label + " " * max(width - shown, 0)


def evaluate(truth: Sequence[str], predicted: Sequence[str]) -> Report:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    if not truth:
        return Report(n=0, accuracy=0.0, macro_f1=0.0, labels=labels)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    support = Counter(truth)
    return Report(
        n=len(truth),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=sorted(support), average="macro", zero_division=0)),
        labels=labels,
        per_class={
            lb: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lb in enumerate(labels)
        },
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
    )


@dataclass
class Trained:
    classifier: Classifier
    heldout: Report
    n_train: int
    n_heldout: int


def train_and_score(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prior: Sequence[tuple[str, str]] = (),
    holdout_percent: int = 20,
    params: Params = Params(),
    prepared: bool = False,
    weights: Sequence[float] | None = None,
) -> Trained:
    """Hold out the LAST `holdout_percent` % of the examples (pass them oldest first: the newest are
    scored, as they would be in use), train on the rest and score; then train the model that is kept
    on all of them."""
    docs = list(texts) if prepared else [prepare(t, params=params) for t in texts]
    ys = list(labels)
    cut = len(docs) - max(1, len(docs) * holdout_percent // 100)
    ws = list(weights) if weights is not None else None
    # the two fits are independent and liblinear runs without the GIL: side by side on two cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        scoring_job = pool.submit(
            Classifier.fit,
            docs[:cut],
            ys[:cut],
            prior=prior,
            params=params,
            prepared=True,
            weights=ws[:cut] if ws else None,
        )
        final_job = pool.submit(
            Classifier.fit, docs, ys, prior=prior, params=params, prepared=True, weights=ws
        )
        scoring, final = scoring_job.result(), final_job.result()
    report = evaluate(ys[cut:], scoring.predict(docs[cut:]))
    return Trained(classifier=final, heldout=report, n_train=len(docs), n_heldout=len(docs) - cut)
