"""The only write path for accounts: users, logins, role grants and 楼门长 coverage."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_mobile
from linjialin.core.scope import scope_for

from .models import RoleGrant, User
from .roles import LEADER_ROLES, ROLES, Perm, Role
from .scope import clear_cache


# --- logins -------------------------------------------------------------------------------------
def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > timezone.now())


def record_login_success(user: User) -> None:
    with transaction.atomic():
        # an administrator's lock (locked_until) is theirs to lift: a sign-in never clears it
        User.objects.filter(pk=user.pk).update(failed_logins=0, last_login=timezone.now())
        audit.record("login.success", actor=user, obj=user, path="")


def record_login_failure(mobile: str, *, wait_seconds: int = 0) -> None:
    """A failed sign-in: counted on the account for the audit trail and the admin, never locking it
    (a lock strangers could trigger; accounts/throttle.py slows guessing instead). `wait_seconds`: the
    wait the throttle now imposes on the next attempt."""
    with transaction.atomic():
        user = User.objects.filter(mobile=mobile).only("pk").first()
        after = {"mobile": mask_mobile(mobile)}
        if user is not None:
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            after["failures"] = User.objects.filter(pk=user.pk).values_list("failed_logins", flat=True)[0]
        if wait_seconds:
            after["wait_seconds"] = wait_seconds
        audit.record(
            "login.failure",
            actor=None,
            actor_name=mask_mobile(mobile),
            object_type="accounts.user",
            object_id=str(user.pk) if user else "",
            object_repr=mask_mobile(mobile),
            path="",
            after=after,
        )


def record_login_refused(user: User) -> None:
    """A login attempt on a locked account, refused before the password was checked."""
    audit.record(
        "login.locked",
        actor=None,
        actor_name=mask_mobile(user.mobile),
        object_type="accounts.user",
        object_id=str(user.pk),
        object_repr=mask_mobile(user.mobile),
        path="",
        after={"mobile": mask_mobile(user.mobile), "locked_until": user.locked_until.isoformat()},
    )


def record_logout(user: User) -> None:
    audit.record("logout", actor=user, obj=user, path="")


def create_user(
    actor: User | None, *, mobile: str, display_name: str, password: str | None, language="zh-hans"
) -> User:
    """Create an account. `actor=None` only for setup code (demo, commands); a person needs to manage
    coverage or grants somewhere."""
    if actor is not None and not any(
        not scope_for(actor, perm).is_empty for perm in (Perm.MANAGE_COVERAGE, Perm.MANAGE_GRANTS)
    ):
        raise PermissionDenied(_("You may not create accounts."))
    if User.objects.filter(mobile=mobile).exists():
        raise ValidationError({"mobile": _("A user with this mobile number already exists.")})
    if password is not None:
        try:
            validate_password(password, User(mobile=mobile, display_name=display_name))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        user = User.objects.create_user(
            mobile,
            password,
            display_name=display_name,
            language=language,
            # a password someone else chose (an initial password handed over) is changed at first sign-in
            must_change_password=actor is not None and password is not None,
        )
        audit.record("user.created", actor=actor, obj=user, path="", after={"mobile": mask_mobile(mobile)})
    return user


def set_language(user: User, *, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    User.objects.filter(pk=user.pk).update(language=language)


# --- grants -------------------------------------------------------------------------------------
def _require(actor: User, perm: Perm, path: str) -> None:
    if not scope_for(actor, perm).covers(path):
        raise PermissionDenied(_("You may not do that here."))


def grant_role(
    actor: User | None,
    *,
    user: User,
    role: str,
    place,
    building=None,
    floor: int | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    check: bool = True,
) -> RoleGrant:
    """Give `user` a role on `place`. `check=False` only for setup commands (demo, createadmin)."""
    role = Role(role)
    spec = ROLES[role]
    if place.level != spec.level:
        raise ValidationError({"place": _("This role is granted on a place of another level.")})
    if role == Role.BUILDING_LEADER and (building is None or building.compound.community_id != place.pk):
        raise ValidationError({"building": _("A building leader needs a building in this community.")})
    if role == Role.FLOOR_LEADER and floor is None:
        raise ValidationError({"floor": _("A floor leader needs a floor.")})
    if check:
        needed = Perm.MANAGE_COVERAGE if role in LEADER_ROLES else Perm.MANAGE_GRANTS
        _require(actor, needed, place.path)
    with transaction.atomic():
        grant = RoleGrant.objects.create(
            user=user,
            role=role,
            place=place,
            building=building,
            floor=floor,
            path=place.path,
            valid_from=valid_from or timezone.localdate(),
            valid_to=valid_to,
            granted_by=actor,
        )
        audit.record(
            "grant.created",
            actor=actor,
            obj=grant,
            after={
                "user": user.pk,
                "role": role.value,
                "place": place.pk,
                "building": building.pk if building else None,
                "floor": floor,
            },
        )
    clear_cache(user)
    return grant


def end_grant(actor: User, grant: RoleGrant, *, reason: str, on: date | None = None) -> RoleGrant:
    """End a grant yesterday-inclusive: from `on` (default today) the user no longer holds it."""
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    needed = Perm.MANAGE_COVERAGE if grant.role in LEADER_ROLES else Perm.MANAGE_GRANTS
    _require(actor, needed, grant.path)
    on = on or timezone.localdate()
    with transaction.atomic():
        updated = RoleGrant.objects.filter(pk=grant.pk, valid_to__isnull=True).update(
            valid_to=on - timedelta(days=1), ended_by=actor, end_reason=reason.strip()[:200]
        )
        if updated != 1:
            raise Conflict(_("This assignment has already been ended."))
        grant.refresh_from_db()
        audit.record(
            "grant.ended", actor=actor, obj=grant, reason=reason, after={"valid_to": str(grant.valid_to)}
        )
    clear_cache(grant.user)
    return grant


def assign_leader(
    actor: User,
    *,
    role: str,
    place,
    user: User,
    building=None,
    floor: int | None = None,
    reason: str = "",
    expected_holders: Collection[int] | None = None,
) -> RoleGrant:
    """Assign (or replace) the 楼门长 of an entrance, the 楼长 of a building, or the 层长 of a floor.

    A current holder of the same post is ended in the same transaction, so a post never has two.
    `expected_holders`: the grant ids of the post the actor saw when deciding; if the post changed
    since (someone else assigned or ended), nothing is written and Conflict says so.
    """
    role = Role(role)
    if role not in LEADER_ROLES:
        raise ValidationError({"role": _("Not a leader role.")})
    _require(actor, Perm.MANAGE_COVERAGE, place.path)
    with transaction.atomic():
        post = RoleGrant.objects.filter(role=role, place=place, building=building, floor=floor)
        current = list(post.current().select_for_update().select_related("user"))
        if expected_holders is not None:
            seen = set(post.filter(pk__in=list(expected_holders)).values_list("pk", flat=True))
            if {g.pk for g in current} != seen:
                raise Conflict(
                    _(
                        "Someone else changed this post while you were looking. "
                        "Check who holds it now and try again."
                    )
                )
        if any(g.user_id == user.pk for g in current):
            raise ValidationError(
                {"candidate": _("%(name)s already holds this post.") % {"name": user.display_name}}
            )
        for old in current:
            end_grant(actor, old, reason=reason or _("replaced"))
        grant = grant_role(actor, user=user, role=role, place=place, building=building, floor=floor)
    grant.replaced = current
    return grant


# --- API tokens (accounts/tokens.py, docs/api.md) ---------------------------------------------------
def may_manage_tokens(actor) -> bool:
    """Only a system administrator (accounts.manage_grants everywhere): a token acts as its account,
    wherever that account's grants reach."""
    return bool(
        actor is not None and actor.is_authenticated and scope_for(actor, Perm.MANAGE_GRANTS).everywhere
    )


