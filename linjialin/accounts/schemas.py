"""API shapes for the signed-in user and 楼门长 coverage."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema


class GrantPlaceOut(Schema):
    id: int
    level: int
    name: str
    path: str


class RoleOut(Schema):
    grant_id: int
    role: str
    role_label: str
    place: GrantPlaceOut
    building_id: int | None
    floor: int | None
    valid_from: date
    valid_to: date | None


class MeOut(Schema):
    id: int
    display_name: str
    mobile_masked: str
    language: str
    roles: list[RoleOut]
    permissions: list[str] = Field(description="permissions held on at least one place")


class CoverageOut(Schema):
    community_id: int
    community: str
    path: str
    entrances: int
    covered: int
    uncovered: int
    percent: float
    buildings: int
    buildings_covered: int
    floor_leaders: int
