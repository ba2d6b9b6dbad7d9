"""Demo data for the request loop: the handling units of 通运街道 and a handful of requests in
different states (so the queue, the desk and the rates have something to show). Everything goes
through services.py, like real use. Called by `linjialin demo` after the places are loaded."""

from __future__ import annotations

from django.db import transaction

from linjialin.accounts.models import User
from linjialin.places.models import Level, Place, Resident

from . import services
from .models import AssistKind, Category, HandlingLevel, HandlingUnit, UnitKind, UnitMember

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
DEPARTMENT_LOGIN = "13800000011"  # 何志刚: a member and the supervisor of 区住建委


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
    member = User.objects.filter(mobile=DEPARTMENT_LOGIN).first()
    if member:
        UnitMember.objects.get_or_create(unit=units[0], user=member, defaults={"supervisor": True})
    return units


def _user(mobile: str) -> User | None:
    return User.objects.filter(mobile=mobile).first()


def load_requests(subdistrict: Place, units: list[HandlingUnit]) -> int:
    """A few requests by the demo logins, in different states. Returns how many were made."""
    resident, leader = _user("13800000001"), _user("13800000004")
    grid, community, dispatcher = _user("13800000006"), _user("13800000007"), _user("13800000010")
    housing_member = _user(DEPARTMENT_LOGIN)
    if not all((resident, leader, grid, community, dispatcher, housing_member)):
        return 0
    record = Resident.objects.filter(user=resident).select_related("household").first()
    if record is None:
        return 0
    household = record.household
    cat = {c.code: c for c in Category.objects.all()}

    def submit(text: str, code: str, **kw):
        return services.submit_request(
            resident,
            place=household,
            request_type=kw.pop("type", "help"),
            description=text,
            category=cat[code],
            **kw,
        )

    made = []
    with transaction.atomic():
        # 1. new, waiting for the 楼门长
        made.append(submit("楼道声控灯坏了，晚上上下楼看不见台阶", "corridor", board_consent=True))
        # 2. accepted, contacted and resolved by the 楼门长: waiting for the resident's rating
        r = submit("单元门禁刷卡没反应，老人进不了门", "corridor", board_consent=True)
        services.accept_request(leader, r)
        services.record_contact(leader, r, note="电话联系了居民，约好下午查看")
        services.resolve_request(leader, r, result="联系物业更换了门禁读卡器，已恢复")
        made.append(r)
        # 3. closed with a rating
        r = submit("楼道里堆放的旧家具挡住了消防通道", "corridor", type="complaint", board_consent=True)
        services.accept_request(leader, r)
        services.record_contact(leader, r, note="上门沟通")
        services.resolve_request(leader, r, result="与住户沟通后已清理，通道畅通")
        services.rate_request(
            resident, r, solved=True, satisfaction="satisfied", comment="很快就解决了，谢谢"
        )
        made.append(r)
        # 4. a grid-level category climbed to the subdistrict, sent to 区住建委; 吹哨 for heating and property
        r = submit("楼顶防水层老化，雨天顶层漏水，暖气管道也受潮", "leak")
        services.escalate_request(grid, r, reason="涉及房屋主体结构，网格解决不了")
        services.escalate_request(community, r, reason="需要街道协调住建部门")
        services.dispatch_request(
            dispatcher, r, level=HandlingLevel.DEPARTMENT, unit=units[0], note="房屋修缮"
        )
        services.accept_request(housing_member, r, note="首接负责")
        services.summon_units(
            dispatcher, r, units=[units[2], units[4]], kind=AssistKind.WHISTLE, note="周三上午9点现场会"
        )
        made.append(r)
        # 5. waiting on the dispatcher desk
        r = submit("小区门口人行道砖块松动，老人容易绊倒", "municipal")
        made.append(r)
    return len(made)


def load(subdistrict: Place | None = None) -> tuple[int, int]:
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    if subdistrict is None:
        return 0, 0
    units = load_units(subdistrict)
    return len(units), load_requests(subdistrict, units)
