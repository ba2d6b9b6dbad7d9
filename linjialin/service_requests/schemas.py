"""API shapes for requests. The requester's contact is masked unless the caller may see it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from linjialin.core.api import ID_MAX, DbId

from .models import Channel, RequestType, Satisfaction, State, Urgency

TEXT = r"\S"  # at least one character that is not a space


class RequestOut(Schema):
    id: int
    number: str
    request_type: str
    state: str
    level: int
    urgency: str
    channel: str
    description: str
    place_id: int
    place_name: str
    path: str
    category: str | None
    supervised: bool
    reopen_count: int
    overdue: bool
    submitted_at: datetime
    accept_by: datetime | None
    resolve_by: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    result: str
    solved: bool | None
    satisfaction: str


class EventOut(Schema):
    kind: str
    at: datetime
    actor_name: str
    note: str
    data: dict


class RequesterContactOut(Schema):
    """Who asked and how to reach them: the contact given with the request, else the requester's account.
    Both are masked (张*, 138****1234) unless `masked` is false."""

    name: str
    mobile: str
    masked: bool = Field(description="true unless you are the owning handler, a dispatcher or the requester")


class RequestDetailOut(RequestOut):
    unit_id: int | None = Field(None, description="the owning unit at the department level (首接负责)")
    assists: list[AssistOut] = Field(default_factory=list, description="co-handling and summoned units")
    contact: RequesterContactOut = Field(
        description="the requester's name and mobile; in full only for the owning handler, a dispatcher and "
        "the requester (the full view by staff is audited)"
    )
    timeline: list[EventOut]
    transitions: list[str] = Field(description="the transitions you may make now")


class RequestPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RequestOut]


class RequestFilters(Schema):
    state: State | None = None
    level: int | None = Field(None, ge=0, le=4, description="handling level, 0 department … 4 entrance")
    overdue: bool | None = None
    place: int | None = Field(None, ge=1, le=ID_MAX, description="requests at this place and below")
    mine: bool = False
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class SubmitIn(Schema):
    place_id: int = Field(..., ge=1, le=ID_MAX)
    request_type: RequestType
    description: str = Field(..., max_length=2000, pattern=TEXT)
    category: str | None = Field(None, max_length=40, description="category code (unknown: 404)")
    urgency: Urgency = Urgency.NORMAL
    channel: Channel = Channel.RESIDENT
    client_token: str = Field("", max_length=64, description="the same token twice makes one request")
    board_consent: bool = False
    contact_name: str = Field("", max_length=50)
    contact_mobile: str = Field("", max_length=11, pattern=r"^(1\d{10})?$")
    not_diverted: bool = Field(
        False,
        description="the submitter confirms it is not an emergency / court / 信访 matter after being told "
        "(a keyword match); it is queued and the match is on the timeline",
    )
    repeat: Literal["ask", "link", "new"] = Field(
        "ask",
        description="after a 409 (an open request like this one): link = no new facts, recorded and "
        "linked to it; new = new facts, a new request",
    )


class SubmitOut(RequestOut):
    """The request, and what screening made of it (docs/intake.md)."""

    diversion: str | None = Field(None, description="emergency / litigation / arbitration / petition")
    diversion_message: str = Field("", description="what the resident is told, in your language")
    referred_to: str = Field("", description="where the matter belongs")
    repeat_of: int | None = Field(None, description="the open request this one was linked to")
    repeat_of_number: str = ""


class RepeatFound(Schema):
    """409 on submit: an open request like this one exists; nothing was written."""

    detail: str
    repeat_of: int | None = Field(None, description="its id, when you may open it")
    repeat_of_number: str
    repeat_of_state: str


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class ContactIn(Schema):
    note: str = Field(..., max_length=2000, pattern=TEXT, description="how and when you reached them")


class ResultIn(Schema):
    result: str = Field(..., max_length=2000, pattern=TEXT)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=2000, pattern=TEXT)


class DispatchIn(Schema):
    level: int = Field(..., ge=0, le=4, description="0 department (give unit_id) … 4 entrance")
    unit_id: int | None = Field(
        None, ge=1, le=ID_MAX, description="the handling unit, at the department level"
    )
    note: str = Field("", max_length=2000)


class ReassignIn(Schema):
    level: int = Field(..., ge=0, le=4, description="0 department (give unit_id) … 4 entrance")
    unit_id: int | None = Field(None, ge=1, le=ID_MAX)
    reason: str = Field(..., max_length=2000, pattern=TEXT)


class SummonIn(Schema):
    kind: Literal["whistle", "co_handle"] = Field(..., description="吹哨 or co-handling units")
    unit_ids: list[DbId] = Field(..., min_length=1, max_length=20)
    note: str = Field("", max_length=2000)


class RecategoriseIn(Schema):
    category: str = Field(..., max_length=40, description="the category code (unknown: 422)")
    note: str = Field("", max_length=500)


class CheckInIn(Schema):
    note: str = Field("", max_length=500)


class ReportBackIn(Schema):
    report: str = Field(..., max_length=2000, pattern=TEXT)


class UnitOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    kind: str
    phone: str


class AssistOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    kind: str
    note: str
    added_at: datetime
    checked_in_at: datetime | None
    report: str
    reported_at: datetime | None


class NotAcceptIn(Schema):
    reason: str = Field(..., max_length=2000, pattern=TEXT)
    referred_to: str = Field("", max_length=200)


class ExtensionIn(Schema):
    days: int = Field(..., ge=1, le=365)
    reason: str = Field(..., max_length=500, pattern=TEXT)


class DecideExtensionIn(Schema):
    grant: bool
    note: str = Field("", max_length=2000)


class RateIn(Schema):
    solved: bool
    satisfaction: Satisfaction
    comment: str = Field("", max_length=2000)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=2000)


class MergeIn(Schema):
    into: int = Field(..., ge=1, le=ID_MAX, description="id of the request to merge into")


class RateOut(Schema):
    numerator: Decimal
    denominator: int
    value: Decimal | None = Field(description="numerator ÷ denominator, or null when nothing is due")
    percent: str = Field(description='"87.5%", or "—" when nothing is due')
    formula: str
    in_progress: int = Field(0, description="would count here once the rate's window has closed")


class RatesOut(Schema):
    response: RateOut
    resolution: RateOut
    satisfaction: RateOut
    signoff: RateOut
    contact: RateOut = Field(description="first contact with the requester by its deadline")
    completion: RateOut
    checkin: RateOut | None = Field(
        None,
        description="called units (吹哨, co-handling) that reported for duty (报到) in time (in response)",
    )
    report_back: RateOut | None = Field(
        None,
        description="called units that reported back by the request's resolution deadline; part of response",
    )
    score: Decimal | None
    score_formula: str


class PlaceRatesOut(Schema):
    place_id: int
    place_name: str
    level: int
    rates: RatesOut


class LevelRatesOut(Schema):
    level: int = Field(description="handling level, 0 department … 4 entrance")
    rates: RatesOut


class UnitRatesOut(Schema):
    unit_id: int
    unit_name: str
    rates: RatesOut


class RatesReport(Schema):
    place_id: int
    period_from: datetime
    period_to: datetime
    total: RatesOut
    children: list[PlaceRatesOut]
    by_level: list[LevelRatesOut] = Field(
        description="per handling level: response per level that held each window, the rest per current level"
    )
    by_unit: list[UnitRatesOut] = Field(
        default_factory=list,
        description="per handling unit: the windows it held or was called to, the requests it owns",
    )


# --- duplicates (issue 4 §3, docs/duplicates.md) -----------------------------------------------------
class SimilarQuery(Schema):
    text: str = Field(..., max_length=2000, description="the text being typed")


class SimilarOut(Schema):
    id: int
    number: str
    text: str = Field(description="the request's text as neighbours see it (phone and ID numbers removed)")
    state: str
    submitted_at: datetime
    similarity: int = Field(description="0–100")
    near: str = Field(description="entrance | building | compound")
    voices: int = Field(description="the requester and the co-requesters")
    joined: bool


class DuplicateOut(Schema):
    id: int
    number: str
    description: str
    place_id: int
    place_name: str
    state: str
    submitted_at: datetime
    similarity: int = Field(description="0–100")
    near: str = Field(description="entrance | building | compound")
    voices: int


class DuplicatesOut(Schema):
    request_id: int
    merged_into: int | None = Field(description="the request this one is merged into (it follows its state)")
    followed_state: str = Field(description="this request's state, or for a merged one its parent's")
    candidates: list[DuplicateOut]
