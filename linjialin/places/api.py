from ninja import Router, Schema

from . import selectors

router = Router(tags=["places"])


class Error(Schema):
    detail: str


class PlaceOut(Schema):
    id: int
    level: int
    name: str
    path: str
    grid_code: str
    households: int
    residents: int


@router.get("/{place_id}", response={200: PlaceOut, 401: Error, 404: Error})
def get_place(request, place_id: int):
    place = selectors.get_place_for_user(request.auth, place_id)
    totals = selectors.place_totals(place)
    return PlaceOut(
        id=place.pk, level=place.level, name=place.name, path=place.path, grid_code=place.grid_code,
        households=totals["households"], residents=totals["residents"],
    )
