"""API shapes of mutual aid posts. A post shows no household, door or phone: only how close it is to
you; the other side's chosen contact appears only for the author and the chosen helper after the pick
(a masked relay number or the door number, as that side chose)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import WithJsonSchema

from linjialin.core.api import ID_MAX

from .models import AidCategory, Kind, Reach, Urgency

TEXT = r"\S"  # at least one character that is not a space

# A post's urgency has no "risk" step: described under its own name, because the OpenAPI document keeps
# one schema per name and requests have an `Urgency` of their own.
PostUrgency = Annotated[
    Urgency, WithJsonSchema({"title": "PostUrgency", "type": "string", "enum": list(Urgency.values)})
]


class HandoffContactOut(Schema):
    """The other side's chosen contact after the pick (never the real mobile)."""

    side: str = Field(description='whose contact this is: "requester" or "helper"')
    kind: str = Field(description='"relay" (the platform relay, never the real mobile) or "door"')
    value: str = Field(description='"95013 转 1234" or the door number')
    name: str
    mode: str = Field(description="the hand-off mode: door, in_person, deliver")
    guardian: str


class PostOut(Schema):
    id: int
    kind: str
    category: str
    text: str
    urgency: str
    state: str
    reach: int = Field(description="1 entrance, 2 building, 3 compound, 4 community")
    max_reach: int
    relation: int | None = Field(description="how close the post is to your household (1–4), if at all")
    mine: bool = Field(description="you posted it")
    care: bool = Field(description="a care-list household (shown to its 楼门长 and 网格员 only)")
    created_at: datetime
    expires_at: datetime
    first_response_at: datetime | None
    parent_id: int | None = Field(description="the post this one was passed on from")
    responses: int | None = Field(description="offers of help so far (the author and moderators only)")
    my_response: str | None = Field(description="the state of your own offer of help, if any")
    contact: HandoffContactOut | None = Field(description="after the pick, for the two sides only")


class PostPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PostOut]


class PostFilters(Schema):
    kind: Kind | None = None
    category: AidCategory | None = None
    mine: bool = Field(False, description="only your own posts and those you offered help on")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class PostIn(Schema):
    household_id: int | None = Field(
        None,
        ge=1,
        le=ID_MAX,
        description="for whom (default: your household; a 楼门长 may post for one they cover)",
    )
    kind: Kind
    category: AidCategory
    text: str = Field(..., max_length=500, pattern=TEXT)
    urgency: PostUrgency = Urgency.NORMAL
    max_reach: Reach = Reach.COMMUNITY
    expires_in_hours: int | None = Field(None, ge=1, le=336)
    client_token: str = Field("", max_length=64, description="the same token twice makes one post")


class RespondIn(Schema):
    household_id: int | None = Field(None, ge=1, le=ID_MAX, description="your household (default: your home)")
    note: str = Field("", max_length=200)


class ResponseOut(Schema):
    id: int
    post_id: int
    state: str
    note: str
    created_at: datetime
