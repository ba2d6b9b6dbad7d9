"""Category routing (docs/routing.md): keyword rules (data, seeded per category), the router's
settings (data, one row) and the trained model versions (stored in the database, shared by all web
nodes)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linjialin.service_requests.models import Category


class KeywordRule(models.Model):
    """Words that point to a category (one per line, matched on normalised text). They give
    suggestions from day one and are the trained model's prior (each keyword is an extra example)."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    keywords = models.TextField(
        _("keywords"), help_text=_("One per line; full-width and case do not matter.")
    )
    weight = models.FloatField(_("weight"), default=1.0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category__code", "pk"]
        verbose_name = _("routing keyword rule")
        verbose_name_plural = _("routing keyword rules")

    def __str__(self):
        return f"{self.category.code}: {' / '.join(self.keywords.split())[:60]}"


class RoutingRules(models.Model):
    """The router's settings (data, one row; the model defaults apply without a row)."""

    min_training_requests = models.PositiveIntegerField(
        _("handled requests needed before a model is trained"), default=50
    )
    min_per_category = models.PositiveSmallIntegerField(
        _("examples a category needs to be learned"), default=3
    )
    correction_weight = models.FloatField(
        _("weight of a request whose category a dispatcher corrected (ordinary: 1)"), default=2.0
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("newest history held out for scoring (%)"), default=20
    )
    model_weight = models.FloatField(
        _("weight of the trained model against the keyword rules (0–1)"), default=0.7
    )
    min_confidence = models.FloatField(_("smallest confidence shown"), default=0.05)
    suggestions = models.PositiveSmallIntegerField(_("suggestions shown"), default=3)

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def __str__(self):
        return str(_("routing settings"))


class ModelVersion(models.Model):
    """One trained classifier with its held-out scores. Exactly one version is current at a time
    (the one `suggest` uses); a new one becomes current only if it scores at least as well."""

    class Source(models.TextChoices):
        HISTORY = "history", _("this instance's handled requests")
        FILE = "file", _("a labelled file")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    method = models.CharField(_("method"), max_length=200)
    trained_on = models.PositiveIntegerField(_("trained on (examples)"))
    heldout_n = models.PositiveIntegerField(_("held-out examples"))
    accuracy = models.FloatField(_("held-out accuracy"))
    macro_f1 = models.FloatField(_("held-out macro-F1"))
    labels = models.JSONField(_("classes"), default=list)
    report = models.JSONField(_("held-out report"), default=dict, blank=True)
    train_seconds = models.FloatField(_("training time (s)"), default=0)
    current = models.BooleanField(_("current"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    blob = models.BinaryField(_("serialized model"), editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("routing model version")
        verbose_name_plural = _("routing model versions")
        constraints = [
            models.UniqueConstraint(
                fields=["current"], condition=models.Q(current=True), name="one_current_model"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.created_at:%Y-%m-%d %H:%M} acc={self.accuracy:.3f}"
