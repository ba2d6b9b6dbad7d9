"""Every write of a mediation case (DESIGN.md §3; the law and practice in DOMAIN.md §4).

Each service takes an explicit actor, checks who may act (the workflow's transition table for state
changes: lead or manager accepts and closes, any team member or manager records outcomes), checks the
input (a ValidationError naming the field; nothing written), then writes in one transaction: the change
(compare-and-set through the workflow, or a conditional UPDATE), the case timeline (CaseEvent; `public`
for the steps a party sees on their own page), the notices, and one audit event last.

Errors: ValidationError (bad input), PermissionDenied (the actor may not do this on this case),
TransitionNotAllowed (the case is not in a state that allows it, or the workflow refuses the actor),
Conflict (someone else changed it first).

The agreement and 司法确认 are in services/agreements.py (re-exported here).

Law encoded here: mediation is voluntary (every party consents and is told their rights before the case
is accepted; a refusal ends it as not accepted); the one-month limit from acceptance, extended only with
the parties' consent; follow-up visits, a prompting task on a lapse; the lesson and re-prevention tasks
at closing.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.accounts.selectors import home_roles, is_staff_user, users_holding
from linjialin.core import audit
from linjialin.core.calendar import period_end_days, period_end_months
from linjialin.core.errors import Conflict
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.reasons import clean_reason
from linjialin.core.scope import scope_for, under
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.notifications.services import Message, notify, notify_many
from linjialin.places.models import Level, Place, Resident

from .. import selectors
from ..models import (
    AgreementItem,
    Case,
    CaseDocument,
    CaseEvent,
    CaseMember,
    CaseParty,
    CaseState,
    Consent,
    CounsellingNote,
    DisputeType,
    DocumentKind,
    Extension,
    FollowUp,
    MediationSession,
    Objection,
    Outcome,
    PartyKind,
    PartySide,
    Performance,
    PreventionTask,
    ReferralChannel,
    ReferredBy,
    Source,
    TaskKind,
    TaskState,
    TeamRole,
)
from ..workflow import ENDED_STATES, lead_or_manager, manager, member, member_or_manager, workflow

S = CaseState

AUDIT_LABELS = {
    "mediation.case.registered": gettext_lazy("mediation case registered"),
    "mediation.case.police_notified": gettext_lazy("police notified of a mediation case"),
    "mediation.party.added": gettext_lazy("party added to a mediation case"),
    "mediation.party.consent": gettext_lazy("party's consent to mediation recorded"),
    "mediation.member.added": gettext_lazy("member added to a mediation team"),
    "mediation.member.removed": gettext_lazy("member removed from a mediation team"),
    "mediation.objection.recorded": gettext_lazy("objection to a mediator recorded"),
    "mediation.case.accepted": gettext_lazy("mediation case accepted"),
    "mediation.case.not_accepted": gettext_lazy("mediation case not accepted"),
    "mediation.case.withdrawn": gettext_lazy("mediation case withdrawn"),
    "mediation.session.recorded": gettext_lazy("mediation session recorded"),
    "mediation.document.added": gettext_lazy("document added to a mediation case"),
    "mediation.counselling.added": gettext_lazy("counselling note written"),
    "mediation.case.extended": gettext_lazy("mediation case extended"),
    "mediation.agreement.recorded": gettext_lazy("mediation agreement recorded"),
    "mediation.case.failed": gettext_lazy("mediation ended without agreement"),
    "mediation.court.applied": gettext_lazy("court confirmation applied for"),
    "mediation.court.step": gettext_lazy("court confirmation step recorded"),
    "mediation.followup.recorded": gettext_lazy("follow-up visit recorded"),
    "mediation.case.closed": gettext_lazy("mediation case closed"),
    "mediation.task.created": gettext_lazy("prevention task created"),
    "mediation.task.finished": gettext_lazy("prevention task finished"),
    "mediation.task.cancelled": gettext_lazy("prevention task cancelled"),
    "mediation.case.viewed": gettext_lazy("mediation case file viewed"),
    "mediation.document.viewed": gettext_lazy("mediation case document downloaded"),
    "mediation.party.unmasked": gettext_lazy("party's full numbers shown"),
    "mediation.case.overdue": gettext_lazy("mediation case overdue (sweep)"),
    "mediation.followup.overdue": gettext_lazy("follow-up visit overdue (sweep)"),
}
AUDIT_PERSONAL = ("mediation.case.viewed", "mediation.document.viewed", "mediation.party.unmasked")

MOBILE = re.compile(r"^1\d{10}$")
ID_NUMBER = re.compile(r"^[0-9A-Z]{18}$")  # resident ID (last may be X) or unified social credit code
MAX_UPLOAD = 20 * 1024 * 1024
MAGIC = {  # the first bytes of the files a case file takes → (extension, content type)
    b"%PDF": ("pdf", "application/pdf"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"\x89PNG": ("png", "image/png"),
    b"PK\x03\x04": ("zip", "application/zip"),  # .docx / .odt / .xlsx: told apart by the name below
}
OFFICE = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
}
REPREVENTION_KINDS = (TaskKind.TALK, TaskKind.HOUSE_RULE, TaskKind.REPAIR, TaskKind.PREVENTION)
MAX_EXTENSION_DAYS = 90


# --- small helpers ----------------------------------------------------------------------------------------
def _text(value, field: str, message, errors: dict, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = message
    elif max_length and len(value) > max_length:
        errors[field] = _("At most %(n)d characters.") % {"n": max_length}
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _state(case: Case, states, action) -> None:
    """TransitionNotAllowed unless the case is in one of `states` (the action in words)."""
    if case.state not in states:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": action, "state": S(case.state).label}
        )


def _require(ok: bool, message) -> None:
    if not ok:
        raise PermissionDenied(message)


def _event(case: Case, kind: str, actor, note: str = "", *, public: bool = False, **data) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        at=timezone.now(),
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        actor_name=getattr(actor, "display_name", "") if actor is not None else "",
        note=note,
        public=public,
        data=data,
    )


def _audit(action: str, actor, case: Case, *, obj=None, before=None, after=None, reason: str = ""):
    return audit.record(
        action,
        actor=actor,
        obj=obj if obj is not None else case,
        path=case.path,
        before=before,
        after={"case": case.pk, **(after or {})},
        reason=reason,
    )


def _link(case: Case, name: str = "mediation:case") -> str:
    try:
        return reverse(name, args=[case.pk])
    except NoReverseMatch:
        return (
            f"/mediation/mine/{case.pk}/" if name == "mediation:my_case" else f"/mediation/cases/{case.pk}/"
        )


def managers_of(case_or_path) -> list:
    path = case_or_path if isinstance(case_or_path, str) else case_or_path.path
    return list(users_holding("mediation.manage", path))


def community_mediators(community: Place) -> list:
    """The mediators (专职调解员) whose grant covers `community` (a mediator is granted at a community; a
    grant above it covers it too)."""
    from linjialin.accounts.roles import Role

    return list(users_holding("mediation.work", community.path, roles={Role.MEDIATOR}))


def _tell_community_mediators(case: Case, place: Place, managers: list, actor) -> None:
    """A new application or referral → the community's mediators too (besides the managers). They are
    not on its team yet, and a case is confidential to its team (selectors.visible_cases), so the notice
    names only the number and the community, and leads to their desk, not to a case they cannot open;
    the centre's managers form the team."""
    told = {u.pk for u in managers} | ({actor.pk} if actor is not None else set())
    # the place's community (the place itself when none is above it, e.g. a case at the subdistrict)
    community = Place.objects.filter(path__in=place.ancestor_paths, level=Level.COMMUNITY).first() or place
    mediators = [u for u in community_mediators(community) if u.pk not in told]
    if not mediators:
        return
    notify(
        mediators,
        kind="mediation.application.new",
        title=gettext_lazy("New mediation application from %(community)s: case %(number)s"),
        body=gettext_lazy(
            "The centre's managers form its team; you can open the case once you are on it. "
            "Ask a manager if you can take it."
        ),
        params={"number": case.number, "community": community.name},
        link=_link_desk(),
        path=case.path,
        actor=actor,
    )


