"""The agreement and its court confirmation (司法确认): the writes after a mediation succeeds.

Law encoded here:

- When an agreement takes effect is fixed by the law, not typed (人民调解法 第二十九条、第三十条): a
  written agreement on the day the last party signed (签名、盖章或者按指印) or the mediator signed and the
  committee sealed it, whichever is last; an oral agreement on the day the parties agreed. The service
  records each party's signature date and the seal date and derives `effective_on`; a date in the future
  or before the agreement's date is refused.
- The joint application for 司法确认 (人民调解法 第三十三条; 民事诉讼法 2023 第二百零五条): within
  court_apply_days (30) of the agreement taking effect, the last day moved off a rest day (民事诉讼法
  第八十五条); every party's consent recorded with its date; the court chosen from the competent
  basic-level courts (where a party lives, where the subject matter is, where the mediation organisation
  is: `selectors.competent_courts`); refused for matters a court does not confirm (身份关系、收养、婚姻
  关系: rules.court_excluded_types), while the mediation itself is unaffected.
- The court's steps in order; its clocks are computed in selectors.court_clocks.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core.errors import Conflict
from linjialin.core.workflow import TransitionNotAllowed

from .. import selectors
from ..models import (
    Agreement,
    AgreementItem,
    AgreementSignature,
    Case,
    CaseState,
    Court,
    CourtConfirmation,
    CourtConsent,
    CourtState,
    FollowUp,
    Outcome,
)
from ..workflow import member_or_manager, workflow
from .cases import _as_date, _audit, _event, _party_users, _raise, _require, _state, _tell, _text

S = CaseState


# --- the agreement ----------------------------------------------------------------------------------------
def _clean_items(case: Case, items, signed_on: date | None, errors: dict) -> list[AgreementItem]:
    party_ids = set(case.parties.values_list("pk", flat=True))
    rows = []
    for i, item in enumerate(items or []):
        prefix = f"items.{i}"
        party = item.get("party")
        party_id = getattr(party, "pk", party)
        if party_id not in party_ids:
            errors[f"{prefix}.party"] = _("Each duty must be performed by a party to the case.")
        duty = (item.get("duty") or "").strip()
        if not duty:
            errors[f"{prefix}.duty"] = _("Say what the party will do.")
        due_on = _as_date(item.get("due_on"), f"{prefix}.due_on", errors)
        if due_on and signed_on and due_on < signed_on:
            errors[f"{prefix}.due_on"] = _("A duty cannot be due before the agreement is signed.")
        rows.append(
            AgreementItem(
                party_id=party_id,
                duty=duty[:2000],
                how=(item.get("how") or "").strip()[:200],
                where=(item.get("where") or "").strip()[:200],
                due_on=due_on,
            )
        )
    return rows


def _party_dates(
    case: Case, given, field: str, agreed: date | None, errors: dict, *, missing, before
) -> dict[int, date]:
    """{party id: date} from a mapping of party (or party id) → date, one for every party of the case,
    none in the future or before `agreed`. Errors under `field.<party id>`."""
    today = timezone.localdate()
    given = {getattr(k, "pk", k): v for k, v in dict(given or {}).items()}
    out: dict[int, date] = {}
    for party in case.parties.all():
        key = f"{field}.{party.pk}"
        value = given.get(party.pk)
        if value in (None, ""):
            errors[key] = missing % {"name": party.name}
            continue
        day = _as_date(value, key, errors)
        if day is None:
            continue
        if day > today:
            errors[key] = _("%(name)s: the date cannot be in the future.") % {"name": party.name}
        elif agreed and day < agreed:
            errors[key] = before % {"name": party.name, "date": agreed.isoformat()}
        else:
            out[party.pk] = day
    unknown = set(given) - set(case.parties.values_list("pk", flat=True))
    if unknown:
        errors[field] = _("Only the parties to this case can sign or consent.")
    return out


def effective_day(*, written: bool, agreed_on: date, signatures: dict | None = None, sealed_on=None) -> date:
    """The day an agreement takes effect (人民调解法 第二十九条、第三十条): written → the last of the parties'
    signatures and the mediator's signature with the committee's seal; oral → the day the parties agreed."""
    if not written:
        return agreed_on
    return max([*(signatures or {}).values(), sealed_on])


def record_agreement(
    actor,
    case: Case,
    *,
    written,
    facts,
    terms,
    performance,
    signed_on,
    items,
    copies=3,
    signatures=None,
    sealed_on=None,
) -> Agreement:
    """The agreement (调解协议书), written or oral: the facts, dispute and liabilities; the agreed rights
    and duties; each duty's party, how, where and by when. A written one has one copy per party plus
    the committee's, every party's signature date (`signatures`: party → date) and the day the mediator
    signed and the committee sealed it (`sealed_on`); an oral one is dated the day the parties agreed
    (`signed_on`). The effective day is derived (effective_day), never typed. Follow-up visits are
    planned at effective_on + each of rules.followup_days."""
    workflow.check(case, "agree", actor)
    errors: dict = {}
    facts = _text(
        facts,
        "facts",
        _("Please state the facts, the dispute and the liabilities."),
        errors,
        max_length=10000,
    )
    terms = _text(terms, "terms", _("Please state the agreed rights and duties."), errors, max_length=10000)
    performance = (performance or "").strip()
    written = bool(written)
    if written and not performance:
        errors["performance"] = _("Say how, where and by when the agreement is performed.")
    signed = _as_date(signed_on, "signed_on", errors)
    today = timezone.localdate()
    if signed and signed > today:
        errors["signed_on"] = _("The agreement cannot be signed in the future.")
        signed = None
    signed_by: dict[int, date] = {}
    sealed = None
    if written:
        signed_by = _party_dates(
            case,
            signatures,
            "signatures",
            signed,
            errors,
            missing=_("%(name)s has not signed: a written agreement takes effect once every party signed."),
            before=_("%(name)s cannot sign before the agreement's date (%(date)s)."),
        )
        if sealed_on in (None, ""):
            errors["sealed_on"] = _(
                "Give the day the mediator signed and the committee sealed the agreement: it takes effect "
                "only then."
            )
        else:
            sealed = _as_date(sealed_on, "sealed_on", errors)
            if sealed and sealed > today:
                errors["sealed_on"] = _("The seal cannot be dated in the future.")
            elif sealed and signed and sealed < signed:
                errors["sealed_on"] = _("The seal cannot come before the agreement's date (%(date)s).") % {
                    "date": signed.isoformat()
                }
    rows = _clean_items(case, items, signed, errors)
    if written and not rows:
        errors["items"] = _(
            "A written agreement lists at least one duty: who does what, how, where, by when."
        )
    n_parties = case.parties.count()
    try:
        copies = int(copies)
    except (TypeError, ValueError):
        copies = 0
    if written and copies < n_parties + 1:
        errors["copies"] = _("One copy for each party and one for the committee: at least %(n)d.") % {
            "n": n_parties + 1
        }
    _raise(errors)
    effective = effective_day(written=written, agreed_on=signed, signatures=signed_by, sealed_on=sealed)
    now = timezone.now()
    with transaction.atomic():
        workflow.apply(
            case, "agree", actor, outcome=Outcome.WRITTEN if written else Outcome.ORAL, ended_at=now
        )
        agreement = Agreement.objects.create(
            case=case,
            written=written,
            facts=facts,
            terms=terms,
            performance=performance,
            signed_on=signed,
            sealed_on=sealed,
            effective_on=effective,
            copies=max(copies, 1),
            recorded_by=actor,
            recorded_at=now,
        )
        AgreementSignature.objects.bulk_create(
            [AgreementSignature(agreement=agreement, party_id=pk, signed_on=d) for pk, d in signed_by.items()]
        )
        for row in rows:
            row.agreement = agreement
        AgreementItem.objects.bulk_create(rows)
        planned = [effective + timedelta(days=d) for d in selectors.followup_intervals()]
        FollowUp.objects.bulk_create([FollowUp(case=case, due_on=d) for d in planned])
        _event(
            case,
            "agreement",
            actor,
            public=True,
            written=written,
            signed_on=signed.isoformat(),
            effective_on=effective.isoformat(),
        )
        _tell(
            _party_users(case),
            case,
            "mediation.case.agreed",
            gettext_lazy("Case %(number)s: agreement recorded"),
            link_name="mediation:my_case",
            actor=actor,
        )
        _audit(
            "mediation.agreement.recorded",
            actor,
            case,
            obj=agreement,
            before={"state": S.ACCEPTED},
            after={
                "state": case.state,
                "written": written,
                "items": len(rows),
                "signatures": {str(pk): d.isoformat() for pk, d in signed_by.items()},
                "sealed_on": sealed.isoformat() if sealed else None,
                "effective_on": effective.isoformat(),
                "followups": [d.isoformat() for d in planned],
            },
        )
    return agreement


# --- 司法确认 ----------------------------------------------------------------------------------------------
def record_court_application(actor, case: Case, *, court, applied_on, consents) -> CourtConfirmation:
    """The parties' joint application for court confirmation of a written agreement: every party's
    consent with its date (`consents`: party → date, none before the agreement took effect, none after
    the application), to one of the competent courts (`court`: a Court from selectors.competent_courts),
    within the application window (selectors.court_apply_last_day). Refused for a matter a court does not
    confirm (selectors.court_exclusion). Once the window has closed it can no longer be recorded (the page
    hides the form too): the application date is at the latest today, so a recorded application always
    lies inside the window."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    _state(case, [S.AGREED, S.CLOSED], _("record the court application"))
    errors: dict = {}
    applied = _as_date(applied_on, "applied_on", errors)
    agreement = selectors._agreement(case)
    r = selectors.rules()
    if agreement is None or not agreement.written:
        errors["applied_on"] = _("Only a written agreement can be confirmed by a court.")
    elif reason := selectors.court_exclusion(case, r):
        errors["court"] = reason
    elif CourtConfirmation.objects.filter(case_id=case.pk).exists():
        errors["applied_on"] = _("The court application is already recorded.")
    elif (last := selectors.court_apply_last_day(case, r)) < timezone.localdate():
        # the window closed: a court no longer accepts the joint application (人民调解法 第三十三条)
        errors["applied_on"] = _(
            "The time to apply for court confirmation ended on %(date)s "
            "(%(days)d days after the agreement took effect): the application can no longer be recorded."
        ) % {"date": last.isoformat(), "days": r.court_apply_days}
    elif applied:
        if applied > timezone.localdate():
            errors["applied_on"] = _("The application date cannot be in the future.")
        elif applied < agreement.effective_on:
            errors["applied_on"] = _("The application comes after the agreement takes effect (%(date)s).") % {
                "date": agreement.effective_on.isoformat()
            }
    if errors:
        _raise(errors)
    competent = selectors.competent_courts(case)
    chosen = court if isinstance(court, Court) else next((c for c in competent if c.pk == court), None)
    if chosen is None or chosen.pk not in {c.pk for c in competent}:
        errors["court"] = _(
            "Choose a competent court: the basic-level court where a party lives, where the subject matter "
            "is or where the mediation organisation is."
        )
    consented = _party_dates(
        case,
        consents,
        "consents",
        agreement.effective_on,
        errors,
        missing=_("%(name)s has not consented: the application is made jointly by every party."),
        before=_("%(name)s cannot consent before the agreement takes effect (%(date)s)."),
    )
    for pk, day in consented.items():
        if applied and day > applied:
            errors[f"consents.{pk}"] = _("A party consents on or before the day of the application.")
    _raise(errors)
    try:
        with transaction.atomic():
            row = CourtConfirmation.objects.create(
                case=case,
                court=chosen.name,
                chosen_court=chosen,
                applied_on=applied,
                recorded_by=actor,
                updated_at=timezone.now(),
            )
            CourtConsent.objects.bulk_create(
                [CourtConsent(confirmation=row, party_id=pk, consented_on=d) for pk, d in consented.items()]
            )
            _event(case, "court_applied", actor, chosen.name, public=True, applied_on=applied.isoformat())
            _audit(
                "mediation.court.applied",
                actor,
                case,
                obj=row,
                after={
                    "court": chosen.name,
                    "applied_on": applied.isoformat(),
                    "consents": {str(pk): d.isoformat() for pk, d in consented.items()},
                },
            )
    except IntegrityError:
        raise Conflict(_("Someone else recorded the court application first. Reload to see it.")) from None
    case._state.fields_cache.pop("court", None)
    return row


