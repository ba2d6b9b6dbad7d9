"""API shapes of the mediation centre. Parties' mobile and ID numbers are always masked here (the full
numbers only through services.cases.unmask_party on the case page, with a reason, audited)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from linjialin.core.api import ID_MAX

from .models import CaseState, DisputeType

TEXT = r"\S"  # at least one character that is not a space


class CaseOut(Schema):
    id: int
    number: str
    title: str
    dispute_type: str
    source: str
    state: str
    place_id: int
    place_name: str
    registered_at: datetime
    accepted_at: datetime | None
    due_on: date | None
    due_status: str = Field(description='"overdue" | "due_soon" | "ok" | "" (not running)')
    risk_flag: bool


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseOut]


class CaseFilters(Schema):
    state: CaseState | None = None
    type: DisputeType | None = Field(None, description="dispute type")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class PartyOut(Schema):
    id: int
    side: str
    kind: str
    name: str
    mobile: str = Field(description="masked")
    id_number: str = Field(description="masked")
    representative: str
    consent: str
    rights_told: bool


class MemberOut(Schema):
    user_id: int
    name: str
    role: str
    lead: bool


class CaseEventOut(Schema):
    kind: str
    at: datetime
    actor_name: str
    note: str
    public: bool
    data: dict


class ClockOut(Schema):
    by: date
    done_on: date | None
    days_left: int | None
    overdue: bool


class CourtClocksOut(Schema):
    apply_by: ClockOut | None
    accept_by: ClockOut | None
    decide_by: ClockOut | None


class CaseDetailOut(CaseOut):
    """The case file's summary. A party (not on the team) sees the public events only."""

    facts: str
    dispute_items: str
    outcome: str
    roles: list[str] = Field(
        description="what you are on this case: manager, member, lead, counsellor, party"
    )
    parties: list[PartyOut]
    team: list[MemberOut]
    events: list[CaseEventOut]
    court: CourtClocksOut


class ApplyIn(Schema):
    household_id: int = Field(..., ge=1, le=ID_MAX, description="your household (where you may apply)")
    dispute_type: DisputeType
    title: str = Field(..., max_length=100, pattern=TEXT)
    facts: str = Field(..., max_length=5000, pattern=TEXT)
    other_party_name: str = Field(..., max_length=100, pattern=TEXT)
    other_party_mobile: str = Field("", max_length=11, pattern=r"^(1\d{10})?$")
    client_token: str = Field("", max_length=64, description="the same token twice makes one case")


class MyCaseOut(Schema):
    id: int
    number: str
    title: str
    dispute_type: str
    state: str
    registered_at: datetime
    events: list[CaseEventOut] = Field(description="the public steps of your case")
