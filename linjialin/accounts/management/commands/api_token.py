"""`linjialin api-token create|list|revoke`: API tokens for integrations, from the server's shell.

    linjialin api-token create --user 19900012345 --name "12345 hotline" [--days 365]
    linjialin api-token create --user 19900012345 --name "12345 hotline" \\
        --create-account --display-name "12345热线接口" --role subdistrict_dispatcher --place 110112008.
    linjialin api-token list
    linjialin api-token revoke ljl_AbCd1234 --reason "hotline contract ended"

The secret is printed once, on its own line; only its hash is kept. Whoever runs this holds the server
already, so it acts without a person (audited as the server command). Tokens are created only on
service accounts (User.is_service_account, made by --create-account), never on a person's account:
a token acts as its account. See docs/api.md.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from linjialin.accounts import services, tokens
from linjialin.accounts.models import ApiToken, User
from linjialin.accounts.roles import Role
from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_mobile
from linjialin.places.models import Place


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def _state(token: ApiToken) -> str:
    if token.revoked_at:
        return "revoked"
    if token.expires_at <= timezone.now():
        return "expired"
    return "active" if token.user.is_active else "account disabled"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "never"


class Command(BaseCommand):
    help = "API tokens for integrations: create, list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="create a token for an account; prints the secret once")
        create.add_argument("--user", required=True, help="mobile number (login) of the account")
        create.add_argument("--name", required=True, help="who uses the token, for what")
        create.add_argument("--days", type=int, default=None, help="lifetime (default: ApiTokenRules)")
        create.add_argument(
            "--create-account", action="store_true", help="create the service account if it does not exist"
        )
        create.add_argument("--display-name", default="", help="name of a new service account")
        create.add_argument(
            "--role", choices=[r.value for r in Role], help="grant this role to a new account"
        )
        create.add_argument("--place", help="path of the place for --role, e.g. 110112008.")
        sub.add_parser("list", help="every token: prefix, state, account, name, dates")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix", help="the token's prefix as listed (ljl_ and 8 characters)")
        revoke.add_argument("--reason", required=True)

    def handle(self, *args, subcommand: str, **options):
        getattr(self, f"_{subcommand}")(**options)

    def _create(self, *, user, name, days, create_account, display_name, role, place, **_):
        account = User.objects.filter(mobile=user).first()
        if account is None and not create_account:
            raise CommandError(
                f"No account has the mobile number {user} (add --create-account to create one)."
            )
        if account is None:
            account = self._service_account(user, display_name, role, place)
        elif role or place:
            raise CommandError("--role and --place only apply to a new account (--create-account).")
        elif not account.is_service_account:
            # a token acts as its account: nobody but its owner may mint one for a person
            raise CommandError(
                f"The account {mask_mobile(user)} is a person's, not a service account: integration tokens"
                " belong to a service account (use a new number with --create-account)."
            )
        try:
            token, secret = services.create_api_token(None, user=account, name=name, days=days)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        who = f"{account.display_name} ({mask_mobile(account.mobile)})"
        self.stdout.write(
            f'Token {token.prefix}… "{token.name}" for {who}, valid until {_when(token.expires_at)}.'
            " Store it now, it is not shown again:"
        )
        self.stdout.write(secret)

    def _service_account(self, mobile, display_name, role, place_path) -> User:
        if not display_name.strip():
            raise CommandError("A new account needs --display-name.")
        if bool(role) != bool(place_path):
            raise CommandError("--role and --place go together.")
        place = None
        if place_path:
            place = Place.objects.filter(path=place_path).first()
            if place is None:
                raise CommandError(f"No place has the path {place_path}.")
        if not (len(mobile) == 11 and mobile.isdigit() and mobile.startswith("1")):
            raise CommandError("--user must be 11 digits starting with 1 (the account's login).")
        try:
            account = services.create_service_account(None, mobile=mobile, display_name=display_name)
            if role:
                services.grant_role(None, user=account, role=role, place=place, check=False)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        self.stdout.write(f"Created the service account {account.display_name} ({mask_mobile(mobile)}).")
        return account

    def _list(self, **_):
        rows = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
        if not rows:
            self.stdout.write("No tokens.")
            return
        for t in rows:
            who = f"{mask_mobile(t.user.mobile)} {t.user.display_name}"
            dates = f"created {_when(t.created_at)}  expires {_when(t.expires_at)}"
            self.stdout.write(
                f'{t.prefix}…  {_state(t):<8}  {who}  "{t.name}"  {dates}  last used {_when(t.last_used_at)}'
            )

    def _revoke(self, *, prefix, reason, **_):
        token = ApiToken.objects.filter(prefix=prefix.rstrip("…").strip()[: tokens.PREFIX_LENGTH]).first()
        if token is None:
            raise CommandError(f"No token has the prefix {prefix}.")
        try:
            services.revoke_api_token(None, token, reason=reason)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except Conflict as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f'Revoked {token.prefix}… "{token.name}".')