def _link_desk() -> str:
    try:
        return reverse("mediation:desk")
    except NoReverseMatch:
        return "/mediation/"


def team_users(case: Case) -> list:
    return [m.user for m in selectors.team(case)]


def _party_users(case: Case) -> list:
    return [p.user for p in case.parties.select_related("user") if p.user_id]


def _tell(users, case: Case, kind: str, title, body="", *, link_name="mediation:case", actor=None, key=""):
    """A notice to `users` (each in their own language), about `case`."""
    notify(
        [u for u in users if u is not None and (actor is None or u.pk != actor.pk)],
        kind=kind,
        title=title,
        body=body,
        params={"number": case.number, "title": case.title},
        link=_link(case, link_name),
        path=case.path,
        dedupe_key=key,
        actor=actor,
    )


def _site(text) -> str:
    """`text` in the site's language (timeline notes and stored titles)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _as_date(value, field: str, errors: dict) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors[field] = _("Please give a date.")
    return None


def _team_role_of(user) -> str:
    """The team role a user's grants suggest (the registrar joins the team with it)."""
    by_grant = {
        "lawyer": TeamRole.LAWYER,
        "social_worker": TeamRole.SOCIAL_WORKER,
        "counsellor": TeamRole.COUNSELLOR,
        "mediator": TeamRole.MEDIATOR,
        "police_officer": TeamRole.POLICE,
        "judge": TeamRole.JUDGE,
        "respected_resident": TeamRole.RESPECTED,
    }
    for grant in home_roles(user):
        if grant.role in by_grant:
            return by_grant[grant.role]
    return TeamRole.MEDIATOR


def may_register(user, place) -> bool:
    return scope_for(user, "mediation.work").covers(place.path) or scope_for(user, "mediation.manage").covers(
        place.path
    )


# --- registration -----------------------------------------------------------------------------------------
def _clean_party(data: dict, index: int, errors: dict) -> CaseParty:
    prefix = f"parties.{index}"
    name = (data.get("name") or "").strip()
    if not name:
        errors[f"{prefix}.name"] = _("Please give the party's name.")
    side = data.get("side") or PartySide.APPLICANT
    if side not in PartySide.values:
        errors[f"{prefix}.side"] = _("Unknown side.")
    kind = data.get("kind") or PartyKind.PERSON
    if kind not in PartyKind.values:
        errors[f"{prefix}.kind"] = _("Unknown kind of party.")
    mobile = re.sub(r"[\s-]", "", data.get("mobile") or "")
    if mobile and not MOBILE.match(mobile):
        errors[f"{prefix}.mobile"] = _("A mobile number has 11 digits and starts with 1.")
    rep_mobile = re.sub(r"[\s-]", "", data.get("representative_mobile") or "")
    if rep_mobile and not MOBILE.match(rep_mobile):
        errors[f"{prefix}.representative_mobile"] = _("A mobile number has 11 digits and starts with 1.")
    id_number = (data.get("id_number") or "").strip().upper()
    if id_number and not ID_NUMBER.match(id_number):
        errors[f"{prefix}.id_number"] = _("An ID number or credit code has 18 characters.")
    resident = data.get("resident")
    if resident is not None and not isinstance(resident, Resident):
        errors[f"{prefix}.resident"] = _("Unknown resident.")
    user = data.get("user")
    if user is not None and not isinstance(user, get_user_model()):
        errors[f"{prefix}.user"] = _("Unknown user.")
    return CaseParty(
        side=side,
        kind=kind,
        name=name[:100],
        mobile=mobile[:11],
        id_number=id_number[:18],
        address=(data.get("address") or "").strip()[:200],
        representative=(data.get("representative") or "").strip()[:100],
        representative_mobile=rep_mobile[:11],
        resident=resident if isinstance(resident, Resident) else None,
        user=user if isinstance(user, get_user_model()) else None,
        public_session=bool(data.get("public_session", True)),
    )


def _link_residents(rows: list[CaseParty], place: Place) -> None:
    """A person registered at the desk with the mobile of a resident of the subdistrict (mobiles are
    unique among residents) is that resident: the party is linked to the resident and their login, so
    they follow their case on their own page (mediation:my_cases) like an applicant from the phone."""
    subdistrict = place.path.split(".", 1)[0] + "."
    wanted = {r.mobile for r in rows if r.kind == PartyKind.PERSON and r.mobile and r.resident_id is None}
    if not wanted:
        return
    found: dict[str, list[Resident]] = {}
    for resident in Resident.objects.filter(under(subdistrict), mobile__in=wanted).select_related("user"):
        found.setdefault(resident.mobile, []).append(resident)
    for row in rows:
        match = found.get(row.mobile) if row.kind == PartyKind.PERSON and row.resident_id is None else None
        if match and len(match) == 1:
            row.resident = match[0]
            if row.user_id is None and match[0].user_id:
                row.user = match[0].user


def _repeats(place, parties: list[CaseParty], now: datetime, exclude: int | None = None):
    """Earlier cases with the same party (by mobile, ID number or resident) or at the same place within
    rules.repeat_lookback_days: (cases, reason in the site language)."""
    since = now - timedelta(days=selectors.rules().repeat_lookback_days)
    mobiles = {p.mobile for p in parties if p.mobile}
    ids = {p.id_number for p in parties if p.id_number}
    residents = {p.resident_id for p in parties if p.resident_id}
    party_q = Q(pk__in=[])
    if mobiles:
        party_q |= Q(mobile__in=mobiles)
    if ids:
        party_q |= Q(id_number__in=ids)
    if residents:
        party_q |= Q(resident_id__in=residents)
    recent = Case.objects.filter(registered_at__gte=since)
    if exclude:
        recent = recent.exclude(pk=exclude)
    by_party = set(
        CaseParty.objects.filter(party_q, case__in=recent).values_list("case_id", flat=True).distinct()
    )
    by_place = set(recent.filter(place_id=place.pk).values_list("pk", flat=True))
    found = {c.pk: c for c in recent.filter(pk__in=by_party | by_place).order_by("registered_at")}
    parts = []
    with translation.override(settings.LANGUAGE_CODE):
        if by_party:
            numbers = "、".join(found[pk].number for pk in sorted(by_party) if pk in found)
            parts.append(_("same party as %(numbers)s") % {"numbers": numbers})
        if by_place:
            numbers = "、".join(found[pk].number for pk in sorted(by_place) if pk in found)
            parts.append(_("same place as %(numbers)s") % {"numbers": numbers})
    return list(found.values()), "; ".join(parts)[:200]


def _number(case: Case) -> str:
    return f"T{timezone.localtime(case.registered_at):%Y}-{case.pk:05d}"


