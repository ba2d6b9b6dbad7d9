"""/api/v1/mutual-aid/…: neighbours' needs and offers over the same selectors and services as the pages.

GET /posts lists the posts you may see (selectors.visible_posts: open ones in reach of your household,
your own, those you offered help on; moderators everything at their places). POST /posts posts a need or
an offer (201; the same client_token again answers 200 with the first post). POST /posts/{id}/respond is
"我能帮" (201; again answers 200 with your first response). A post you may not see answers 404, as a
missing one; 403 when it is visible but the action is not allowed (your own post, not open, not in
reach); 409 when someone else acted first; 422 for bad input, naming the field (the medicine rule and the
rate limits included).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router, Status

from linjialin.core.api import BODY_ERRORS, Error, path_id
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.places.selectors import get_place_for_user

from . import selectors
from .models import Post, ResponseState
from .schemas import PostFilters, PostIn, PostOut, PostPage, RespondIn, ResponseOut
from .services import posts as services

router = Router(tags=["mutual aid"])

Id = path_id("post id")
LIST = {401: Error, 422: Error}
CREATE = {**BODY_ERRORS, 401: Error, 403: Error, 404: Error, 422: Error}
MOVE = {**BODY_ERRORS, 401: Error, 403: Error, 404: Error, 409: Error, 422: Error}


def _out(user, post: Post, *, homes=None, contact=None) -> dict:
    homes = selectors.homes(user) if homes is None else homes
    relations = [r for r in (selectors.relation(h, post) for h in homes) if r is not None]
    author_or_moderator = post.author_id == user.pk or selectors.may_moderate(user, post)
    mine = selectors.my_response(user, post)
    return {
        "id": post.pk,
        "kind": post.kind,
        "category": post.category,
        "text": post.text,
        "urgency": post.urgency,
        "state": post.state,
        "reach": post.reach,
        "max_reach": post.max_reach,
        "relation": min(relations) if relations else None,
        "mine": post.author_id == user.pk,
        "care": selectors.sees_care(user, post),
        "created_at": post.created_at,
        "expires_at": post.expires_at,
        "first_response_at": post.first_response_at,
        "parent_id": post.parent_id,
        "responses": post.responses.exclude(state=ResponseState.WITHDRAWN).count()
        if author_or_moderator
        else None,
        "my_response": mine.state if mine is not None else None,
        "contact": contact,
    }


@router.get("/posts", response={200: PostPage, **LIST}, summary="Posts you may see (newest first)")
def list_posts(request, filters: Query[PostFilters]):
    """Open needs and offers in reach of your household, your own posts and those you offered help on;
    moderators see every post at their places. The other side's contact appears on your matched posts
    (viewing it is audited)."""
    user = request.auth
    qs = selectors.list_posts_for_user(user, kind=filters.kind, category=filters.category, mine=filters.mine)
    page = list(qs[filters.offset : filters.offset + filters.limit])
    count = qs.count() if len(page) == filters.limit or filters.offset else len(page)
    homes = selectors.homes(user)
    items = []
    for post in page:
        contact = selectors.contact_for(user, post)
        if contact is not None:
            services.record_contact_view(user, post)
        items.append(_out(user, post, homes=homes, contact=contact))
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.post("/posts", response={201: PostOut, 200: PostOut, **CREATE}, summary="Post a need or an offer")
def create_post(request, payload: PostIn):
    """A need (求助) or an offer (可提供) for your household (or one you cover as 楼门长/网格员: another
    household answers 404). It starts at your entrance and reaches further while nobody answers.
    Prescription-only drugs and injections are refused (422, saying why); so is a post over the daily
    limit. The same `client_token` again answers 200 with the first post."""
    user = request.auth
    if payload.household_id is None:
        household = selectors.home_household(user)
        if household is None:
            raise PermissionDenied
    else:
        household = get_place_for_user(user, payload.household_id, "mutual_aid.post")
    post = services.create_post(
        user,
        household=household,
        kind=payload.kind,
        category=payload.category,
        text=payload.text,
        urgency=payload.urgency,
        max_reach=payload.max_reach,
        expires_in_hours=payload.expires_in_hours,
        client_token=payload.client_token,
    )
    return Status(200 if getattr(post, "replayed", False) else 201, _out(user, post))


@router.post(
    "/posts/{post_id}/respond",
    response={201: ResponseOut, 200: ResponseOut, **MOVE},
    summary="Offer help (我能帮)",
)
def respond(request, post_id: Id, payload: RespondIn):
    """Offer help on a post in reach of your household (not your own; the post must be open). Your second
    offer on the same post answers 200 with the first. The author is told; nobody sees your contact
    unless the author picks you."""
    user = request.auth
    post = selectors.get_post_for_user(user, post_id)
    household = None
    if payload.household_id is not None:
        household = get_place_for_user(user, payload.household_id, "mutual_aid.post")
    try:
        response = services.respond(user, post, household=household, note=payload.note)
    except TransitionNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Http404:
        raise
    out = {
        "id": response.pk,
        "post_id": post.pk,
        "state": response.state,
        "note": response.note,
        "created_at": response.created_at,
    }
    return Status(200 if getattr(response, "replayed", False) else 201, out)
