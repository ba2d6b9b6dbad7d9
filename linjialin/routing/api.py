"""/api/v1/routing/…: category suggestions for a text (docs/routing.md §4). Any signed-in caller
(a resident typing, the dispatcher desk, an integration's token); categories are public data, so the
answer depends only on the text (and, with `place`, on a place in your view: 404 otherwise)."""

from __future__ import annotations

from django.http import Http404
from ninja import Field, Query, Router, Schema

from linjialin.core.api import BODY_ERRORS, ID_MAX, Error
from linjialin.places.selectors import get_place_for_user

from . import selectors

router = Router(tags=["routing"])
ANSWERS = {401: Error, 404: Error, 422: Error}
# a POST with a session also needs its CSRF token (403 without it)
POST_ANSWERS = {**BODY_ERRORS, **ANSWERS, 403: Error}


class SuggestIn(Schema):
    text: str = Field(..., max_length=2000, description="what the request says (normalised before use)")
    place: int | None = Field(
        None, ge=1, le=ID_MAX, description="the place it is about (id), to check the default unit"
    )


class SuggestionOut(Schema):
    code: str
    name_zh: str
    name_en: str
    parent_code: str | None
    parent_name_zh: str | None
    confidence: float = Field(..., ge=0, le=1)
    source: str = Field(..., description="rules, model or both")
    level: int = Field(..., description="handling level: 0 department … 4 entrance")
    level_label: str
    unit_id: int | None
    unit_name: str | None


def _place(user, place_id):
    if place_id is None:
        return None
    for perm in ("requests.submit", "requests.view"):
        try:
            return get_place_for_user(user, place_id, perm)
        except Http404:
            continue
    raise Http404


def _answer(request, payload: SuggestIn) -> list[dict]:
    place = _place(request.auth, payload.place)
    return [
        {
            "code": s.code,
            "name_zh": s.category.name_zh,
            "name_en": s.category.name_en,
            "parent_code": s.category.parent.code if s.category.parent_id else None,
            "parent_name_zh": s.category.parent.name_zh if s.category.parent_id else None,
            "confidence": round(s.confidence, 4),
            "source": s.source,
            "level": s.level,
            "level_label": s.level_label,
            "unit_id": s.unit.pk if s.unit else None,
            "unit_name": s.unit.name_zh if s.unit else None,
        }
        for s in selectors.suggest(payload.text, place)
    ]


@router.get(
    "/suggest", response={200: list[SuggestionOut], **ANSWERS}, summary="Suggest categories for a text"
)
def suggest_get(request, q: Query[SuggestIn]):
    """The top categories (at most RoutingRules.suggestions, 3 by default), most likely first, each with
    its handling level, default unit and a confidence (0–1). Empty when nothing fits."""
    return _answer(request, q)


@router.post(
    "/suggest", response={200: list[SuggestionOut], **POST_ANSWERS}, summary="Suggest categories (long text)"
)
def suggest_post(request, payload: SuggestIn):
    """The same as GET, with the text in the body (for long texts)."""
    return _answer(request, payload)