def create_service_account(actor: User | None, *, mobile: str, display_name: str) -> User:
    """An account for an integration (User.is_service_account): it holds API tokens and never signs
    in on a page (no password). A system administrator, or the server command (`actor=None`)."""
    if actor is not None and not may_manage_tokens(actor):
        raise PermissionDenied(_("Only a system administrator may manage API tokens."))
    display_name = (display_name or "").strip()
    errors = {}
    if not display_name:
        errors["display_name"] = _("Please name the service account.")
    if User.objects.filter(mobile=mobile).exists():
        errors["mobile"] = _("A user with this mobile number already exists.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(mobile, None, display_name=display_name, is_service_account=True)
        audit.record(
            "user.created",
            actor=actor,
            actor_name=None if actor is not None else "linjialin api-token (server command)",
            obj=user,
            path="",
            after={"mobile": mask_mobile(mobile), "service_account": True},
        )
    return user


def _check_token_holder(actor: User | None, user: User) -> None:
    """Who may create a token on `user`'s account. A token acts as its account, so:

    - integration tokens belong to service accounts (User.is_service_account), issued by a system
      administrator or the server command (`actor=None`, whose operator already holds the server);
    - a person's account holds only the tokens its owner created: nobody else — an administrator or
      the server command included — can mint a token that acts as a resident or an officer.
    """
    if user.is_service_account:
        if actor is not None and not may_manage_tokens(actor):
            raise PermissionDenied(_("Only a system administrator may manage API tokens."))
        return
    if actor is not None and actor.pk == user.pk:
        return
    if actor is not None and not may_manage_tokens(actor):
        raise PermissionDenied(_("Only a system administrator may manage API tokens."))
    raise ValidationError(
        {
            "user": _(
                "This is a person's account: only its owner may create a token for it. Integration "
                "tokens belong to a service account."
            )
        }
    )


def _tell_token_owner(token, *, actor: User | None) -> None:
    """A token created on a person's account is announced to that person (in their inbox), so a token
    they did not create themselves — a stolen session — does not go unnoticed."""
    from django.utils.translation import gettext_lazy

    from linjialin.notifications.services import notify

    notify(
        [token.user],
        kind="api_token.created",
        title=gettext_lazy("An API token was created for your account"),
        body=gettext_lazy(
            "The API token “%(name)s” (%(prefix)s…) acts as you until %(expires)s. If you did not "
            "create it, tell the system administrator at once: it can be revoked."
        ),
        params={
            "name": token.name,
            "prefix": token.prefix,
            "expires": timezone.localtime(token.expires_at).strftime("%Y-%m-%d"),
        },
        dedupe_key=f"api_token.created:{token.pk}",
        actor=actor,
    )


def create_api_token(actor: User | None, *, user: User, name: str, days: int | None = None):
    """A new token for `user` → (token row, secret). The secret is returned only here, never stored.

    `user` is a service account (a system administrator, or the server command with `actor=None`,
    creates it) or the actor's own account; a token on a person's account notifies that person.
    `days` defaults to ApiTokenRules.default_days and may not exceed max_days.
    """
    from . import tokens
    from .models import ApiToken

    _check_token_holder(actor, user)
    rules = tokens.rules()
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Please name the token (who uses it, for what).")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if days is None:
        days = rules.default_days
    if not 1 <= days <= rules.max_days:
        errors["days"] = _("Between 1 and %(max)d days.") % {"max": rules.max_days}
    if not user.is_active:
        errors["user"] = _("This account is disabled.")
    if errors:
        raise ValidationError(errors)
    secret, prefix, digest = tokens.new_secret()
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            token_hash=digest,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        audit.record(
            "api_token.created",
            actor=actor,
            actor_name=None if actor is not None else "linjialin api-token (server command)",
            obj=token,
            path="",
            after={
                "user": user.pk,
                "user_mobile": mask_mobile(user.mobile),
                "name": name,
                "prefix": prefix,
                "expires_at": token.expires_at.isoformat(),
                "service_account": user.is_service_account,
            },
        )
        if not user.is_service_account:
            _tell_token_owner(token, actor=actor)
    return token, secret


def revoke_api_token(actor: User | None, token, *, reason: str):
    """Revoke a token now; it answers 401 from the next request. Revoking twice is a Conflict."""
    from .models import ApiToken

    own = actor is not None and actor.pk == token.user_id  # a person may revoke their own token
    if actor is not None and not own and not may_manage_tokens(actor):
        raise PermissionDenied(_("Only a system administrator may manage API tokens."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please give a reason.")})
    now = timezone.now()
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, revoke_reason=reason[:200]
        )
        if updated != 1:
            raise Conflict(_("This API token has already been revoked."))
        token.refresh_from_db()
        audit.record(
            "api_token.revoked",
            actor=actor,
            actor_name=None if actor is not None else "linjialin api-token (server command)",
            obj=token,
            path="",
            reason=reason,
            after={"user": token.user_id, "prefix": token.prefix, "revoked_at": now.isoformat()},
        )
    return token


def record_token_use(token, *, at, not_since) -> None:
    """Stamp a token's last use (not audited: one row per use would drown the trail). Only when the
    stored stamp is older than `not_since`, so concurrent requests write it once."""
    from django.db.models import Q

    from .models import ApiToken

    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=not_since), pk=token.pk).update(
        last_used_at=at
    )
    token.last_used_at = at


