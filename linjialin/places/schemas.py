"""API shapes for the place tree and residents. Numbers are masked unless explicitly unmasked."""

from __future__ import annotations

from ninja import Field, Schema


class PlaceOut(Schema):
    id: int
    parent_id: int | None
    level: int
    level_label: str
    code: str
    name: str
    path: str
    grid_code: str = Field(description="15-digit Beijing grid code (grids only)")
    entrances: int
    households: int
    occupied: int
    residents: int


class ChildOut(Schema):
    id: int
    level: int
    name: str
    path: str
    grid_code: str
    entrances: int = Field(description="entrances below (subdistrict and community children)")
    households: int
    occupied: int
    residents: int


class EntranceProfileOut(Schema):
    entrance_id: int
    households: int
    resident_households: int
    empty_nest_elderly_households: int
    school_children: int
    ebikes: int
    wechat_group: str
    wechat_members: int | None
    spare_keys: int
    notes: str


class TagOut(Schema):
    code: str
    name_zh: str
    name_en: str
    sensitive: bool


class ResidentOut(Schema):
    id: int
    name: str
    relation: str
    birth_year: int | None
    mobile_masked: str
    id_number_masked: str
    tags: list[TagOut]


class UnmaskIn(Schema):
    # a first guard only: the service applies the one reason rule (core/reasons.py: at least four
    # letters or characters once spaces and invisible characters are removed) and answers 422
    reason: str = Field(
        ..., max_length=500, pattern=r"\S[\s\S]*\S", description="why the numbers are needed (audited)"
    )


class UnmaskOut(Schema):
    resident_id: int
    mobile: str
    id_number: str
