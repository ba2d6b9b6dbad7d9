from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scope import PathField


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did or saw what (DESIGN.md §6).

    `hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of the row)`, the key kept outside the
    database (core/audit_key.py); `linjialin audit verify` recomputes the chain, checks it against the
    signed checkpoints kept outside the database too (core/audit_checkpoints.py) and names the first row
    or checkpoint that does not match. Rows are written only by `core.audit.record`.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    path = PathField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    scope_field = "path"

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_repr}"


class AuditChain(models.Model):
    """The single head of the hash chain; locked (SELECT … FOR UPDATE) while appending."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"audit chain head #{self.last_seq}"


class AuditCheck(models.Model):
    """One run of `linjialin audit verify` or of the scheduled check (core/audit_checkpoints.py): what
    the auditor's home shows, without walking the chain per page view. The proof is the checkpoint
    file outside the database; this row is only its news."""

    class Kind(models.TextChoices):
        FULL = "full", _("whole chain")
        SINCE_CHECKPOINT = "since", _("since the last checkpoint")

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FULL)
    ok = models.BooleanField()
    checked = models.BigIntegerField(default=0)  # events walked
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    broken_seq = models.BigIntegerField(null=True, blank=True)  # the first event that fails
    checkpoint_line = models.PositiveIntegerField(null=True, blank=True)  # the first checkpoint that fails
    problem = models.CharField(max_length=500, blank=True)
    checkpoint = models.CharField(max_length=300, blank=True)  # the checkpoint line written (when OK)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"audit check {self.at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'BROKEN'}"


class ScheduledSlot(models.Model):
    """One row per (job, slot): the unique constraint makes two beats fire a slot once."""

    name = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="one_enqueue_per_slot")]

    def __str__(self):
        return f"{self.name} @ {self.slot:%Y-%m-%d %H:%M}"


class CalendarDay(models.Model):
    """An exception to the normal week (Mon–Fri work, Sat–Sun rest) for working-day time limits.

    A `holiday` makes a day a rest day (a statutory holiday on a weekday; rows for holidays that fall on a
    weekend are harmless). A `workday` makes a weekend day a working day (调休 make-up working day).
    Read through `linjialin.core.calendar`; edited by admins (admin → Calendar days), see docs/calendar.md.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday (rest day)")
        WORKDAY = "workday", _("make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, help_text=_("For example 春节 or 国庆节调休上班."))
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name} ({self.get_kind_display()})"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.WORKDAY and self.date and self.date.weekday() < 5:
            msg = _("A make-up working day must be a Saturday or a Sunday (weekdays already are).")
            raise ValidationError({"kind": msg})


class RetentionRule(models.Model):
    """How long one class of data is kept (PIPL: no longer than needed). One row per data class; the
    nightly `enforce_retention` job deletes or blanks what is older (core/retention.py, which also knows
    each class's legal minimum: the audit trail is kept at least 6 months, 等保 level 3)."""

    data_class = models.CharField(_("data class"), max_length=40, unique=True)
    keep_days = models.PositiveIntegerField(_("keep for (days)"), default=1095)
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["data_class"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            # the database refuses it too, whatever writes the row
            models.CheckConstraint(
                condition=~models.Q(data_class="audit") | models.Q(keep_days__gte=183),
                name="audit_kept_at_least_six_months",
            )
        ]

    def __str__(self):
        return f"{self.data_class}: {self.keep_days}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .retention import minimum_days

        least = minimum_days(self.data_class)
        if self.keep_days is not None and self.keep_days < least:
            raise ValidationError(
                {"keep_days": _("This data must be kept at least %(days)d days.") % {"days": least}}
            )
