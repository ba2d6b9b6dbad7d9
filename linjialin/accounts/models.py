from datetime import date

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import PathField, Scope, ScopedQuerySet
from linjialin.places.models import Building, Place

from .roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, mobile, password=None, **extra):
        user = self.model(mobile=mobile, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, mobile, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(mobile, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Logs in with a mobile number. One person may hold several roles (RoleGrant)."""

    mobile = models.CharField(_("mobile"), max_length=11, unique=True)
    display_name = models.CharField(_("display name"), max_length=50)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)  # Django admin access only
    date_joined = models.DateTimeField(default=timezone.now)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # set when someone else chose the password (the demo loader, an initial password, an admin): the
    # owner is sent to the change-password page at sign-in (outside DEMO_MODE) until it is changed
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # raised by the database whenever one of the user's grants is written (migration 0005's triggers;
    # never lowered): the key of the per-process grants cache (accounts/scope.py)
    grants_version = models.PositiveIntegerField(default=0, editable=False)
    # an account of an integration (a hotline, a kiosk), not of a person: it holds the API tokens an
    # administrator issues and never signs in on a page (backends.ScopedBackend refuses it)
    is_service_account = models.BooleanField(_("service account"), default=False)

    objects = UserManager()
    USERNAME_FIELD = "mobile"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.mobile

    # --- the scope policy (core.scope.ScopedQuerySet calls this) ---------------------------------
    def scope_for(self, perm: str) -> Scope:
        from .scope import scope_for_user

        return scope_for_user(self, perm)


class RoleGrantQuerySet(ScopedQuerySet):
    def current(self, on: date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(valid_from__lte=on), Q(valid_to__isnull=True) | Q(valid_to__gte=on))


class RoleGrant(models.Model):
    """`user` holds `role` on `place` and everything below it, from `valid_from` to `valid_to`.

    A 楼长 grant also names the building (its reach is that building's entrances); a 层长 grant
    names the floor of its entrance (its reach is the households on that floor).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="grants")
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    path = PathField()
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    end_reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        ordering = ["path", "role", "-valid_from"]
        indexes = [models.Index(fields=["role", "path"]), models.Index(fields=["user", "valid_to"])]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.place}"

    def is_current(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.valid_from <= on and (self.valid_to is None or self.valid_to >= on)


# --- API tokens for integrations (accounts/tokens.py, docs/api.md) ----------------------------------
class ApiTokenRules(models.Model):
    """Token lifetimes are data (one row, admin-editable)."""

    default_days = models.PositiveSmallIntegerField(_("default token lifetime in days"), default=365)
    max_days = models.PositiveSmallIntegerField(_("longest token lifetime in days"), default=730)

    class Meta:
        verbose_name = _("API token rules")
        verbose_name_plural = _("API token rules")

    def __str__(self):
        return "API token rules"


class ApiToken(models.Model):
    """A bearer token for an integration. It acts as `user` (a dedicated service account), with that
    user's grants and scope. Only the SHA-256 of the secret is stored; `prefix` (the secret's first
    characters) identifies it in lists and logs."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired and self.user.is_active


# --- sign-in controls (accounts/throttle.py, accounts/sessions.py) ---------------------------------
class SignInRules(models.Model):
    """How sign-in attempts are slowed (one row, admin-editable). Failures are counted per mobile
    number, per address and per (number, address); each counter allows some failures, then imposes a
    delay that doubles with every further failure up to its ceiling. The ceiling per number alone is
    short: it is all a stranger elsewhere can impose on the owner."""

    free_failures_per_account = models.PositiveSmallIntegerField(
        _("failures per mobile number before delays"), default=3
    )
    free_failures_per_address = models.PositiveSmallIntegerField(
        _("failures per address before delays"), default=10
    )
    first_delay_seconds = models.PositiveSmallIntegerField(_("first delay in seconds"), default=2)
    max_delay_account_seconds = models.PositiveIntegerField(
        _("longest delay for a mobile number from any address, in seconds"), default=60
    )
    max_delay_pair_seconds = models.PositiveIntegerField(
        _("longest delay for a mobile number from one address, in seconds"), default=900
    )
    max_delay_address_seconds = models.PositiveIntegerField(
        _("longest delay for an address, in seconds"), default=900
    )
    forget_after_minutes = models.PositiveIntegerField(
        _("failures are forgotten after (minutes)"), default=60
    )

    class Meta:
        verbose_name = _("sign-in rules")
        verbose_name_plural = _("sign-in rules")

    def __str__(self):
        return "Sign-in rules"


class UserSession(models.Model):
    """One signed-in session of a user (Django's session row has no user column): the sessions page
    lists these and "sign out others" deletes the sessions behind them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(_("device"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["user", "last_seen"])]

    def __str__(self):
        return f"{self.user} · {self.ip or ''}"

    # (a mark in the user agent, the name shown), first match wins: Edge and WeChat also say "Chrome"
    _BROWSERS = (
        ("MicroMessenger", "WeChat"),
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    )
    _SYSTEMS = (
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "Mac"),
        ("Linux", "Linux"),
    )

    @property
    def device(self) -> str:
        """A person's words for the device ("Chrome · Android"), not the raw user agent."""
        ua = self.user_agent or ""
        browser = next((name for mark, name in self._BROWSERS if mark in ua), "")
        system = next((name for mark, name in self._SYSTEMS if mark in ua), "")
        return " · ".join(part for part in (browser, system) if part)