def _register(
    actor,
    *,
    source: str,
    title: str,
    dispute_type: str,
    place,
    facts: str,
    dispute_items: str = "",
    parties: list,
    location: str = "",
    risk_flag: bool = False,
    risk_note: str = "",
    referred_by: str = "",
    referring_body: str = "",
    finding=None,
    service_request_id: int | None = None,
    join_team: bool = True,
    event_data: dict | None = None,
    tell_managers: bool = False,
) -> Case:
    """Validate and write a new case (the permission was checked by the caller)."""
    errors: dict = {}
    if source not in Source.values:
        errors["source"] = _("Unknown source.")
    title = _text(title, "title", _("Please give the case a short title."), errors, max_length=100)
    if dispute_type not in DisputeType.values:
        errors["dispute_type"] = _("Choose the type of dispute.")
    facts = _text(facts, "facts", _("Please describe the facts."), errors, max_length=5000)
    if len(dispute_items or "") > 5000:
        errors["dispute_items"] = _("At most %(n)d characters.") % {"n": 5000}
    if not isinstance(place, Place):
        errors["place"] = _("Choose the place of the dispute.")
    if source == Source.REFERRAL and referred_by not in ReferredBy.values:
        errors["referred_by"] = _("Say who referred the case: police, court or a department.")
    if referred_by and referred_by not in ReferredBy.values:
        errors["referred_by"] = _("Say who referred the case: police, court or a department.")
    if not parties:
        errors["parties"] = _("Please give at least one party.")
    rows = [_clean_party(p or {}, i, errors) for i, p in enumerate(parties or [])]
    _raise(errors)
    if isinstance(place, Place):
        _link_residents(rows, place)
    now = timezone.now()
    earlier, reason = _repeats(place, rows, now)
    with transaction.atomic():
        case = Case(
            number=uuid.uuid4().hex[:20],
            title=title,
            dispute_type=dispute_type,
            source=source,
            referred_by=referred_by or "",
            referring_body=(referring_body or "").strip()[:100],
            finding=finding,
            service_request_id=service_request_id,
            place=place,
            path=place.path,
            location=(location or "").strip()[:200],
            facts=facts,
            dispute_items=(dispute_items or "").strip(),
            risk_flag=bool(risk_flag),
            risk_note=(risk_note or "").strip(),
            repeat_reason=reason,
            registered_by=actor if actor is not None and actor.is_authenticated else None,
            registered_at=now,
        )
        case.save(force_insert=True)
        case.number = _number(case)
        Case.objects.filter(pk=case.pk).update(number=case.number)
        for row in rows:
            row.case = case
        CaseParty.objects.bulk_create(rows)
        if earlier:
            case.repeat_of.add(*earlier)
        if join_team and actor is not None and scope_for(actor, "mediation.work").covers(place.path):
            CaseMember.objects.create(
                case=case, user=actor, role=_team_role_of(actor), lead=True, added_at=now, added_by=actor
            )
        _event(case, "registered", actor, public=True, source=source, **(event_data or {}))
        if earlier:
            _event(case, "repeat_flagged", actor, reason, cases=[c.pk for c in earlier])
        managers = managers_of(place.path)
        if tell_managers:
            _tell(
                managers,
                case,
                "mediation.case.new",
                gettext_lazy("New mediation case %(number)s: %(title)s"),
                actor=actor,
            )
            _tell_community_mediators(case, place, managers, actor)
        if earlier:
            _tell(
                managers,
                case,
                "mediation.case.repeat",
                gettext_lazy("Repeat dispute: case %(number)s"),
                reason,
                actor=actor,
            )
        if case.risk_flag:
            _event(case, "risk_flagged", actor, case.risk_note)
            _tell(
                managers,
                case,
                "mediation.case.risk",
                gettext_lazy("Case %(number)s may turn violent or criminal: notify the police"),
                case.risk_note,
                actor=actor,
            )
        _audit(
            "mediation.case.registered",
            actor,
            case,
            after={
                "number": case.number,
                "source": source,
                "type": dispute_type,
                "parties": len(rows),
                "risk": case.risk_flag,
                "repeat_of": [c.pk for c in earlier],
                **({"service_request": service_request_id} if service_request_id else {}),
            },
        )
    return case


def register_case(
    actor,
    *,
    source,
    title,
    dispute_type,
    place,
    facts,
    dispute_items="",
    parties,
    location="",
    risk_flag=False,
    risk_note="",
    referred_by="",
    referring_body="",
    finding=None,
    service_request=None,
) -> Case:
    """Register a case (screening finding, application taken at the desk, escalated request, referral).
    Needs mediation.work or mediation.manage over the place; the registrar joins the team as lead when
    they hold mediation.work there. Repeat disputes (same party or same place) are flagged and the
    managers told; a risk flag tells the managers to notify the police."""
    if not isinstance(place, Place) or not may_register(actor, place):
        raise PermissionDenied(_("You may not register a mediation case for this place."))
    return _register(
        actor,
        source=source,
        title=title,
        dispute_type=dispute_type,
        place=place,
        facts=facts,
        dispute_items=dispute_items,
        parties=parties,
        location=location,
        risk_flag=risk_flag,
        risk_note=risk_note,
        referred_by=referred_by,
        referring_body=referring_body,
        finding=finding,
        service_request_id=getattr(service_request, "pk", service_request),
    )


def _applied_case(actor, client_token: str) -> Case | None:
    event = (
        CaseEvent.objects.filter(kind="registered", actor_id=actor.pk, data__client_token=client_token)
        .select_related("case")
        .first()
    )
    if event is None:
        return None
    event.case.replayed = True
    return event.case


def apply_for_mediation(
    actor,
    *,
    household,
    dispute_type,
    title,
    facts,
    other_party_name,
    other_party_mobile="",
    client_token="",
) -> Case:
    """A resident applies for mediation (the phone page): they become the applicant party (their name and
    mobile from their resident record), the other party a respondent. The same `client_token` again
    returns the first case (`case.replayed`). The managers over the place are told."""
    if (
        not isinstance(household, Place)
        or household.level != Level.HOUSEHOLD
        or not scope_for(actor, "mediation.apply").covers(household.path)
    ):
        raise PermissionDenied(_("You may not apply for mediation for this household."))
    client_token = (client_token or "").strip()[:64]
    if client_token:
        existing = _applied_case(actor, client_token)
        if existing is not None:
            return existing
    errors: dict = {}
    other = _text(other_party_name, "other_party_name", _("Please give the other party's name."), errors)
    _raise(errors)
    resident = Resident.objects.filter(household=household, user=actor).first()
    applicant = {
        "side": PartySide.APPLICANT,
        "name": resident.name if resident else actor.display_name,
        "mobile": (resident.mobile if resident and resident.mobile else actor.mobile) or "",
        "id_number": resident.id_number if resident else "",
        "address": household.name,
        "resident": resident,
        "user": actor,
    }
    respondent = {"side": PartySide.RESPONDENT, "name": other, "mobile": other_party_mobile or ""}
    with transaction.atomic():
        if client_token:  # serialise a double submit of the same person (SQLite: writers are serial)
            get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
            existing = _applied_case(actor, client_token)
            if existing is not None:
                return existing
        case = _register(
            actor,
            source=Source.APPLICATION,
            title=title,
            dispute_type=dispute_type,
            place=household,
            facts=facts,
            parties=[applicant, respondent],
            join_team=False,
            event_data={"client_token": client_token} if client_token else None,
            tell_managers=True,
        )
    return case


