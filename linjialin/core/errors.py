"""Errors that services raise and views/API turn into clear messages (never half-written data)."""

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: F401  (re-exported)


class NotFound(Exception):
    """Missing or outside the caller's scope: both answer 404 so existence is not leaked."""


class Conflict(Exception):
    """Someone else changed the object first (compare-and-set lost); the message says what happened."""
