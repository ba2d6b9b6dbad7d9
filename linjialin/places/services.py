"""The only write path for places and residents (the roster import lives in places.roster)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linjialin.core import audit
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.reasons import clean_reason
from linjialin.core.scope import scope_for

from .models import EntranceProfile, Level, Place, Resident, ResidentTag, TagType

PROFILE_FIELDS = ("ebikes", "wechat_group", "wechat_members", "spare_keys", "notes")


def _require(actor, perm: str, path: str) -> None:
    if not scope_for(actor, perm).covers(path):
        raise PermissionDenied(_("You may not do that here."))


def update_entrance_profile(actor, entrance: Place, **values) -> EntranceProfile:
    """Change the entered parts of a 楼门 profile (e-bikes, WeChat group, spare keys, notes)."""
    if entrance.level != Level.ENTRANCE:
        raise ValidationError(_("Only an entrance has a profile."))
    _require(actor, "places.edit_roster", entrance.path)
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown profile fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        profile, _created = EntranceProfile.objects.select_for_update().get_or_create(
            entrance=entrance, defaults={"path": entrance.path}
        )
        before = {f: getattr(profile, f) for f in values}
        for name, value in values.items():
            setattr(profile, name, value)
        profile.full_clean()
        profile.save()
        audit.record("entrance_profile.updated", actor=actor, obj=entrance, before=before, after=values)
    return profile


def tag_resident(actor, resident: Resident, *, tag: TagType, consent_source: str = "") -> ResidentTag:
    """Tag a resident. A sensitive tag needs the source of the resident's consent (PIPL)."""
    _require(actor, "places.edit_roster", resident.path)
    if tag.sensitive:
        _require(actor, "places.view_sensitive", resident.path)
        if not consent_source.strip():
            raise ValidationError(
                {"consent_source": _("A sensitive tag needs the source of the resident's consent.")}
            )
    with transaction.atomic():
        item, created = ResidentTag.objects.get_or_create(
            resident=resident,
            tag=tag,
            defaults={"path": resident.path, "consent_source": consent_source.strip(), "recorded_by": actor},
        )
        if created:
            audit.record(
                "resident.tagged",
                actor=actor,
                obj=resident,
                after={"tag": tag.code, "consent": consent_source},
            )
    return item


def untag_resident(actor, resident: Resident, *, tag: TagType) -> None:
    _require(actor, "places.edit_roster", resident.path)
    if tag.sensitive:
        _require(actor, "places.view_sensitive", resident.path)
    with transaction.atomic():
        deleted, _rows = ResidentTag.objects.filter(resident=resident, tag=tag).delete()
        if deleted:
            audit.record("resident.untagged", actor=actor, obj=resident, before={"tag": tag.code})


def unmask_resident(actor, resident: Resident, *, reason: str) -> dict[str, str]:
    """Return the full mobile and ID number; needs the unmask permission and a reason; audited."""
    _require(actor, "places.unmask", resident.path)
    reason = clean_reason(reason, message=_("Please say why you need the full number."))
    audit.record(
        "resident.unmasked",
        actor=actor,
        obj=resident,
        reason=reason,
        after={"mobile": mask_mobile(resident.mobile), "id_number": mask_id_number(resident.id_number)},
    )
    return {"mobile": resident.mobile, "id_number": resident.id_number}


# --- building the tree ------------------------------------------------------------------------------
def place_path(parent: Place | None, level: int, code: str) -> str:
    code = code_for(level, code)
    return f"{parent.path if parent else ''}{code}."


def code_for(level: int, code: str | int) -> str:
    from .models import CODE_WIDTH

    width = CODE_WIDTH[Level(level)]
    code = str(code).strip()
    if not code.isdigit() or len(code) > width:
        raise ValidationError(
            {
                "code": _("The code of a place at level “%(level)s” has at most %(width)d digits.")
                % {"level": Level(level).label, "width": width}
            }
        )
    if level == Level.SUBDISTRICT and len(code) != width:
        # the 9-digit administrative code is the head of every 15-digit grid code: never pad it
        raise ValidationError({"code": _("A subdistrict code is the full 9-digit administrative code.")})
    return code.zfill(width)


def grid_code_for(parent_path: str, grid_code: str) -> str:
    """The 15-digit Beijing grid code: subdistrict (9) + community (3) + grid (3), from the path."""
    parts = parent_path.rstrip(".").split(".")
    return f"{parts[0]}{parts[1]}{grid_code}"


def new_place(parent: Place | None, *, level: int, code: str | int, name: str, **fields) -> Place:
    """An unsaved Place with its path (and grid code) filled in; for bulk creation by setup code."""
    if parent is None and level != Level.SUBDISTRICT:
        raise ValidationError(_("Only a subdistrict has no parent."))
    if parent is not None and level != parent.level + 1:
        raise ValidationError(_("A place must be exactly one level below its parent."))
    code = code_for(level, code)
    place = Place(
        parent=parent, level=level, code=code, name=name, path=place_path(parent, level, code), **fields
    )
    if level == Level.GRID:
        place.grid_code = grid_code_for(parent.path, code)
    return place


def create_place(actor, parent: Place | None, *, level: int, code: str | int, name: str, **fields) -> Place:
    """Create one place under `parent` (checked: the actor must be allowed to edit the roster there)."""
    if actor is not None:
        _require(actor, "places.edit_roster", parent.path if parent else "")
    place = new_place(parent, level=level, code=code, name=name, **fields)
    with transaction.atomic():
        place.full_clean(exclude=["parent", "compound", "building"])
        place.save()
        if actor is not None:
            audit.record("place.created", actor=actor, obj=place, after={"name": name, "level": level})
    return place


def link_resident_account(actor, resident: Resident, *, user) -> Resident:
    """Link a login account to a resident record (the resident then sees their own household)."""
    _require(actor, "places.edit_roster", resident.path)
    with transaction.atomic():
        updated = Resident.objects.filter(pk=resident.pk, user__isnull=True).update(user=user)
        if updated != 1:
            raise ValidationError(_("This resident already has an account."))
        resident.user = user
        audit.record("resident.account_linked", actor=actor, obj=resident, after={"user": user.pk})
    return resident
