"""The audit page (`audit:list`, permission audit.view): who did or saw what, where and when.

It lives in accounts, not core, because it needs the place tree (place filter and names) and user
accounts (actor by mobile); core stays free of domain apps (import-linter contract).

Scope: an auditor sees the events whose place path lies in their audit.view scope. Events without
a place (logins, logouts, account creation: empty path) belong to no community, so they are shown
only to auditors whose scope is everywhere (system admin) or a whole subdistrict (the subdistrict
auditor); a community secretary, whose audit scope is one community, does not see the logins of
the whole system.

"Who saw whose personal data": choose "Personal data seen or exported" in the action filter — full
numbers shown (resident.unmasked, with the reason given) and roster exports — and narrow by actor,
by the person whose data it was ("subject") and by place.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linjialin.core import audit, audit_confidential, audit_labels
from linjialin.core.masking import mask_mobile
from linjialin.core.scope import Scope, scope_for, under
from linjialin.places.models import Level, Place

from . import audit_detail
from .roles import Perm

PAGE_SIZE = 50
PERSONAL_DATA = "personal_data"
ACTION_LABELS = {
    "login.success": _("Logged in"),
    "login.failure": _("Login failed"),
    "login.locked": _("Login locked after repeated failures"),
    "logout": _("Logged out"),
    "user.created": _("Account created"),
    "grant.created": _("Role given"),
    "grant.ended": _("Role ended"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
}


action_label = audit_labels.label


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who (name or mobile)"), max_length=50, required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    subject = forms.CharField(label=_("Whose data / object"), max_length=100, required=False)
    place = forms.ChoiceField(label=_("Place"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions, places, unplaced, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            ("", _("All actions")),
            (PERSONAL_DATA, _("Personal data seen or exported")),
        ] + sorted(((a, action_label(a)) for a in actions), key=lambda c: str(c[1]))
        choices = [("", _("Everywhere I may audit"))]
        if unplaced:
            choices.append(("none", _("Without a place (logins, accounts)")))
        for p in places:
            indent = "\u00a0\u00a0" * (p.level - Level.COMMUNITY) if p.level > Level.COMMUNITY else ""
            choices.append((str(p.pk), f"{indent}{p.name}"))
        self.fields["place"].choices = choices
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("“To” is before “From”."))
        return data


def _places_for_filter(user, scope: Scope) -> list[Place]:
    """Subdistricts, communities and grids the auditor may filter by (entrances are too many)."""
    return list(
        Place.objects.visible_to(user, Perm.VIEW_AUDIT).filter(level__lte=Level.GRID).order_by("path")
    )


@login_required
def audit_list(request):
    user = request.user
    events = audit.events_for_user(user, perm=Perm.VIEW_AUDIT)
    if events is None:
        raise PermissionDenied
    scope = scope_for(user, Perm.VIEW_AUDIT)
    unplaced = audit.sees_unplaced(scope)
    places = _places_for_filter(user, scope)
    actions = set(events.order_by().values_list("action", flat=True).distinct()) | audit_labels.known()
    form = AuditFilterForm(request.GET or None, actions=actions, places=places, unplaced=unplaced)
    status = 200
    if form.is_bound and form.is_valid():
        events = _apply(events, form.cleaned_data, {str(p.pk): p for p in places})
    elif form.is_bound:
        events, status = events.none(), 422
    paginator = Paginator(events.select_related("actor").order_by("-seq"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # confidential objects (mediation, counselling): no names or content outside their circle
    listed = audit_confidential.redact(list(page.object_list), user)
    paths = {e.path for e in listed if e.path}
    place_names = dict(Place.objects.filter(path__in=paths).values_list("path", "name"))
    rows = [
        {
            "event": e,
            "label": action_label(e.action),
            "object_kind": audit_detail.object_kind(e.object_type) if e.object_type else "",
            "changes": audit_detail.changes(e),
            "place": place_names.get(e.path, ""),
            "actor_mobile": mask_mobile(e.actor.mobile) if e.actor_id and e.actor else "",
            "personal": e.action in audit_labels.personal(),
        }
        for e in listed
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "unplaced": unplaced,
        "total": paginator.count,
    }
    return render(request, "core/audit_list.html", context, status=status)


def _apply(events, data, places: dict[str, Place]):
    if actor := data["actor"].strip():
        if actor.isdigit() and len(actor) == 11:
            # a failed login has no actor account: it is recorded under the masked mobile that was typed
            events = events.filter(
                Q(actor__mobile=actor) | Q(action="login.failure", actor_name=mask_mobile(actor))
            )
        elif actor.isdigit():
            events = events.filter(actor__mobile__contains=actor)
        else:
            events = events.filter(Q(actor_name__icontains=actor) | Q(actor__display_name__icontains=actor))
    if action := data["action"]:
        events = (
            events.filter(action__in=audit_labels.personal())
            if action == PERSONAL_DATA
            else events.filter(action=action)
        )
    if subject := data["subject"].strip():
        events = events.filter(object_repr__icontains=subject).exclude(audit_confidential.q())
    if place := data["place"]:
        if place == "none":
            events = events.filter(path="")
        elif place in places:
            events = events.filter(under(places[place].path))
    tz = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=tz))
    if data["date_to"]:
        events = events.filter(
            at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=tz)
        )
    return events
