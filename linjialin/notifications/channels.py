"""External notification channels. A channel is a class with `send(notification)`; settings
NOTIFICATION_CHANNELS lists the dotted paths of the active ones (default: LogChannel only).

An SMS or WeChat channel calls its gateway in `send` and raises on failure: the task is then marked
failed (and kept for inspection, see core.tasks.prune_task_results) — the inbox row exists anyway.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("linjialin.notifications")

DEFAULT_CHANNELS = ["linjialin.notifications.channels.LogChannel"]


class LogChannel:
    """Writes the message to the log (development, and the default until a gateway is configured)."""

    label = _("the server log (no SMS or WeChat gateway yet)")

    def send(self, notification) -> None:
        logger.info(
            "notification %s to user %s [%s]: %s",
            notification.pk,
            notification.user_id,
            notification.kind,
            notification.title,
        )


def channel_paths() -> list[str]:
    return list(getattr(settings, "NOTIFICATION_CHANNELS", DEFAULT_CHANNELS))


def channel_label(path: str):
    """A channel in words (its class's `label`), for the audit page."""
    try:
        return getattr(import_string(path), "label", None) or path.rsplit(".", 1)[-1]
    except ImportError:
        return path.rsplit(".", 1)[-1]


def get_channel(path: str):
    if path not in channel_paths():
        raise ValueError(f"not a configured notification channel: {path}")
    return import_string(path)()
