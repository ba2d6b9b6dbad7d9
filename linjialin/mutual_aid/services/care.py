"""Care visits (关爱走访) to households on the care list (care_selectors: a resident with a consented
sensitive tag).

Who: `mutual_aid.care` over the household (楼门长, 网格员, community staff). A visit is planned for a
date and a visitor (someone who also holds mutual_aid.care there), then recorded once (compare-and-set on
`done_at IS NULL`: two people recording the same visit at once → one wins, Conflict for the other).
Recording plans the next visit AidRules.care_visit_days later, unless another visit is already planned or
the household has left the care list. The sweep (`sweep_care`) tells the visitor and the household's
楼门长 and 网格员 once about each visit past its date (the audit event and the notice's dedupe key make it
once; running it twice or in two workers is harmless).

Every view of the care list or of a care household shows sensitive tags: audited (AUDIT_PERSONAL).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.notifications.services import Message, notify_many
from linjialin.places.models import Level, Place

from .. import care_selectors
from ..models import AidRules, CareVisit

AUDIT_LABELS = {
    "mutual_aid.care.list_viewed": gettext_lazy("Care list viewed"),
    "mutual_aid.care.household_viewed": gettext_lazy("Care household viewed"),
    "mutual_aid.care.visit_planned": gettext_lazy("Care visit planned"),
    "mutual_aid.care.visit_recorded": gettext_lazy("Care visit recorded"),
    "mutual_aid.care.visit_overdue": gettext_lazy("Care visit overdue"),
}
# the list and a household's page show residents' sensitive tags
AUDIT_PERSONAL = ("mutual_aid.care.list_viewed", "mutual_aid.care.household_viewed")

OVERDUE = "mutual_aid.care.visit_overdue"


def rules() -> AidRules:
    return AidRules.objects.order_by("pk").first() or AidRules()


def _check(actor, path: str) -> None:
    if not care_selectors.may_care(actor, path):
        raise PermissionDenied(_("You may not look after care visits here."))


def _link(household_id: int) -> str:
    """Without a language prefix: each recipient reads it in their own language."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("mutual_aid:care_household", args=[household_id])


def _visitor_ok(visitor, household: Place) -> bool:
    return visitor is not None and visitor.is_active and care_selectors.may_care(visitor, household.path)


# --- audited reads ----------------------------------------------------------------------------------------
def record_care_list_view(actor, *, rows: int) -> None:
    """Audit one view of the care list (it shows sensitive tags)."""
    scope = care_selectors.care_scope(actor)
    audit.record(
        "mutual_aid.care.list_viewed",
        actor=actor,
        path="" if scope.everywhere else (scope.prefixes[0] if len(scope.prefixes) == 1 else ""),
        object_type="mutual_aid.carelist",
        after={"households": rows, "scope": list(scope.prefixes)[:20]},
    )


def record_care_household_view(actor, household: Place) -> None:
    """Audit one view of a care household's page (its residents' sensitive tags)."""
    audit.record("mutual_aid.care.household_viewed", actor=actor, obj=household, path=household.path)


# --- writes -----------------------------------------------------------------------------------------------
def plan_visit(actor, *, household: Place, planned_on: date, visitor=None) -> CareVisit:
    """Plan a visit to a care-list household on `planned_on` (today or later) by `visitor` (default: the
    actor), who must look after care visits there too."""
    if household is None or household.level != Level.HOUSEHOLD:
        raise ValidationError({"household": _("Please choose a household.")})
    _check(actor, household.path)
    visitor = visitor or actor
    errors = {}
    if not care_selectors.on_care_list(household):
        errors["household"] = _("This household is not on the care list (no sensitive tag with consent).")
    if planned_on is None:
        errors["planned_on"] = _("Please give the date of the visit.")
    elif planned_on < timezone.localdate():
        errors["planned_on"] = _("The date cannot be in the past.")
    elif CareVisit.objects.filter(household=household, planned_on=planned_on, done_at__isnull=True).exists():
        errors["planned_on"] = _("A visit is already planned for this day.")
    if not _visitor_ok(visitor, household):
        errors["visitor"] = _("The visitor must be someone who looks after this household's care visits.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = CareVisit.objects.create(
            household=household,
            path=household.path,
            planned_on=planned_on,
            visitor=visitor,
            planned_by=actor,
            created_at=timezone.now(),
        )
        audit.record(
            "mutual_aid.care.visit_planned",
            actor=actor,
            obj=visit,
            after={"household": household.pk, "planned_on": planned_on.isoformat(), "visitor": visitor.pk},
        )
    return visit


