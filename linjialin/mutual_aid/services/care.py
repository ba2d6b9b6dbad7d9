"""Placeholder: being written."""

AUDIT_LABELS: dict = {}
AUDIT_PERSONAL: tuple = ()
