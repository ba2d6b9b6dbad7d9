"""The in-app inbox: one row per person and message. External channels (SMS, WeChat …) are tasks
enqueued with the row, see services.notify and channels.py."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import PathField


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    path = PathField(blank=True)  # the place the message is about ("" when none)
    dedupe_key = models.CharField(max_length=120, blank=True)
    # the object the message is about, "<app_label>.<model>:<pk>" ("" when none): the inbox groups by it,
    # and opening the object (or its moving on) marks the messages about it read
    subject = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""), name="notify_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["dedupe_key"]),
            models.Index(fields=["user", "subject", "read_at"], name="notify_user_subject_read"),
            models.Index(fields=["subject", "read_at"], name="notify_subject_read"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