def _plan_next(actor, visit: CareVisit, done_at: datetime) -> CareVisit | None:
    household = visit.household
    if CareVisit.objects.filter(household=household, done_at__isnull=True).exists():
        return None  # another visit is planned already
    if not care_selectors.on_care_list(household):
        return None  # consent withdrawn, or the tag removed: no more visits
    visitor = visit.visitor if _visitor_ok(visit.visitor, household) else None
    return CareVisit.objects.create(
        household=household,
        path=household.path,
        planned_on=timezone.localdate(done_at) + timedelta(days=rules().care_visit_days),
        visitor=visitor,
        planned_by=actor,
        created_at=timezone.now(),
    )


def record_visit(actor, visit: CareVisit, *, note: str, done_at: datetime | None = None) -> CareVisit:
    """Record a planned visit as made (what was found: `note`; when: `done_at`, default now, never in the
    future). The next visit is planned AidRules.care_visit_days after it. Returns the recorded visit;
    its `next_visit` attribute is the new plan (or None)."""
    _check(actor, visit.path)
    if visit.done_at is not None:
        raise Conflict(_("This visit has already been recorded."))
    note = (note or "").strip()
    now = timezone.now()
    done_at = done_at or now
    errors = {}
    if not note:
        errors["note"] = _("Please write down how the visit went.")
    elif len(note) > 2000:
        errors["note"] = _("At most 2000 characters.")
    if done_at > now + timedelta(minutes=1):
        errors["done_at"] = _("This cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    visitor = visit.visitor if visit.visitor_id else actor
    with transaction.atomic():
        updated = CareVisit.objects.filter(pk=visit.pk, done_at__isnull=True).update(
            done_at=done_at, note=note, visitor=visitor
        )
        if updated != 1:
            raise Conflict(_("Someone else recorded this visit first. Reload to see it."))
        visit.done_at, visit.note, visit.visitor = done_at, note, visitor
        next_visit = _plan_next(actor, visit, done_at)
        audit.record(
            "mutual_aid.care.visit_recorded",
            actor=actor,
            obj=visit,
            after={
                "done_at": done_at.isoformat(),
                "visitor": visitor.pk if visitor else None,
                "next_visit": next_visit.pk if next_visit else None,
                "next_planned_on": next_visit.planned_on.isoformat() if next_visit else None,
            },
        )
    visit.next_visit = next_visit
    return visit


def record_unplanned_visit(
    actor, *, household: Place, note: str, done_at: datetime | None = None
) -> CareVisit:
    """A visit made without a plan (or before the planned day): recorded at once, in one transaction with
    its plan; the open plans stay (the next one is planned only when none is open)."""
    if household is None or household.level != Level.HOUSEHOLD:
        raise ValidationError({"household": _("Please choose a household.")})
    _check(actor, household.path)
    if not care_selectors.on_care_list(household):
        raise ValidationError(
            {"household": _("This household is not on the care list (no sensitive tag with consent).")}
        )
    now = timezone.now()
    planned_on = timezone.localdate(done_at or now)
    with transaction.atomic():
        visit = CareVisit.objects.create(
            household=household,
            path=household.path,
            planned_on=planned_on,
            visitor=actor,
            planned_by=actor,
            created_at=now,
        )
        return record_visit(actor, visit, note=note, done_at=done_at)


# --- the sweep --------------------------------------------------------------------------------------------
def sweep_care(now: datetime | None = None) -> dict:
    """Visits past their planned day and not recorded: the visitor and the household's 楼门长 and 网格员
    are told once per visit, and the visit is marked overdue once (an audit event). Idempotent."""
    from linjialin.accounts.selectors import users_holding

    now = now or timezone.now()
    today = timezone.localdate(now)
    flagged = 0
    with transaction.atomic():
        late = list(
            CareVisit.objects.filter(done_at__isnull=True, planned_on__lt=today)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("household", "visitor")
            .order_by("pk")
        )
        if not late:
            return {"overdue": 0}
        seen = set(
            AuditEvent.objects.filter(
                object_type=CareVisit._meta.label_lower,
                object_id__in=[str(v.pk) for v in late],
                action=OVERDUE,
            ).values_list("object_id", flat=True)
        )
        messages, audits = [], []
        for visit in late:
            if str(visit.pk) in seen:
                continue
            watchers = users_holding(care_selectors.CARE, visit.path, levels={Level.ENTRANCE, Level.GRID})
            users = [visit.visitor, *watchers]
            messages.append(
                Message(
                    users=[u for u in users if u is not None],
                    kind=OVERDUE,
                    title=gettext_lazy("Care visit overdue: %(household)s (planned for %(date)s)"),
                    params={"household": visit.household.name, "date": visit.planned_on.isoformat()},
                    link=_link(visit.household_id),
                    path=visit.path,
                    dedupe_key=f"{OVERDUE}:{visit.pk}",
                )
            )
            audits.append(
                {"action": OVERDUE, "obj": visit, "after": {"planned_on": visit.planned_on.isoformat()}}
            )
            flagged += 1
        if messages:
            notify_many(messages)
            audit.record_many(audits)
    return {"overdue": flagged}
