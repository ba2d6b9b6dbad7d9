"""API token page for system administrators (`accounts:tokens`): list, create, revoke.

- GET: every token, newest first — name, account (mobile masked), the token's prefix only, created
  (by whom), expires, last used, state; active ones carry a revoke form with a reason.
- POST (create): the account by mobile number, a name, the lifetime in days (ApiTokenRules). The
  secret is shown once, on the answer to this POST (never stored, never in a redirect), with
  `Cache-Control: no-store`.
- POST `<id>/revoke/`: with a reason; redirects back with a message.

Only a system administrator (accounts.manage_grants everywhere) manages tokens: anyone else gets 403
on the page and 404 for a token (they see none). The page issues tokens on service accounts only
(User.is_service_account): a person's account is refused with a message on the field, as a token acts
as its account. Writes go through accounts.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_mobile

from . import services, tokens
from .forms import MOBILE_RE
from .models import User


class CreateTokenForm(forms.Form):
    mobile = forms.RegexField(
        label=gettext_lazy("Account (mobile number of the service account)"),
        regex=MOBILE_RE,
        max_length=11,
        error_messages={"invalid": gettext_lazy("Enter an 11-digit mobile number.")},
    )
    name = forms.CharField(label=gettext_lazy("Name (who uses it, for what)"), max_length=100)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1)

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        # the lifetime limits are data (ApiTokenRules): the field is built from them
        self.fields["days"] = forms.IntegerField(
            label=self.fields["days"].label, min_value=1, max_value=rules.max_days, initial=rules.default_days
        )
        self.fields["days"].widget.attrs.update(inputmode="numeric")
        self.fields["mobile"].widget.attrs.update(inputmode="numeric", autocomplete="off")

    def clean_mobile(self):
        user = User.objects.filter(mobile=self.cleaned_data["mobile"]).first()
        if user is None:
            raise ValidationError(_("No account has this mobile number."))
        return user


class RevokeTokenForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for revoking"),
        max_length=200,
        error_messages={"required": gettext_lazy("Please give a reason.")},
    )


def _tokens_or_403(user):
    qs = tokens.list_api_tokens_for_user(user)
    if qs is None:
        raise PermissionDenied
    return qs


def _render(request, form, *, created=None, secret=None):
    rows = list(_tokens_or_403(request.user))
    for t in rows:
        t.mobile_masked = mask_mobile(t.user.mobile)
    context = {"form": form, "rows": rows, "created": created, "secret": secret, "rules": tokens.rules()}
    response = render(request, "accounts/tokens.html", context)
    if secret:
        add_never_cache_headers(response)  # the one answer that carries a secret is never cached
    return response


@login_required
def token_list(request):
    _tokens_or_403(request.user)
    rules = tokens.rules()
    if request.method != "POST":
        return _render(request, CreateTokenForm(rules=rules))
    form = CreateTokenForm(request.POST, rules=rules)
    if form.is_valid():
        try:
            token, secret = services.create_api_token(
                request.user,
                user=form.cleaned_data["mobile"],
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                field = "mobile" if field == "user" else field  # the account is chosen by its mobile
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _render(request, CreateTokenForm(rules=rules), created=token, secret=secret)
    return _render(request, form)


@login_required
@require_POST
def token_revoke(request, token_id):
    qs = tokens.list_api_tokens_for_user(request.user)
    token = qs.filter(pk=token_id).first() if qs is not None else None
    if token is None:
        raise Http404
    form = RevokeTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect("accounts:tokens")
    try:
        services.revoke_api_token(request.user, token, reason=form.cleaned_data["reason"])
    except (ValidationError, Conflict) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
