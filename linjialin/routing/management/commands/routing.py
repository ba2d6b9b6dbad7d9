"""`linjialin routing evaluate|train|retrain` (docs/routing.md §5)."""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


def _cols(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


class Command(BaseCommand):
    help = (
        "Category router. evaluate: train on one labelled CSV and score on another (accuracy, macro-F1, "
        "per-class precision/recall, confusion matrix). train: train a model version from a labelled CSV. "
        "retrain: train from this instance's handled requests (as the nightly task does)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ev = sub.add_parser("evaluate", help="train on --train, score on --test")
        ev.add_argument("--train", required=True, metavar="A.csv")
        ev.add_argument("--test", required=True, metavar="B.csv")
        for p in (ev, tr := sub.add_parser("train", help="train a model version from a labelled file")):
            p.add_argument(
                "--text-cols",
                help="comma-separated; the first of several is the title (default: topic,detail, or text)",
            )
            p.add_argument("--label-col", default="label")
            p.add_argument(
                "--prior",
                metavar="TAXONOMY.csv",
                help="names per label (first column the label, "
                "e.g. l1,l2,l3) added as training examples; default: a taxonomy CSV beside the "
                "training file whose first column names its classes, if any",
            )
            p.add_argument("--no-prior", action="store_true", help="use no taxonomy prior")
        tr.add_argument("--data", required=True, metavar="A.csv")
        sub.add_parser("retrain", help="train from the handled history now")

    def handle(self, *args, **opts):
        return getattr(self, f"_{opts['action']}")(opts)

    def _read(self, path, opts):
        from linjialin.routing.files import FileError, read_labelled

        try:
            return read_labelled(path, _cols(opts.get("text_cols")), opts.get("label_col") or "label")
        except FileError as exc:
            raise CommandError(str(exc)) from None

    def _prior(self, data_path, labels, opts) -> list[tuple[str, str]]:
        from linjialin.routing.files import FileError, find_prior, read_prior

        if opts.get("no_prior"):
            self.stdout.write("prior: none")
            return []
        path = opts.get("prior") or find_prior(data_path, labels)
        if not path:
            self.stdout.write("prior: none (no taxonomy CSV beside the training file)")
            return []
        try:
            prior = read_prior(path)
        except FileError as exc:
            raise CommandError(str(exc)) from None
        used = [p for p in prior if p[1] in set(labels)]
        self.stdout.write(f"prior: {len(used)} names from {path}")
        return used

    def _evaluate(self, opts):
        from linjialin.routing import ml

        train, test = self._read(opts["train"], opts), self._read(opts["test"], opts)
        prior = self._prior(opts["train"], train.labels, opts)
        params = ml.Params()
        started = time.perf_counter()
        docs = [ml.prepare(t, h, params=params) for t, h in zip(train.texts, train.titles, strict=True)]
        try:
            classifier = ml.Classifier.fit(docs, train.labels, params=params, prepared=True, prior=prior)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.perf_counter() - started
        predicted = classifier.predict(
            [ml.prepare(t, h, params=params) for t, h in zip(test.texts, test.titles, strict=True)]
        )
        report = ml.evaluate(test.labels, predicted)
        self.stdout.write(f"method: {ml.METHOD}")
        self.stdout.write(
            f"train: {len(train.labels)} rows, {len(set(train.labels))} classes ({seconds:.2f} s)"
        )
        self.stdout.write(f"test: {len(test.labels)} rows")
        self.stdout.write(report.render())

    def _train(self, opts):
        from linjialin.routing.services import train_from_rows

        data = self._read(opts["data"], opts)
        prior = self._prior(opts["data"], data.labels, opts)
        try:
            result = train_from_rows(
                None,
                data.texts,
                data.labels,
                titles=data.titles,
                note=f"from {opts['data']}"[:300],
                prior=prior,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(str(result.message))
        version = result.version
        self.stdout.write(
            f"held-out: {version.heldout_n} rows, accuracy {version.accuracy:.4f}, "
            f"macro-F1 {version.macro_f1:.4f}; {version.train_seconds:.2f} s"
        )

    def _retrain(self, opts):
        from linjialin.routing.services import train_from_history

        result = train_from_history(None)
        self.stdout.write(str(result.message))
