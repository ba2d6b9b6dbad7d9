"""Moving out: the resident's personal fields are anonymised, their household keeps counting them.

PIPL art. 47: personal data whose purpose is fulfilled is deleted or anonymised. A resident who moves out
no longer needs a name, mobile, ID number or birth year on file; but the requests they made, the rates
those count in, and the household's history should not change. So the row stays at its household's
path with its personal fields blanked (the name becomes an opaque marker, as two people may leave one
household), its tags (which may be sensitive) are removed, its account link is cut, and the contact
details typed on their requests are blanked. One audit event, with masked values only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import audit
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from .models import Resident, ResidentTag

# the community's roster managers (who import and export it), not the entrance and grid volunteers who
# keep tags and profiles: anonymising is irreversible
EDIT_PERM = "places.import_roster"


def anonymised_name(resident_id: int) -> str:
    return f"#{resident_id}"


def anonymise_resident(actor, resident: Resident, *, reason: str) -> Resident:
    """Blank the resident's personal fields, keep the row (and its path) for the statistics."""
    if not scope_for(actor, EDIT_PERM).covers(resident.path):
        raise PermissionDenied(_("You may not change this resident."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("Please give a reason.")})
    from linjialin.service_requests.retention import forget_requester_contact

    with transaction.atomic():
        current = Resident.objects.select_for_update().get(pk=resident.pk)
        if current.moved_out_at is not None:
            raise ValidationError(_("This resident has already moved out."))
        before = {
            "name": current.name[:1] + "*" * max(len(current.name) - 1, 0),
            "mobile": mask_mobile(current.mobile),
            "id_number": mask_id_number(current.id_number),
            "birth_year": current.birth_year,
            "user": current.user_id,
        }
        tags, _rows = ResidentTag.objects.filter(resident_id=current.pk).delete()
        contacts = (
            forget_requester_contact(current.user_id, current.mobile)
            if current.user_id or current.mobile
            else 0
        )
        now = timezone.now()
        Resident.objects.filter(pk=current.pk).update(
            name=anonymised_name(current.pk),
            mobile="",
            id_number="",
            birth_year=None,
            user=None,
            moved_out_at=now,
        )
        current.refresh_from_db()
        audit.record(
            "resident.anonymised",
            actor=actor,
            obj=current,
            reason=reason,
            before=before,
            after={"tags_removed": tags, "request_contacts_blanked": contacts},
        )
    return current


def move_out_resident(actor, resident: Resident, *, reason: str) -> Resident:
    """A resident leaves their household: from now on they are anonymous in it."""
    return anonymise_resident(actor, resident, reason=reason)
