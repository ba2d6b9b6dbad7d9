"""Demo data for the request loop: the handling units of 通运街道, then a year of requests replayed
through services.py (demo_year.py). Called by `linjialin demo` after the places are loaded."""

from __future__ import annotations

from linjialin.accounts.models import User
from linjialin.places.models import Level, Place

from . import demo_year
from .models import HandlingUnit, UnitKind, UnitMember

# code, Chinese name, English name, kind, duty phone (synthetic)
UNITS = (
    (
        "tz-housing",
        "区住建委",
        "District housing and construction commission",
        UnitKind.DEPARTMENT,
        "010-69500001",
    ),
    ("tz-city", "区城管委", "District city management commission", UnitKind.DEPARTMENT, "010-69500002"),
    ("tz-heating", "区供热公司", "District heating company", UnitKind.UTILITY, "010-69500003"),
    (
        "ty-city-office",
        "街道城市管理办公室",
        "Subdistrict city management office",
        UnitKind.OFFICE,
        "010-69500004",
    ),
    ("ty-property", "通运物业服务公司", "Tongyun property services", UnitKind.PROPERTY, "010-69500005"),
)


def load_units(subdistrict: Place) -> list[HandlingUnit]:
    units = [
        HandlingUnit.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "kind": kind,
                "phone": phone,
                "place": subdistrict,
                "path": subdistrict.path,
            },
        )[0]
        for code, zh, en, kind, phone in UNITS
    ]
    member = User.objects.filter(mobile=demo_year.DEPARTMENT_DEMO).first()
    if member:
        UnitMember.objects.get_or_create(unit=units[0], user=member, defaults={"supervisor": True})
    return units


def load(
    subdistrict: Place | None = None,
    *,
    progress: bool = False,
    seed: int | None = None,
    per_household: float | None = None,
) -> tuple[int, dict]:
    """The units, then the year of requests (demo_year.py). Returns (units, the year's counts)."""
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    if subdistrict is None:
        return 0, {}
    units = load_units(subdistrict)
    year = demo_year.load(subdistrict, progress=progress, seed=seed, per_household=per_household)
    return len(units), year