COURT_STEPS = {  # state now → the states the court moves it to
    CourtState.APPLIED: {CourtState.ACCEPTED, CourtState.REJECTED},
    CourtState.ACCEPTED: {
        CourtState.CONFIRMED,
        CourtState.REJECTED,
        CourtState.ACCEPTED,
    },  # accepted: extension
}


def record_court_step(actor, case: Case, *, state, on, extended=False, note="") -> CourtConfirmation:
    """The court's steps, dates in order: applied → accepted (on ≥ applied_on) → confirmed or rejected
    (on ≥ accepted_on); a court may also refuse to accept (applied → rejected). `state="accepted"` on an
    accepted application with `extended=True` records the extension of the decision period."""
    _require(member_or_manager(actor, case), _("You may not change this case."))
    row = CourtConfirmation.objects.filter(case_id=case.pk).first()
    if row is None:
        raise TransitionNotAllowed(_("Record the court application first."))
    if state not in COURT_STEPS.get(row.state, set()):
        raise TransitionNotAllowed(
            _("The court application is “%(state)s”: it cannot become “%(next)s”.")
            % {
                "state": CourtState(row.state).label,
                "next": CourtState(state).label if state in CourtState.values else state,
            }
        )
    errors: dict = {}
    day = _as_date(on, "on", errors)
    if day:
        start = row.accepted_on if row.state == CourtState.ACCEPTED else row.applied_on
        if day < start:
            errors["on"] = _("This step cannot come before %(date)s.") % {"date": start.isoformat()}
        elif day > timezone.localdate():
            errors["on"] = _("The date cannot be in the future.")
    extension_only = row.state == CourtState.ACCEPTED and state == CourtState.ACCEPTED
    if extension_only and (not extended or row.extended):
        errors["extended"] = _("The court's decision period can be extended once.")
    _raise(errors)
    changes: dict = {"state": state, "updated_at": timezone.now(), "recorded_by": actor}
    if note:
        changes["note"] = note.strip()[:500]
    if state == CourtState.ACCEPTED and not extension_only:
        changes["accepted_on"] = day
    if extended:
        changes["extended"] = True
    if state in (CourtState.CONFIRMED, CourtState.REJECTED):
        changes["decided_on"] = day
    seen = row.state
    kind = "court_extended" if extension_only else f"court_{state}"
    with transaction.atomic():
        if not CourtConfirmation.objects.filter(pk=row.pk, state=seen, extended=row.extended).update(
            **changes
        ):
            raise Conflict(_("Someone else recorded a court step first. Reload to see it."))
        for name, value in changes.items():
            setattr(row, name, value)
        _event(case, kind, actor, (note or "").strip(), public=True, on=day.isoformat())
        _audit(
            "mediation.court.step",
            actor,
            case,
            obj=row,
            before={"state": seen},
            after={"state": state, "on": day.isoformat(), "extended": row.extended},
        )
    case._state.fields_cache.pop("court", None)
    return row