def open_case_from_request(actor, service_request, *, title, dispute_type, facts="") -> Case:
    """An escalated micro-request becomes a case (a dispute the request loop cannot settle): whoever
    handles requests there (requests.handle over its place) or works for the centre there
    (mediation.work) and can see the request refers it. The request's text becomes the facts (unless
    given) and its requester the applicant party; the centre's managers are told, and a handler who is
    not mediation staff does not join the team. A request is referred once. (service_requests has no
    service for a plain note, so the request itself is not written to; the case keeps its id.)"""
    from linjialin.service_requests import selectors as request_selectors

    try:
        req = request_selectors.get_request_for_user(actor, getattr(service_request, "pk", service_request))
    except Http404:
        raise PermissionDenied(_("You may not see this request.")) from None
    mediation_staff = scope_for(actor, "mediation.work").covers(req.path)
    if not mediation_staff and not scope_for(actor, "requests.handle").covers(req.path):
        raise PermissionDenied(_("You may not register a mediation case for this place."))
    earlier = Case.objects.filter(service_request_id=req.pk).values_list("number", flat=True).first()
    if earlier:
        raise ValidationError(
            _("This request was already referred to the mediation centre as case %(number)s.")
            % {"number": earlier}
        )
    requester = req.requester
    party = {
        "side": PartySide.APPLICANT,
        "name": req.contact_name or (requester.display_name if requester else "") or _("requester"),
        "mobile": req.contact_mobile or (requester.mobile if requester else ""),
        "user": requester,
    }
    return _register(
        actor,
        source=Source.REQUEST,
        title=title,
        dispute_type=dispute_type,
        place=req.place,
        facts=(facts or "").strip() or req.description,
        parties=[party],
        service_request_id=req.pk,
        event_data={"request_number": req.number},
        tell_managers=True,
    )


def add_party(actor, case: Case, **fields) -> CaseParty:
    """Add a party (e.g. the other side of a case opened from a request) while the case waits for
    consent; the keys as in register_case's parties."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    _state(case, [S.REGISTERED], _("add a party"))
    errors: dict = {}
    party = _clean_party(fields, 0, errors)
    _raise({k.replace("parties.0.", ""): v for k, v in errors.items()})
    with transaction.atomic():
        party.case = case
        party.save(force_insert=True)
        _event(case, "party_added", actor, party.name, party=party.pk)
        _audit("mediation.party.added", actor, case, obj=party, after={"side": party.side})
    return party


def notify_police(actor, case: Case, *, how) -> Case:
    """The risk prompt answered: the police were told (how, by whom, when), recorded once."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    errors: dict = {}
    how = _text(how, "how", _("Say how the police were told."), errors, max_length=200)
    if case.police_notified_at:
        errors["how"] = _("The police notice is already recorded.")
    _raise(errors)
    now = timezone.now()
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, police_notified_at__isnull=True).update(
            police_notified_at=now, police_notified_by=actor, police_notice=how
        )
        if not updated:
            raise Conflict(_("Someone else recorded the police notice first. Reload to see it."))
        case.police_notified_at, case.police_notified_by, case.police_notice = now, actor, how
        _event(case, "police_notified", actor, how)
        _audit("mediation.case.police_notified", actor, case, after={"how": how})
    return case


# --- consent (voluntariness) ------------------------------------------------------------------------------
def record_consent(actor, case: Case, party: CaseParty, *, consent, rights_told, note="") -> CaseParty:
    """A party's answer, and that they were told their rights (free, voluntary, may choose mediators,
    ask for a closed session, stop at any time). A refusal ends the case as not accepted, with the
    reason."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    _state(case, [S.REGISTERED], _("record consent"))
    errors: dict = {}
    if party.case_id != case.pk:
        errors["party"] = _("This person is not a party to the case.")
    if consent not in Consent.values:
        errors["consent"] = _("Choose whether the party agrees to mediation.")
    note = (note or "").strip()[:500]
    if consent == Consent.REFUSED and not note:
        errors["note"] = _("Please record why the party refuses.")
    if consent == Consent.GIVEN and not rights_told and not party.rights_told_at:
        errors["rights_told"] = _("Tell the party their rights before they consent.")
    _raise(errors)
    now = timezone.now()
    seen = party.consent
    changes = {
        "consent": consent,
        "consent_note": note,
        "consent_at": now if consent != Consent.PENDING else None,
    }
    if rights_told and not party.rights_told_at:
        changes["rights_told_at"] = now
    with transaction.atomic():
        if not CaseParty.objects.filter(pk=party.pk, consent=seen).update(**changes):
            raise Conflict(_("Someone else recorded this party's answer first. Reload to see it."))
        for name, value in changes.items():
            setattr(party, name, value)
        _event(
            case,
            "consent",
            actor,
            note,
            party=party.pk,
            consent=consent,
            rights_told=bool(party.rights_told_at),
        )
        if consent == Consent.REFUSED:  # mediation is voluntary: the case ends here
            reason = _site(gettext_lazy("%(name)s refuses mediation")) % {"name": party.name}
            _end_not_accepted(actor, case, f"{reason}: {note}")
        _audit(
            "mediation.party.consent",
            actor,
            case,
            obj=party,
            before={"consent": seen},
            after={"consent": consent, "rights_told": bool(party.rights_told_at), "state": case.state},
            reason=note,
        )
    return party


def missing_consent(case: Case) -> list[CaseParty]:
    """The parties who have not consented or not been told their rights."""
    return [p for p in case.parties.all() if p.consent != Consent.GIVEN or p.rights_told_at is None]


def accept_case(actor, case: Case) -> Case:
    """Accept (lead or manager): every party consented and was told their rights; at least two parties.
    The one-month limit starts: due_on = the same day rules.target_months calendar months later (the
    month's last day when it has none), moved to the next working day when it is a rest day (民法典
    第二百零二条、第二百零三条)."""
    workflow.check(case, "accept", actor)
    parties = list(case.parties.all())
    missing = [p.name for p in parties if p.consent != Consent.GIVEN or p.rights_told_at is None]
    if missing:
        raise ValidationError(
            {
                "parties": _("Still waiting for the consent (and the rights told) of: %(names)s.")
                % {"names": "、".join(missing)}
            }
        )
    if len(parties) < 2:
        raise ValidationError({"parties": _("A dispute needs at least two parties: add the other party.")})
    now = timezone.now()
    due_on = period_end_months(timezone.localdate(now), selectors.rules().target_months)
    with transaction.atomic():
        workflow.apply(case, "accept", actor, accepted_at=now, due_on=due_on)
        _event(case, "accepted", actor, public=True, due_on=due_on.isoformat())
        _tell(
            _party_users(case),
            case,
            "mediation.case.accepted",
            gettext_lazy("Case %(number)s accepted for mediation"),
            link_name="mediation:my_case",
            actor=actor,
        )
        _tell(
            team_users(case),
            case,
            "mediation.case.accepted",
            gettext_lazy("Case %(number)s accepted for mediation"),
            actor=actor,
        )
        _audit(
            "mediation.case.accepted",
            actor,
            case,
            before={"state": S.REGISTERED},
            after={"state": case.state, "due_on": due_on.isoformat()},
        )
    return case


def _end_not_accepted(actor, case: Case, note: str, *, referral: str = "") -> None:
    """registered → not accepted (a party refused, or not a matter for mediation): the transition, the
    public timeline step and the parties' notice; the caller writes its audit event."""
    workflow.apply(
        case,
        "refuse",
        actor,
        outcome=Outcome.NOT_ACCEPTED,
        outcome_note=note,
        referral_detail=referral,
        ended_at=timezone.now(),
    )
    extra = {"referral": referral} if referral else {}
    _event(case, "not_accepted", actor, note, public=True, **extra)
    _tell(
        _party_users(case),
        case,
        "mediation.case.not_accepted",
        gettext_lazy("Case %(number)s: not accepted"),
        link_name="mediation:my_case",
        actor=actor,
    )


