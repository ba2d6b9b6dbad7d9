"""Corrections by request (PIPL art. 46): a resident asks for a field of their own record to be put
right; a community worker over their household accepts (the change is applied here, audited) or refuses
with a reason; the resident is told either way through their notices.

The value is checked when asked, with the roster's own rules, so a worker never accepts something the
roster would refuse; it is checked again when applied (a mobile may have been taken meanwhile).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from .models import CorrectionField, CorrectionRequest, CorrectionState, Relation, Resident

DECIDE_PERM = "places.import_roster"  # the community's roster managers (an ID number is no tag)
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def _masked(field: str, value) -> str:
    if value in (None, ""):
        return ""
    if field == CorrectionField.MOBILE:
        return mask_mobile(str(value))
    if field == CorrectionField.ID_NUMBER:
        return mask_id_number(str(value))
    return str(value)


def clean_value(field: str, value: str):
    """The value as stored, or ValidationError naming the problem (the roster's rules)."""
    from .roster import id_number_problem

    value = (value or "").strip()
    if field not in CorrectionField.values:
        raise ValidationError({"field": _("Choose what is wrong.")})
    if not value:
        raise ValidationError({"value": _("Please write the correct value.")})
    if field == CorrectionField.NAME:
        if len(value) > 50:
            raise ValidationError({"value": _("A name has at most 50 characters.")})
        return value
    if field == CorrectionField.MOBILE:
        if not MOBILE_RE.match(value):
            raise ValidationError({"value": _("A mobile number has 11 digits and starts with 13–19.")})
        return value
    if field == CorrectionField.ID_NUMBER:
        value = value.upper()
        problem = id_number_problem(value)
        if problem:
            raise ValidationError({"value": problem})
        return value
    if field == CorrectionField.BIRTH_YEAR:
        if not value.isdigit() or not 1900 <= int(value) <= timezone.localdate().year:
            raise ValidationError({"value": _("Write the birth year as four digits, e.g. 1956.")})
        return int(value)
    labels = {str(label): code for code, label in Relation.choices}
    code = value if value in Relation.values else labels.get(value)
    if code is None:
        raise ValidationError({"value": _("Choose one of: %(list)s.") % {"list": "、".join(labels)}})
    return code


def request_correction(
    actor, resident: Resident, *, field: str, value: str, note: str = ""
) -> CorrectionRequest:
    """The resident (the account linked to the record) asks; the community workers are told."""
    from linjialin.accounts.selectors import users_holding
    from linjialin.notifications.services import notify

    if not getattr(actor, "is_authenticated", False) or resident.user_id != actor.pk:
        raise PermissionDenied(_("You can ask for corrections of your own record only."))
    if resident.moved_out_at is not None:
        raise ValidationError(_("This record is anonymised; there is nothing to correct."))
    clean_value(field, value)
    note = (note or "").strip()[:500]
    try:
        with transaction.atomic():
            correction = CorrectionRequest.objects.create(
                resident=resident,
                path=resident.path,
                requested_by=actor,
                field=field,
                value=(value or "").strip(),
                note=note,
            )
            audit.record(
                "resident.correction_requested",
                actor=actor,
                obj=resident,
                after={"field": field, "value": _masked(field, value.strip())},
            )
            notify(
                users_holding(DECIDE_PERM, resident.path),
                kind="places.correction_requested",
                title=gettext_lazy("A resident asks for a correction of their record"),
                link=reverse("places:corrections"),
                path=resident.path,
                actor=actor,
                subject=f"places.correctionrequest:{correction.pk}",
            )
    except IntegrityError:
        raise ValidationError(
            _("You already asked for a correction of this; the community is on it.")
        ) from None
    return correction


def _decidable(actor, correction_id: int) -> CorrectionRequest:
    correction = (
        CorrectionRequest.objects.select_for_update().select_related("resident").get(pk=correction_id)
    )
    if not scope_for(actor, DECIDE_PERM).covers(correction.path):
        raise PermissionDenied(_("You may not decide corrections here."))
    if correction.state != CorrectionState.OPEN:
        raise ValidationError(_("This request has already been decided."))
    return correction


def _tell_resident(correction: CorrectionRequest, title, body="", params=None, actor=None) -> None:
    from linjialin.notifications.services import notify

    notify(
        [correction.requested_by],
        kind="places.correction_decided",
        title=title,
        body=body,
        params=params or {},
        link=reverse("accounts:my_data"),
        path=correction.path,
        actor=actor,
        subject=f"places.correctionrequest:{correction.pk}",
    )


def accept_correction(actor, correction: CorrectionRequest) -> CorrectionRequest:
    """Apply the corrected value to the record (audited as resident.corrected) and tell the resident."""
    with transaction.atomic():
        correction = _decidable(actor, correction.pk)
        resident = correction.resident
        field = correction.field
        new = clean_value(field, correction.value)
        old = getattr(resident, field)
        try:
            with transaction.atomic():
                Resident.objects.filter(pk=resident.pk).update(**{field: new})
        except IntegrityError:
            raise ValidationError(
                _("Another record already has this value; check the roster before correcting.")
            ) from None
        now = timezone.now()
        CorrectionRequest.objects.filter(pk=correction.pk).update(
            state=CorrectionState.ACCEPTED, decided_by=actor, decided_at=now
        )
        audit.record(
            "resident.corrected",
            actor=actor,
            obj=resident,
            reason=_("At the resident's request"),
            before={field: _masked(field, old)},
            after={field: _masked(field, new)},
        )
        _tell_resident(
            correction,
            gettext_lazy("Your record was corrected: %(field)s"),
            params={"field": CorrectionField(field).label},
            actor=actor,
        )
    correction.refresh_from_db()
    return correction


def refuse_correction(actor, correction: CorrectionRequest, *, reason: str) -> CorrectionRequest:
    """Refuse with a reason the resident reads."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("Please tell the resident why.")})
    with transaction.atomic():
        correction = _decidable(actor, correction.pk)
        CorrectionRequest.objects.filter(pk=correction.pk).update(
            state=CorrectionState.REFUSED,
            decided_by=actor,
            decided_at=timezone.now(),
            refusal_reason=reason[:500],
        )
        audit.record(
            "resident.correction_refused",
            actor=actor,
            obj=correction.resident,
            reason=reason,
            after={"field": correction.field},
        )
        _tell_resident(
            correction,
            gettext_lazy("Your correction request was refused: %(field)s"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"field": CorrectionField(correction.field).label, "reason": reason},
            actor=actor,
        )
    correction.refresh_from_db()
    return correction


def open_corrections_for_user(user):
    """The open requests a worker may decide, oldest first."""
    return (
        CorrectionRequest.objects.visible_to(user, DECIDE_PERM)
        .filter(state=CorrectionState.OPEN)
        .select_related("resident", "resident__household", "requested_by")
        .order_by("created_at", "id")
    )
