"""The audit chain's secret: an HMAC key kept outside the database.

Someone who can write to the database but cannot read this key cannot recompute the chain after
editing an event (core.audit.event_hash keys every link with it). It comes from the environment
(`LINJIALIN_AUDIT_KEY`, at least 32 characters) or, failing that, is generated on first use into
`settings.AUDIT_KEY_FILE` (var/audit_key, next to var/secret_key; never in the repository or the
database). Back it up apart from the database: without it the chain cannot be verified.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENV = "LINJIALIN_AUDIT_KEY"
MIN_LENGTH = 32


def key() -> bytes:
    """The key the chain is written and verified with."""
    if value := os.environ.get(ENV, "").strip():
        if len(value) < MIN_LENGTH:
            raise ImproperlyConfigured(f"{ENV} must have at least {MIN_LENGTH} characters")
        return value.encode()
    return _file_key(str(settings.AUDIT_KEY_FILE))


@functools.cache
def _file_key(path: str) -> bytes:
    """Read the key file, creating it first if there is none (as settings.py does for the secret key;
    O_EXCL so that two processes starting at once end up with the same key)."""
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    value = file.read_text().strip()
    if len(value) < MIN_LENGTH:
        raise ImproperlyConfigured(f"{file} holds no audit key (at least {MIN_LENGTH} characters)")
    return value.encode()


def key_id(k: bytes | None = None) -> str:
    """A short name of the key (not the key): checkpoints carry it, so a verify run with another key
    says so instead of calling every event edited."""
    return hmac.new(k or key(), b"linjialin audit key id", hashlib.sha256).hexdigest()[:12]


def sign(message: str, k: bytes | None = None) -> str:
    """HMAC-SHA256 of `message` under the key (hex)."""
    return hmac.new(k or key(), message.encode(), hashlib.sha256).hexdigest()


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
