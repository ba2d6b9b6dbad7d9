"""/api/v1/places/… and /api/v1/residents/…: thin endpoints over places.selectors and places.services.

Every read goes through a selector (404 when missing or outside the caller's scope); 403 only when the
object is visible but the action is not allowed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router

from linjialin.core.api import BODY_ERRORS, GUARDED_READ_ERRORS, READ_ERRORS, Error, path_id
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from . import selectors, services
from .models import Level
from .schemas import ChildOut, EntranceProfileOut, PlaceOut, ResidentOut, TagOut, UnmaskIn, UnmaskOut

router = Router(tags=["places"])
residents_router = Router(tags=["residents"])

# an id in range that names nothing is "not found"; 0, -1 or 2**70 name nothing any id column holds: 422
Id = path_id("id")


@router.get("/{place_id}", response={200: PlaceOut, **READ_ERRORS}, summary="One place with totals below it")
def get_place(request, place_id: Id):
    place = selectors.get_place_for_user(request.auth, place_id)
    totals = selectors.place_totals(place)
    return PlaceOut(
        id=place.pk, parent_id=place.parent_id, level=place.level, level_label=str(Level(place.level).label),
        code=place.code, name=place.name, path=place.path, grid_code=place.grid_code, **totals,
    )


@router.get(
    "/{place_id}/children", response={200: list[ChildOut], **READ_ERRORS}, summary="Visible children, counts"
)
def get_children(request, place_id: Id):
    place = selectors.get_place_for_user(request.auth, place_id)
    return [
        ChildOut(
            id=row.place.pk, level=row.place.level, name=row.place.name, path=row.place.path,
            grid_code=row.place.grid_code, entrances=row.entrances, households=row.households,
            occupied=row.occupied, residents=row.residents,
        )
        for row in selectors.children_with_counts(request.auth, place)
    ]


@router.get("/{place_id}/profile", response={200: EntranceProfileOut, **READ_ERRORS}, summary="楼门 profile")
def get_profile(request, place_id: Id):
    """Computed and entered figures of an entrance; 404 for a place that is not an entrance."""
    place = selectors.get_place_for_user(request.auth, place_id)
    if place.level != Level.ENTRANCE:
        raise Http404
    figures = selectors.entrance_figures(place)
    return EntranceProfileOut(entrance_id=place.pk, **vars(figures))


@router.get("/{place_id}/residents", response={200: list[ResidentOut], **GUARDED_READ_ERRORS},
            summary="Residents of a household (numbers masked)")
def get_residents(request, place_id: Id):
    """Residents of a household, numbers masked; sensitive tags only with `places.view_sensitive`."""
    user = request.auth
    place = selectors.get_place_for_user(user, place_id)
    if place.level != Level.HOUSEHOLD:
        raise Http404
    if not scope_for(user, "places.view_household").covers(place.path):
        raise PermissionDenied(_("You may not see the residents of this household."))
    return [
        ResidentOut(
            id=r.pk, name=r.name, relation=r.relation, birth_year=r.birth_year,
            mobile_masked=mask_mobile(r.mobile), id_number_masked=mask_id_number(r.id_number),
            tags=[
                TagOut(code=t.tag_id, name_zh=t.tag.name_zh, name_en=t.tag.name_en, sensitive=t.tag.sensitive)
                for t in r.visible_tags
            ],
        )
        for r in selectors.household_residents(user, place)
    ]


@residents_router.post(
    "/{resident_id}/unmask",
    response={200: UnmaskOut, **BODY_ERRORS, 401: Error, 403: Error, 404: Error, 422: Error},
    summary="Full mobile and ID number (needs a reason; audited)",
)
def unmask(request, resident_id: Id, payload: UnmaskIn):
    resident = selectors.get_resident_for_user(request.auth, resident_id)
    numbers = services.unmask_resident(request.auth, resident, reason=payload.reason)
    return UnmaskOut(resident_id=resident.pk, **numbers)
