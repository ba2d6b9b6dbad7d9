"""API tokens for integrations: the secret's shape, checking a presented token, and the ninja auth.

A token looks like `ljl_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored,
with its first 12 characters (`prefix`) to find the row and to name it in lists. A presented token
is looked up by its prefix and its hash compared in constant time. The token acts as its user: the
API sets `request.user` and `request.auth` to that user, so every endpoint applies the user's grants
and scope exactly as for a signed-in session.

Requests authenticated by a token need no CSRF token (a browser never sends it by itself); the
session path keeps the CSRF check (ninja's SessionAuth). Uses are not audited one by one:
`last_used_at` records the latest, written at most once per TOUCH_EVERY.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from .models import ApiToken, ApiTokenRules, User

PREFIX = "ljl_"
PREFIX_LENGTH = 12  # "ljl_" + 8 random characters: shown in lists, used to find the row
SECRET_BYTES = 32
# How stale last_used_at may get: a busy integration writes the row at most once a minute
# (a write-coalescing interval, not a policy).
TOUCH_EVERY = timedelta(minutes=1)


class TokenRejected(Exception):
    """A bearer token that was presented but cannot be used (answered 401 with this message)."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str, str]:
    """(secret, prefix, sha256 hex) of a fresh token whose prefix is not taken."""
    while True:
        secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        prefix = secret[:PREFIX_LENGTH]
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return secret, prefix, hash_secret(secret)


def rules() -> ApiTokenRules:
    return ApiTokenRules.objects.first() or ApiTokenRules()


def verify(secret: str) -> ApiToken:
    """The token row for a presented secret, or TokenRejected saying why it cannot be used."""
    secret = secret.strip()
    row = None
    if secret.startswith(PREFIX) and len(secret) > PREFIX_LENGTH:
        row = ApiToken.objects.select_related("user").filter(prefix=secret[:PREFIX_LENGTH]).first()
    # compare even when nothing was found, so a miss costs about the same as a wrong secret
    stored = row.token_hash if row is not None else "0" * 64
    if not hmac.compare_digest(stored, hash_secret(secret)) or row is None:
        raise TokenRejected(_("Invalid API token."))
    if row.revoked_at is not None:
        raise TokenRejected(_("This API token has been revoked."))
    if row.expires_at <= timezone.now():
        raise TokenRejected(_("This API token has expired."))
    if not row.user.is_active:
        raise TokenRejected(_("The account of this API token is disabled."))
    return row


def touch(token: ApiToken) -> None:
    """Record a use, at most once per TOUCH_EVERY (no write at all while the stamp is fresh)."""
    from .services import record_token_use

    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        record_token_use(token, at=now, not_since=now - TOUCH_EVERY)


def authenticate(secret: str) -> User:
    token = verify(secret)
    touch(token)
    return token.user


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer ljl_…` (an API token; see docs/api.md). No CSRF token needed."""

    openapi_bearerFormat = "ljl_…"
    openapi_description = (
        "An API token for an integration (a service account): `Authorization: Bearer ljl_…`. "
        "Created by a system administrator (page 'API tokens' or `linjialin api-token create`); "
        "it acts with its account's roles and scope. No CSRF token is needed."
    )

    def authenticate(self, request, token: str):
        user = authenticate(token)
        request.user = user  # the token's user, for anything that reads request.user
        return user


def list_api_tokens_for_user(user):
    """Every token (newest first) for a system administrator; None for anyone else."""
    from .services import may_manage_tokens

    if not may_manage_tokens(user):
        return None
    return ApiToken.objects.select_related("user", "created_by", "revoked_by").order_by("-created_at", "-pk")
