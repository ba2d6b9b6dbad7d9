"""A small place tree for tests, built through the same services as the demo.

110112008 通运街道 (S)
├─ 001 社区一 (C1) ─ 001 网格一 (G1) ─ 0001 楼门A (紫荆雅园 1号楼 1单元) ─ 0101, 0201 households
│                                   └ 0002 楼门B (紫荆雅园 1号楼 2单元) ─ 0101
└─ 002 社区二 (C2) ─ 001 网格二 (G2) ─ 0001 楼门X (牡丹园 5号楼 1单元) ─ 0101
"""

from __future__ import annotations

from dataclasses import dataclass

from linjialin.places.models import Building, Compound, Level, Place, Resident
from linjialin.places.services import new_place


@dataclass
class Tree:
    subdistrict: Place
    community_1: Place
    community_2: Place
    grid_1: Place
    grid_2: Place
    compound_1: Compound
    building_1: Building
    entrance_a: Place
    entrance_b: Place
    entrance_x: Place
    household_a1: Place
    household_a2: Place
    household_b1: Place
    household_x1: Place
    resident_a1: Resident
    resident_a2: Resident
    resident_b1: Resident
    resident_x1: Resident


def _save(place: Place) -> Place:
    place.save()
    return place


def build_tree() -> Tree:
    s = _save(new_place(None, level=Level.SUBDISTRICT, code="110112008", name="通运街道"))
    c1 = _save(new_place(s, level=Level.COMMUNITY, code="1", name="社区一"))
    c2 = _save(new_place(s, level=Level.COMMUNITY, code="2", name="社区二"))
    g1 = _save(new_place(c1, level=Level.GRID, code="1", name="网格一"))
    g2 = _save(new_place(c2, level=Level.GRID, code="1", name="网格二"))
    zj = Compound.objects.create(community=c1, name="紫荆雅园", path=c1.path)
    md = Compound.objects.create(community=c2, name="牡丹园", path=c2.path)
    b1 = Building.objects.create(compound=zj, number="1号楼", path=c1.path)
    b5 = Building.objects.create(compound=md, number="5号楼", path=c2.path)

    def entrance(grid, code, name, compound, building, unit):
        return _save(
            new_place(
                grid,
                level=Level.ENTRANCE,
                code=code,
                name=name,
                compound=compound,
                building=building,
                unit_no=unit,
            )
        )

    ea = entrance(g1, "1", "紫荆雅园1号楼1单元", zj, b1, "1单元")
    eb = entrance(g1, "2", "紫荆雅园1号楼2单元", zj, b1, "2单元")
    ex = entrance(g2, "1", "牡丹园5号楼1单元", md, b5, "1单元")

    def household(e, code, room, floor):
        return _save(
            new_place(
                e,
                level=Level.HOUSEHOLD,
                code=code,
                name=f"{e.name}{room}",
                room=room,
                floor=floor,
                area_m2="86.50",
                tenure="owner",
                is_occupied=True,
            )
        )

    ha1, ha2 = household(ea, "101", "101", 1), household(ea, "201", "201", 2)
    hb1, hx1 = household(eb, "101", "101", 1), household(ex, "101", "101", 1)

    def resident(h, name, mobile, id_number="", birth_year=1980):
        return Resident.objects.create(
            household=h, path=h.path, name=name, mobile=mobile, id_number=id_number, birth_year=birth_year
        )

    return Tree(
        s,
        c1,
        c2,
        g1,
        g2,
        zj,
        b1,
        ea,
        eb,
        ex,
        ha1,
        ha2,
        hb1,
        hx1,
        resident(ha1, "张三", "13800000001", "11010519491231002X", 1949),
        resident(ha2, "李四", "13800000002"),
        resident(hb1, "王五", "13800000003"),
        resident(hx1, "赵六", "13800000004"),
    )
