"""/api/v1/me and /api/v1/coverage/…: the signed-in user and 楼门长 coverage."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Router

from linjialin.core.api import GUARDED_READ_ERRORS, Error, path_id
from linjialin.core.masking import mask_mobile
from linjialin.core.scope import scope_for
from linjialin.places import selectors as place_selectors

from . import selectors
from .roles import Perm, Role
from .schemas import CoverageOut, GrantPlaceOut, MeOut, RoleOut

router = Router(tags=["accounts"])

Id = path_id("place id")


@router.get("/me", response={200: MeOut, 401: Error}, summary="The signed-in user and their roles")
def me(request):
    user = request.auth
    roles = [
        RoleOut(
            grant_id=g.pk,
            role=g.role,
            role_label=str(Role(g.role).label),
            place=GrantPlaceOut(id=g.place.pk, level=g.place.level, name=g.place.name, path=g.place.path),
            building_id=g.building_id,
            floor=g.floor,
            valid_from=g.valid_from,
            valid_to=g.valid_to,
        )
        for g in selectors.home_roles(user)
    ]
    return MeOut(
        id=user.pk,
        display_name=user.display_name,
        mobile_masked=mask_mobile(user.mobile),
        language=user.language,
        roles=roles,
        permissions=sorted(p.value for p in Perm if not scope_for(user, p).is_empty),
    )


@router.get(
    "/coverage/{place_id}",
    response={200: list[CoverageOut], **GUARDED_READ_ERRORS},
    summary="楼门长 coverage per community",
)
def coverage(request, place_id: Id):
    """Coverage for every community under the place (needs `accounts.manage_coverage` there)."""
    place = place_selectors.get_place_for_user(request.auth, place_id)
    if not scope_for(request.auth, Perm.MANAGE_COVERAGE).covers(place.path):
        raise PermissionDenied(_("You may not manage coverage here."))
    return [
        CoverageOut(
            community_id=row.community.pk,
            community=row.community.name,
            path=row.community.path,
            entrances=row.entrances,
            covered=row.covered,
            uncovered=row.uncovered,
            percent=row.percent,
            buildings=row.buildings,
            buildings_covered=row.buildings_covered,
            floor_leaders=row.floor_leaders,
        )
        for row in selectors.coverage_by_community(place)
    ]