def refuse_case(actor, case: Case, *, reason, referral="") -> Case:
    """Not accepted (not a matter for mediation, or a party refuses), with the reason and where the
    parties were pointed to."""
    workflow.check(case, "refuse", actor)
    errors: dict = {}
    reason = _text(reason, "reason", _("Please give the reason."), errors)
    _raise(errors)
    with transaction.atomic():
        _end_not_accepted(actor, case, reason, referral=(referral or "").strip()[:200])
        _audit(
            "mediation.case.not_accepted",
            actor,
            case,
            before={"state": S.REGISTERED},
            after={"state": case.state},
            reason=reason,
        )
    return case


def withdraw_case(actor, case: Case, *, reason) -> Case:
    """A party withdraws (they may stop at any time), recorded with the reason."""
    workflow.check(case, "withdraw", actor)
    errors: dict = {}
    reason = _text(reason, "reason", _("Please give the reason."), errors)
    _raise(errors)
    before = case.state
    with transaction.atomic():
        workflow.apply(
            case, "withdraw", actor, outcome=Outcome.WITHDRAWN, outcome_note=reason, ended_at=timezone.now()
        )
        _event(case, "withdrawn", actor, reason, public=True)
        _audit(
            "mediation.case.withdrawn",
            actor,
            case,
            before={"state": before},
            after={"state": case.state},
            reason=reason,
        )
    return case


# --- the team ---------------------------------------------------------------------------------------------
def _check_new_member(case: Case, user, role: str, errors: dict, field: str = "user") -> None:
    if role not in TeamRole.values:
        errors["role"] = _("Choose the member's role.")
    if user is None or not getattr(user, "is_active", False):
        errors[field] = _("Choose an active user.")
        return
    if role == TeamRole.DEPARTMENT:
        if not is_staff_user(user):
            errors[field] = _("A department member must be a staff user.")
    elif not scope_for(user, "mediation.work").covers(case.path):
        errors[field] = _("%(name)s does not serve on mediation teams at this place.") % {
            "name": user.display_name
        }
    elif role == TeamRole.COUNSELLOR and not any(g.role == "counsellor" for g in home_roles(user)):
        errors["role"] = _("Only a psychological counsellor serves as the team's counsellor.")
    if CaseMember.objects.filter(case_id=case.pk, user_id=user.pk, ended_at__isnull=True).exists():
        errors[field] = _("%(name)s is already on the team.") % {"name": user.display_name}