# --- passwords ------------------------------------------------------------------------------------
def change_password(user: User, *, old: str, new: str, keep_session_key: str | None) -> int:
    """The owner changes their password: the old one must be right, the new one must pass the policy
    (AUTH_PASSWORD_VALIDATORS, which knows the mobile). Every other session of the user is signed out
    (returns how many). Nothing is written when a check fails."""
    from .sessions import sign_out_other_sessions

    errors = {}
    if not user.check_password(old or ""):
        errors["old_password"] = [_("Your current password is not right.")]
    if new and old and new == old:
        errors["new_password1"] = [_("The new password must differ from the current one.")]
    else:
        try:
            validate_password(new or "", user)
        except ValidationError as exc:
            errors["new_password1"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user.set_password(new)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit.record("password.changed", actor=user, obj=user, path="")
        ended = sign_out_other_sessions(user, keep_key=keep_session_key, reason="password changed")
    return ended


def require_password_change(actor: User, user: User) -> None:
    """An administrator set `user`'s password (or wants it renewed): changed at the next sign-in."""
    if not (actor.is_superuser or not scope_for(actor, Perm.MANAGE_GRANTS).is_empty):
        raise PermissionDenied(_("You may not do that."))
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(must_change_password=True)
        audit.record("password.change_required", actor=actor, obj=user, path="")