def add_member(actor, case: Case, *, user, role, lead=False) -> CaseMember:
    """Put someone on the team (lead mediator or manager). Team roles other than department need
    mediation.work over the case's place; a department member is any active staff user. One active
    membership per person; a new lead takes the lead from the old one."""
    _require(lead_or_manager(actor, case), _("Only the lead mediator or a centre manager changes the team."))
    _state(case, [S.REGISTERED, S.ACCEPTED, S.AGREED, S.FAILED], _("change the team"))
    errors: dict = {}
    _check_new_member(case, user, role, errors)
    _raise(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            if lead:
                CaseMember.objects.filter(case_id=case.pk, ended_at__isnull=True, lead=True).update(
                    lead=False
                )
            row = CaseMember.objects.create(
                case=case, user=user, role=role, lead=bool(lead), added_at=now, added_by=actor
            )
            _event(case, "member_added", actor, user.display_name, user=user.pk, role=role, lead=bool(lead))
            _tell(
                [user],
                case,
                "mediation.member.added",
                gettext_lazy("You are on the team of case %(number)s"),
                actor=actor,
            )
            _audit(
                "mediation.member.added",
                actor,
                case,
                obj=row,
                after={"user": user.pk, "role": role, "lead": bool(lead)},
            )
    except IntegrityError:
        raise Conflict(_("%(name)s was just added by someone else.") % {"name": user.display_name}) from None
    return row


def _end_membership(member_row: CaseMember, reason: str, now) -> None:
    if not CaseMember.objects.filter(pk=member_row.pk, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason[:500]
    ):
        raise Conflict(_("This membership was already ended. Reload to see the team."))
    member_row.ended_at, member_row.end_reason = now, reason[:500]


def remove_member(actor, case: Case, member_row: CaseMember, *, reason) -> CaseMember:
    """End someone's membership (lead or manager), with the reason. The lead is replaced by making
    someone else lead first (or through an objection)."""
    _require(lead_or_manager(actor, case), _("Only the lead mediator or a centre manager changes the team."))
    errors: dict = {}
    reason = _text(reason, "reason", _("Please give the reason."), errors)
    if member_row.case_id != case.pk or member_row.ended_at is not None:
        errors["member"] = _("This person is not on the team.")
    elif member_row.lead:
        errors["member"] = _("Make someone else the lead before removing the lead mediator.")
    _raise(errors)
    with transaction.atomic():
        _end_membership(member_row, reason, timezone.now())
        _event(case, "member_removed", actor, reason, user=member_row.user_id, role=member_row.role)
        _audit(
            "mediation.member.removed",
            actor,
            case,
            obj=member_row,
            after={"user": member_row.user_id},
            reason=reason,
        )
    return member_row


def record_objection(actor, case: Case, *, party, member, reason, replacement, role=None) -> Objection:
    """A party objects to a team member (回避): the objection is recorded, the member leaves the team
    and the replacement joins in the same role (or `role`); the lead passes to the replacement when the
    objected member led."""
    _require(lead_or_manager(actor, case), _("Only the lead mediator or a centre manager changes the team."))
    _state(case, [S.REGISTERED, S.ACCEPTED], _("record an objection"))
    errors: dict = {}
    reason = _text(reason, "reason", _("Please record the party's reason."), errors, max_length=1000)
    if getattr(party, "case_id", None) != case.pk:
        errors["party"] = _("This person is not a party to the case.")
    if getattr(member, "case_id", None) != case.pk or member.ended_at is not None:
        errors["member"] = _("This person is not on the team.")
    role = role or getattr(member, "role", "")
    if replacement is not None and getattr(member, "user_id", None) == replacement.pk:
        errors["replacement"] = _("The replacement must be someone else.")
    else:
        _check_new_member(case, replacement, role, errors, field="replacement")
    _raise(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            _end_membership(member, _site(gettext_lazy("objection by a party")) + f": {reason}", now)
            new = CaseMember.objects.create(
                case=case, user=replacement, role=role, lead=member.lead, added_at=now, added_by=actor
            )
            objection = Objection.objects.create(
                case=case,
                party=party,
                member=member,
                reason=reason,
                replacement=new,
                recorded_by=actor,
                recorded_at=now,
            )
            _event(
                case,
                "objection",
                actor,
                reason,
                party=party.pk,
                member=member.user_id,
                replacement=replacement.pk,
                lead=member.lead,
            )
            _tell(
                [replacement],
                case,
                "mediation.member.added",
                gettext_lazy("You are on the team of case %(number)s"),
                actor=actor,
            )
            _audit(
                "mediation.objection.recorded",
                actor,
                case,
                obj=objection,
                after={"member": member.user_id, "replacement": replacement.pk, "lead": member.lead},
                reason=reason,
            )
    except IntegrityError:
        raise Conflict(_("The team changed meanwhile. Reload to see it.")) from None
    return objection


# --- sessions, documents, counselling ---------------------------------------------------------------------
def record_session(actor, case: Case, *, held_at, location, public, attendees, minutes) -> MediationSession:
    """A mediation session (date, place, attendees, public or not, minutes). A public session needs
    every party's agreement to public sessions. Parties see that a session was held (the date only)."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    _state(case, [S.ACCEPTED], _("record a session"))
    errors: dict = {}
    if not isinstance(held_at, datetime):
        errors["held_at"] = _("Please give the date and time of the session.")
    elif timezone.is_aware(held_at) and held_at > timezone.now() + timedelta(hours=1):
        errors["held_at"] = _("A session is recorded after it was held.")
    location = _text(location, "location", _("Say where the session was held."), errors, max_length=200)
    attendees = _text(attendees, "attendees", _("List who attended."), errors)
    minutes = _text(minutes, "minutes", _("Please write the minutes."), errors, max_length=20000)
    if public and case.parties.filter(public_session=False).exists():
        errors["public"] = _("A party asked for sessions that are not public.")
    _raise(errors)
    if timezone.is_naive(held_at):
        held_at = timezone.make_aware(held_at)
    with transaction.atomic():
        session = MediationSession.objects.create(
            case=case,
            held_at=held_at,
            location=location,
            public=bool(public),
            attendees=attendees,
            minutes=minutes,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        _event(
            case,
            "session",
            actor,
            public=True,
            session=session.pk,
            date=timezone.localtime(held_at).date().isoformat(),
        )
        _audit(
            "mediation.session.recorded",
            actor,
            case,
            obj=session,
            after={"held_at": held_at.isoformat(), "public": bool(public)},
        )
    return session


def _sniff(upload) -> tuple[str, str]:
    """(extension, content type) from the file's first bytes; ValidationError for other files."""
    head = upload.read(8)
    upload.seek(0)
    for magic, (ext, content_type) in MAGIC.items():
        if head.startswith(magic):
            if ext == "zip":
                name_ext = (getattr(upload, "name", "") or "").rsplit(".", 1)[-1].lower()
                if name_ext in OFFICE:
                    return name_ext, OFFICE[name_ext]
                break
            return ext, content_type
    raise ValidationError({"upload": _("Upload a PDF, a JPEG or PNG photo, or a .docx, .odt or .xlsx file.")})


def add_document(actor, case: Case, *, kind, upload, session=None) -> CaseDocument:
    """A file in the case file (application, registration, investigation, minutes, agreement as signed,
    court documents, follow-up records): checked by its content, at most 20 MB."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    errors: dict = {}
    if kind not in DocumentKind.values:
        errors["kind"] = _("Choose the kind of document.")
    if upload is None:
        errors["upload"] = _("Choose a file.")
    elif upload.size > MAX_UPLOAD:
        errors["upload"] = _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD // (1024 * 1024)}
    if session is not None and session.case_id != case.pk:
        errors["session"] = _("This session belongs to another case.")
    _raise(errors)
    ext, content_type = _sniff(upload)
    name = (getattr(upload, "name", "") or "document").replace("/", "_").replace("\\", "_")[-200:]
    with transaction.atomic():
        upload.name = f"{uuid.uuid4().hex}.{ext}"
        doc = CaseDocument.objects.create(
            case=case,
            session=session,
            kind=kind,
            name=name,
            file=upload,
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
            uploaded_at=timezone.now(),
        )
        _event(case, "document", actor, name, document=doc.pk, document_kind=kind)
        _audit("mediation.document.added", actor, case, obj=doc, after={"kind": kind, "size": doc.size})
    return doc


def add_counselling_note(actor, case: Case, *, text) -> CounsellingNote:
    """A counsellor's note (counselling, not diagnosis or treatment): only an active team member in the
    counsellor role writes one, and only its author reads it. The timeline shows that a note was
    written, never its text."""
    is_counsellor = CaseMember.objects.filter(
        case_id=case.pk, user_id=getattr(actor, "pk", None), ended_at__isnull=True, role=TeamRole.COUNSELLOR
    ).exists()
    _require(is_counsellor, _("Only the team's counsellor writes counselling notes."))
    errors: dict = {}
    text = _text(text, "text", _("Please write the note."), errors, max_length=10000)
    _raise(errors)
    with transaction.atomic():
        note = CounsellingNote.objects.create(case=case, counsellor=actor, at=timezone.now(), text=text)
        _event(case, "counselling", actor)
        _audit("mediation.counselling.added", actor, case, obj=note, after={"length": len(text)})
    return note


# --- the one-month limit ----------------------------------------------------------------------------------
def extend_case(actor, case: Case, *, days, reason, consent_note) -> Extension:
    """Extend the one-month limit (lead or manager): needs the parties' consent, recorded."""
    _require(lead_or_manager(actor, case), _("Only the lead mediator or a centre manager extends a case."))
    _state(case, [S.ACCEPTED], _("extend the case"))
    errors: dict = {}
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = _("Extend by 1 to %(n)d days.") % {"n": MAX_EXTENSION_DAYS}
    reason = _text(reason, "reason", _("Please give the reason."), errors, max_length=500)
    consent_note = _text(
        consent_note,
        "consent_note",
        _("Record how both parties agreed to the extension."),
        errors,
        max_length=500,
    )
    _raise(errors)
    old = case.due_on or timezone.localdate()
    new = period_end_days(old, days)  # a last day on a rest day moves to the next working day
    with transaction.atomic():
        if not Case.objects.filter(pk=case.pk, state=S.ACCEPTED, due_on=case.due_on).update(due_on=new):
            raise Conflict(_("Someone else changed the case first. Reload to see it."))
        case.due_on = new
        ext = Extension.objects.create(
            case=case,
            days=days,
            reason=reason,
            consent_note=consent_note,
            old_due_on=old,
            new_due_on=new,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        _event(case, "extended", actor, reason, days=days, due_on=new.isoformat(), consent=consent_note)
        _audit(
            "mediation.case.extended",
            actor,
            case,
            obj=ext,
            before={"due_on": old.isoformat()},
            after={"due_on": new.isoformat(), "days": days},
            reason=reason,
        )
    return ext


# --- outcomes ---------------------------------------------------------------------------------------------
def record_failure(actor, case: Case, *, channel, detail="", note="") -> Case:
    """No agreement: where the parties were referred (court, arbitration, an administrative channel…)."""
    workflow.check(case, "fail", actor)
    if channel not in ReferralChannel.values:
        raise ValidationError(
            {"channel": _("Say where the parties were referred: court, arbitration or another channel.")}
        )
    with transaction.atomic():
        workflow.apply(
            case,
            "fail",
            actor,
            outcome=Outcome.NO_AGREEMENT,
            referral_channel=channel,
            referral_detail=(detail or "").strip()[:200],
            outcome_note=(note or "").strip(),
            ended_at=timezone.now(),
        )
        _event(
            case,
            "failed",
            actor,
            (note or "").strip(),
            public=True,
            channel=channel,
            detail=(detail or "").strip()[:200],
        )
        _tell(
            _party_users(case),
            case,
            "mediation.case.failed",
            gettext_lazy("Case %(number)s: no agreement"),
            link_name="mediation:my_case",
            actor=actor,
        )
        _audit(
            "mediation.case.failed",
            actor,
            case,
            before={"state": S.ACCEPTED},
            after={"state": case.state, "channel": channel},
            reason=(note or "")[:500],
        )
    return case


# --- follow-up and re-prevention --------------------------------------------------------------------------
def record_followup(actor, followup: FollowUp, *, performance, note, performed_items=()) -> FollowUp:
    """A follow-up visit on performance, with its record. `performed` marks the listed duties (all
    remaining ones when none are listed) as performed; a lapse creates a prompting task for the lead and
    tells the team."""
    case = followup.case
    _require(member_or_manager(actor, case), _("You may not change this case."))
    _state(case, [S.AGREED, S.CLOSED], _("record a follow-up"))
    errors: dict = {}
    if performance not in Performance.values:
        errors["performance"] = _("Choose how the agreement is being performed.")
    note = _text(note, "note", _("Please write the record of the visit."), errors)
    if followup.done_at is not None:
        errors["followup"] = _("This follow-up is already recorded.")
    agreement = selectors._agreement(case)
    item_ids = {getattr(i, "pk", i) for i in performed_items or ()}
    own = set(agreement.items.values_list("pk", flat=True)) if agreement else set()
    if item_ids - own:
        errors["performed_items"] = _("These duties are not in this case's agreement.")
    _raise(errors)
    now = timezone.now()
    lead = selectors.lead_of(case)
    with transaction.atomic():
        if not FollowUp.objects.filter(pk=followup.pk, done_at__isnull=True).update(
            done_at=now, done_by=actor, performance=performance, note=note
        ):
            raise Conflict(_("Someone else recorded this follow-up first. Reload to see it."))
        followup.done_at, followup.done_by, followup.performance, followup.note = (
            now,
            actor,
            performance,
            note,
        )
        if performance == Performance.PERFORMED and not item_ids and agreement:
            item_ids = own
        marked = 0
        if item_ids:
            marked = AgreementItem.objects.filter(pk__in=item_ids, performed_at__isnull=True).update(
                performed_at=now
            )
        task = None
        if performance == Performance.LAPSED:
            task = PreventionTask.objects.create(
                case=case,
                followup=followup,
                kind=TaskKind.PROMPT,
                title=(
                    _site(gettext_lazy("Prompt the parties to perform the agreement of case %(number)s"))
                    % {"number": case.number}
                )[:200],
                place=case.place,
                path=case.path,
                owner=lead,
                due_on=timezone.localdate(now) + timedelta(days=7),
                created_by=actor,
                created_at=now,
            )
            _tell(
                team_users(case) + managers_of(case),
                case,
                "mediation.followup.lapsed",
                gettext_lazy("Case %(number)s: the agreement is not being performed"),
                note,
                actor=actor,
            )
        _event(
            case,
            "followup",
            actor,
            note,
            followup=followup.pk,
            performance=performance,
            items=marked,
            **({"task": task.pk} if task else {}),
        )
        _audit(
            "mediation.followup.recorded",
            actor,
            case,
            obj=followup,
            after={
                "performance": performance,
                "items_performed": marked,
                **({"task": task.pk} if task else {}),
            },
        )
    return followup


def _clean_task(
    kind, title, due_on, owner, errors: dict, prefix: str = "", kinds=None
) -> tuple[str, date | None]:
    if kind not in (kinds or TaskKind.values):
        errors[f"{prefix}kind"] = _("Choose the kind of task.")
    title = (title or "").strip()
    if not title:
        errors[f"{prefix}title"] = _("Please give the task a title.")
    due = _as_date(due_on, f"{prefix}due_on", errors)
    if due and due < timezone.localdate():
        errors[f"{prefix}due_on"] = _("The due date must be today or later.")
    if owner is not None and (not getattr(owner, "is_active", False) or not is_staff_user(owner)):
        errors[f"{prefix}owner"] = _("The owner must be an active staff user.")
    return title[:200], due


def create_task(
    actor, *, kind, title, place, due_on, owner=None, case=None, finding=None, followup=None
) -> PreventionTask:
    """A prevention or prompting task (from a case, a follow-up or a screening finding). On a case: its
    team or managers; otherwise mediation.work or mediation.manage over the place."""
    if case is not None:
        _require(member_or_manager(actor, case), _("You may not change this case."))
    else:
        _require(
            isinstance(place, Place) and may_register(actor, place),
            _("You may not create tasks for this place."),
        )
    errors: dict = {}
    title, due = _clean_task(kind, title, due_on, owner, errors)
    if not isinstance(place, Place):
        errors["place"] = _("Choose the place.")
    if followup is not None and (case is None or followup.case_id != case.pk):
        errors["followup"] = _("This follow-up belongs to another case.")
    _raise(errors)
    with transaction.atomic():
        task = PreventionTask.objects.create(
            case=case,
            finding=finding,
            followup=followup,
            kind=kind,
            title=title,
            place=place,
            path=place.path,
            owner=owner,
            due_on=due,
            created_by=actor,
            created_at=timezone.now(),
        )
        if case is not None:
            _event(case, "task_created", actor, title, task=task.pk, task_kind=kind)
        if owner is not None and owner.pk != getattr(actor, "pk", None):
            notify(
                [owner],
                kind="mediation.task.new",
                title=gettext_lazy("New prevention task: %(title)s"),
                params={"title": title},
                link=_link(case) if case else "",
                path=task.path,
                actor=actor,
            )
        audit.record(
            "mediation.task.created",
            actor=actor,
            obj=task,
            path=task.path,
            after={
                "kind": kind,
                "case": getattr(case, "pk", None),
                "finding": getattr(finding, "pk", None),
                "owner": getattr(owner, "pk", None),
                "due_on": due.isoformat(),
            },
        )
    return task


def may_change_task(actor, task: PreventionTask) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.pk in (task.owner_id, task.created_by_id):
        return True
    if scope_for(actor, "mediation.manage").covers(task.path):
        return True
    return task.case_id is not None and member(actor, task.case)


def _move_task(
    actor, task: PreventionTask, target: str, text: str, field: str, action: str
) -> PreventionTask:
    _require(may_change_task(actor, task), _("You may not change this task."))
    if task.state != TaskState.OPEN:
        raise TransitionNotAllowed(
            _("The task is already “%(state)s”.") % {"state": TaskState(task.state).label}
        )
    errors: dict = {}
    text = _text(
        text,
        field,
        _("Please say what was done.") if target == TaskState.DONE else _("Please give the reason."),
        errors,
    )
    _raise(errors)
    now = timezone.now()
    with transaction.atomic():
        if not PreventionTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
            state=target, done_note=text, done_at=now
        ):
            raise Conflict(_("Someone else changed the task first. Reload to see it."))
        task.state, task.done_note, task.done_at = target, text, now
        if task.case_id:
            _event(task.case, f"task_{target}", actor, text, task=task.pk)
        audit.record(
            action,
            actor=actor,
            obj=task,
            path=task.path,
            before={"state": TaskState.OPEN},
            after={"state": target},
            reason=text[:500],
        )
    return task


def finish_task(actor, task: PreventionTask, *, note) -> PreventionTask:
    return _move_task(actor, task, TaskState.DONE, note, "note", "mediation.task.finished")


def cancel_task(actor, task: PreventionTask, *, reason) -> PreventionTask:
    return _move_task(actor, task, TaskState.CANCELLED, reason, "reason", "mediation.task.cancelled")


def close_case(actor, case: Case, *, lesson, tasks=()) -> Case:
    """Close an agreed or failed case (lead or manager) with the lesson learned, and the re-prevention
    tasks it calls for (a talk in the building, a house-rule proposal, a repair, other prevention),
    each linked to the case."""
    workflow.check(case, "close", actor)
    errors: dict = {}
    lesson = _text(lesson, "lesson", _("Please write the lesson learned."), errors)
    cleaned = []
    for i, t in enumerate(tasks or ()):
        title, due = _clean_task(
            t.get("kind"),
            t.get("title"),
            t.get("due_on"),
            t.get("owner"),
            errors,
            prefix=f"tasks.{i}.",
            kinds=REPREVENTION_KINDS,
        )
        cleaned.append((t.get("kind"), title, due, t.get("owner")))
    _raise(errors)
    now = timezone.now()
    before = case.state
    with transaction.atomic():
        workflow.apply(case, "close", actor, closed_at=now, lesson=lesson)
        created = PreventionTask.objects.bulk_create(
            [
                PreventionTask(
                    case=case,
                    kind=kind,
                    title=title,
                    place=case.place,
                    path=case.path,
                    owner=owner,
                    due_on=due,
                    created_by=actor,
                    created_at=now,
                )
                for kind, title, due, owner in cleaned
            ]
        )
        _event(case, "closed", actor, public=True, tasks=len(created))
        for task in created:
            if task.owner_id and task.owner_id != actor.pk:
                notify(
                    [task.owner],
                    kind="mediation.task.new",
                    title=gettext_lazy("New prevention task: %(title)s"),
                    params={"title": task.title},
                    link=_link(case),
                    path=case.path,
                    actor=actor,
                )
        _tell(
            _party_users(case),
            case,
            "mediation.case.closed",
            gettext_lazy("Case %(number)s closed"),
            link_name="mediation:my_case",
            actor=actor,
        )
        _audit(
            "mediation.case.closed",
            actor,
            case,
            before={"state": before},
            after={"state": case.state, "tasks": [t.pk for t in created]},
        )
    return case


# --- confidentiality --------------------------------------------------------------------------------------
def record_case_view(actor, case: Case) -> None:
    """Audit one view of the case file (pages and the API call it on every view)."""
    audit.record("mediation.case.viewed", actor=actor, obj=case, path=case.path)


def record_document_view(actor, document: CaseDocument) -> None:
    """Audit one download of a document of the case file (part of the file: the same rule)."""
    audit.record(
        "mediation.document.viewed",
        actor=actor,
        obj=document.case,
        path=document.case.path,
        after={"document": document.pk, "kind": document.kind, "name": document.name[:100]},
    )


def unmask_party(actor, party: CaseParty, *, reason) -> dict:
    """The party's full mobile and ID number (managers and the team only), with a reason, audited."""
    case = party.case
    _require(member_or_manager(actor, case), _("You may not see this party's numbers."))
    reason = clean_reason(reason, message=_("Please say why you need the full number."))
    audit.record(
        "mediation.party.unmasked",
        actor=actor,
        obj=party,
        path=case.path,
        reason=reason,
        after={
            "case": case.pk,
            "mobile": mask_mobile(party.mobile),
            "id_number": mask_id_number(party.id_number),
        },
    )
    return {
        "mobile": party.mobile,
        "id_number": party.id_number,
        "representative_mobile": party.representative_mobile,
    }


# --- the sweep --------------------------------------------------------------------------------------------
def sweep(now: datetime | None = None) -> dict:
    """Overdue cases (accepted, past due_on) → one notice to the lead and the managers per limit, and one
    timeline event; follow-ups past due_on + rules.followup_grace_days and not done → flagged once
    (overdue_flagged), one notice. Safe to run twice or in two workers at once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    r = selectors.rules()
    cases_flagged = followups_flagged = 0
    with transaction.atomic():
        overdue = list(
            Case.objects.filter(state=S.ACCEPTED, due_on__lt=today)
            .select_for_update(skip_locked=True)
            .order_by("pk")
        )
        seen = {
            (case_id, (data or {}).get("due_on"))
            for case_id, data in CaseEvent.objects.filter(
                case_id__in=[c.pk for c in overdue], kind="overdue"
            ).values_list("case_id", "data")
        }
        messages, audits = [], []
        for case in overdue:
            key = (case.pk, case.due_on.isoformat())
            if key in seen:
                continue
            lead = selectors.lead_of(case)
            CaseEvent.objects.create(
                case=case, kind="overdue", at=now, actor_name="", data={"due_on": key[1]}
            )
            messages.append(
                Message(
                    users=[u for u in [lead, *managers_of(case)] if u is not None],
                    kind="mediation.case.overdue",
                    title=gettext_lazy("Case %(number)s is past its limit (%(date)s)"),
                    params={"number": case.number, "date": key[1]},
                    link=_link(case),
                    path=case.path,
                    dedupe_key=f"mediation.overdue:{case.pk}:{key[1]}",
                )
            )
            audits.append({"action": "mediation.case.overdue", "obj": case, "after": {"due_on": key[1]}})
            cases_flagged += 1
        late = list(
            FollowUp.objects.filter(
                done_at__isnull=True,
                overdue_flagged=False,
                due_on__lt=today - timedelta(days=r.followup_grace_days),
                case__state__in=[S.AGREED, S.CLOSED],
            )
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("case")
            .order_by("pk")
        )
        ids = [f.pk for f in late]
        if ids:
            FollowUp.objects.filter(pk__in=ids, overdue_flagged=False).update(overdue_flagged=True)
        for f in late:
            case = f.case
            lead = selectors.lead_of(case)
            CaseEvent.objects.create(
                case=case,
                kind="followup_overdue",
                at=now,
                data={"followup": f.pk, "due_on": f.due_on.isoformat()},
            )
            messages.append(
                Message(
                    users=[u for u in [lead, *team_users(case), *managers_of(case)] if u is not None],
                    kind="mediation.followup.overdue",
                    title=gettext_lazy("Case %(number)s: the follow-up planned for %(date)s is overdue"),
                    params={"number": case.number, "date": f.due_on.isoformat()},
                    link=_link(case),
                    path=case.path,
                    dedupe_key=f"mediation.followup:{f.pk}",
                )
            )
            audits.append(
                {
                    "action": "mediation.followup.overdue",
                    "obj": f,
                    "path": case.path,
                    "after": {"case": case.pk, "due_on": f.due_on.isoformat()},
                }
            )
            followups_flagged += 1
        if messages:
            notify_many(messages)
        audit.record_many(audits)
    return {"cases_overdue": cases_flagged, "followups_overdue": followups_flagged}


__all__ = [
    "AUDIT_LABELS",
    "AUDIT_PERSONAL",
    "ENDED_STATES",
    "accept_case",
    "add_counselling_note",
    "add_document",
    "add_member",
    "add_party",
    "apply_for_mediation",
    "cancel_task",
    "close_case",
    "create_task",
    "extend_case",
    "finish_task",
    "manager",
    "notify_police",
    "open_case_from_request",
    "record_case_view",
    "record_consent",
    "record_failure",
    "record_followup",
    "record_objection",
    "record_session",
    "refuse_case",
    "register_case",
    "remove_member",
    "sweep",
    "unmask_party",
    "withdraw_case",
]

# the agreement and the court confirmation live in services/agreements.py, which uses the helpers above;
# callers keep writing cases.record_agreement etc. (resolved on first use, so neither module imports the
# other while it is half loaded)
_FROM_AGREEMENTS = {
    "COURT_STEPS",
    "effective_day",
    "record_agreement",
    "record_court_application",
    "record_court_step",
}


def __getattr__(name: str):
    if name in _FROM_AGREEMENTS:
        from . import agreements

        return getattr(agreements, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
