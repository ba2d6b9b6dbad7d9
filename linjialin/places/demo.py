"""Demo data: 通运街道 (110112008) with its 10 communities and 630 楼门, and a synthetic district.

`load_demo(seed=...)` builds the subdistrict from the article (docs/demo.md): communities and compounds
named in it (紫荆雅园, 牡丹园, 京贺家园, 荔景园, 运河湾, 芙蓉 …), grids with 15-digit Beijing codes,
buildings, exactly 630 entrances each with a 楼门长, 20–60 households per entrance, residents with
plausible names, mobiles, some ID numbers (valid GB 11643 check digit), tags (sensitive ones with a
consent source), some 楼长 and 层长, and an entrance profile for every entrance. 紫荆雅园 16号楼 251单元
has the real profile from the article. Then it creates one demo login for every role (DEMO_LOGINS).

`load_district(...)` adds synthetic subdistricts 110112001… until the district has ~300,000 households.

Same seed and same year → same rows (ages are relative to the year, so birth years move with it).
Rows are written with bulk_create through places.services.new_place (paths and grid codes exactly as
the services make them) in one transaction; the named demo logins go through accounts.services
(create_user, grant_role with check=False), and one audit event records the load.
"""

from __future__ import annotations

import hashlib
import random
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import ROLES, Role
from linjialin.core import audit
from linjialin.core.bulk import insert_rows, refresh_statistics

from .models import Building, Compound, EntranceProfile, Level, Place, Relation, Resident, ResidentTag, Tenure
from .services import new_place

DEFAULT_SEED = 2022  # the year 邻家邻 started
DEMO_PASSWORD = "Demo-2026"  # noqa: S105 (published demo password)
# ≥ 8 characters, three classes: passes AUTH_PASSWORD_VALIDATORS
SUBDISTRICT_CODE = "110112008"
SUBDISTRICT_NAME = "通运街道"
DISTRICT_HOUSEHOLDS = 300_000
BATCH = 2000

# --- the subdistrict ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompoundSpec:
    name: str
    entrances: int
    first_building: int = 1
    units_per_building: int | None = None  # None: 2–6 at random
    compound_unit_numbers: bool = False  # 紫荆雅园 numbers its 单元 across the compound: 16号楼 → 251…


@dataclass(frozen=True)
class CommunitySpec:
    code: int
    name: str
    compounds: tuple[CompoundSpec, ...]

    @property
    def entrances(self) -> int:
        return sum(c.entrances for c in self.compounds)


# Community and compound names from the article are real; the others are made up to sound local.
TONGYUN: tuple[CommunitySpec, ...] = (
    CommunitySpec(
        1, "紫荆雅园社区", (CompoundSpec("紫荆雅园", 72, units_per_building=4, compound_unit_numbers=True),)
    ),
    CommunitySpec(2, "牡丹园社区", (CompoundSpec("牡丹园", 58),)),
    CommunitySpec(3, "芙蓉社区", (CompoundSpec("芙蓉小区", 44), CompoundSpec("芙蓉东里", 22))),
    CommunitySpec(4, "荔景园社区", (CompoundSpec("荔景园", 60),)),
    CommunitySpec(5, "运河湾社区", (CompoundSpec("运河湾", 52), CompoundSpec("运河湾南区", 18))),
    CommunitySpec(6, "京贺家园社区", (CompoundSpec("京贺家园", 55, first_building=301),)),
    CommunitySpec(7, "紫运南里社区", (CompoundSpec("紫运南里", 64),)),
    CommunitySpec(8, "通惠家园社区", (CompoundSpec("通惠家园", 40), CompoundSpec("通惠北里", 22))),
    CommunitySpec(9, "柳岸方园社区", (CompoundSpec("柳岸方园", 63),)),
    CommunitySpec(10, "天时名苑社区", (CompoundSpec("天时名苑", 60),)),
)
assert sum(c.entrances for c in TONGYUN) == 630

# The real 楼门 from the article (DOMAIN.md §1).
ZIJING = ("紫荆雅园", "16号楼", "251单元")
ZIJING_FIGURES = {
    "households": 54,
    "resident_households": 38,
    "empty_nest_elderly_households": 9,
    "school_children": 23,
    "ebikes": 22,
    "spare_keys": 6,
}
ZIJING_BUILDING_LAYOUT = (18, 3, 78, 128)  # floors, households per floor, area range: a high-rise of 54

# Entrances with a story in the article: (compound, building, unit) → (WeChat group, notes)
STORIES = {
    ("京贺家园", "308号楼", "1单元"): (
        "308号楼一家亲",
        "特色楼门：楼门长“叶子姐”带居民在楼门废弃地补种绿植；叶子姐志愿服务队在此成立。",
    ),
    ("芙蓉小区", "3号楼", "1单元"): ("和乐楼", "楼门文化项目：以“和谐”为主题，楼门长带领居民打造“和乐楼”。"),
    ("芙蓉小区", "7号楼", "1单元"): ("7号楼邻里群", "楼门文化项目：以大众文化为方向（书法、合唱、舞蹈）。"),
    ("芙蓉小区", "10号楼", "1单元"): ("10号楼红色楼门", "楼门文化项目：以赓续红色血脉为重心。"),
    ("牡丹园", "5号楼", "1单元"): ("牡丹园5号楼邻里群", "顶层房屋漏雨问题经全环节多元化解中心协调解决。"),
}

# --- the demo logins ------------------------------------------------------------------------------


class DemoLogin(NamedTuple):
    label: str  # role and place
    mobile: str
    sees: str  # what this login sees


_ZJ = "紫荆雅园社区"
_251 = "紫荆雅园16号楼251单元"
DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(
        format_lazy("{} · {}", Role.RESIDENT.label, _251),
        "13800000001",
        _("their own household and its residents only"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.RESIDENT.label, "紫荆雅园16号楼252单元"),
        "13800000002",
        _("their own household only (another entrance: cannot see resident 1)"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.FLOOR_LEADER.label, _251 + " 9层"),
        "13800000003",
        _("the households on floor 9 of entrance 251"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.ENTRANCE_LEADER.label, _251 + "（周治国）"),
        "13800000004",
        _("entrance 251: 54 households, residents, sensitive tags, entrance profile"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.BUILDING_LEADER.label, "紫荆雅园16号楼"),
        "13800000005",
        _("the four entrances of building 16"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.GRID_WORKER.label, "紫荆雅园社区第六网格"),
        "13800000006",
        _("every entrance and household of their grid"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.COMMUNITY_WORKER.label, _ZJ),
        "13800000007",
        _("the whole community: residents, import/export, entrance-leader coverage"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.COMMUNITY_SECRETARY.label, _ZJ),
        "13800000008",
        _("the whole community, plus sensitive exports and the community's audit trail"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.SUBDISTRICT_STAFF.label, SUBDISTRICT_NAME),
        "13800000009",
        _("all 10 communities (numbers masked), coverage, exports"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.SUBDISTRICT_DISPATCHER.label, SUBDISTRICT_NAME),
        "13800000010",
        _("the place tree and counts of the subdistrict (no households)"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.DEPARTMENT_HANDLER.label, "区住建委（通运街道）"),
        "13800000011",
        _("the place tree of the subdistrict (no households)"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.LAWYER.label, SUBDISTRICT_NAME),
        "13800000012",
        _("legal consultations; mediation cases they are on"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.SOCIAL_WORKER.label, _ZJ),
        "13800000013",
        _("screenings of the community; mediation cases they are on"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.COUNSELLOR.label, SUBDISTRICT_NAME),
        "13800000014",
        _("mediation cases they are on, and their own counselling notes"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.MEDIATOR.label, _ZJ),
        "13800000015",
        _("the mediation desk: screenings, cases they lead, agreements, follow-ups"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.POLICE_OFFICER.label, _ZJ),
        "13800000016",
        _("screenings of the community; mediation cases they are on"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.JUDGE.label, SUBDISTRICT_NAME),
        "13800000017",
        _("mediation cases they are on (court confirmation)"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.RESPECTED_RESIDENT.label, _ZJ),
        "13800000018",
        _("mediation cases they are on"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.VOLUNTEER.label, _ZJ),
        "13800000019",
        _("the place tree of the community (no households)"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.MEDIATION_MANAGER.label, SUBDISTRICT_NAME),
        "13800000023",
        _("every mediation case of the subdistrict, teams, the court filing pack, the centre's reports"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.AUDITOR.label, SUBDISTRICT_NAME),
        "13800000020",
        _("the place tree and the audit trail"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.SYSTEM_ADMIN.label, SUBDISTRICT_NAME),
        "13800000021",
        _("everything, everywhere, but the contents of mediation cases"),
    ),
    DemoLogin(
        format_lazy("{} · {}", Role.COMMUNITY_WORKER.label, "牡丹园社区"),
        "13800000022",
        _("an outsider: only their own community; anything in another community answers 404"),
    ),
]
DEMO_LOGIN_PREFIX = "1380000"  # generated mobiles never start with this

# Who the named logins are: mobile → (display name, role, where); where is resolved in _create_logins.
_STAFF = {  # mobile → (display name, role, in the other community?); the place follows the role's level
    "13800000006": ("刘晓燕", Role.GRID_WORKER, False),
    "13800000007": ("王静", Role.COMMUNITY_WORKER, False),
    "13800000008": ("马建华", Role.COMMUNITY_SECRETARY, False),
    "13800000009": ("孙立新", Role.SUBDISTRICT_STAFF, False),
    "13800000010": ("郑丽", Role.SUBDISTRICT_DISPATCHER, False),
    "13800000011": ("何志刚", Role.DEPARTMENT_HANDLER, False),
    "13800000012": ("韩志明", Role.LAWYER, False),
    "13800000013": ("许佳琪", Role.SOCIAL_WORKER, False),
    "13800000014": ("唐心怡", Role.COUNSELLOR, False),
    "13800000015": ("冯德胜", Role.MEDIATOR, False),
    "13800000016": ("高卫国", Role.POLICE_OFFICER, False),
    "13800000017": ("曹丽华", Role.JUDGE, False),
    "13800000018": ("田秀山", Role.RESPECTED_RESIDENT, False),
    "13800000019": ("叶晓雪", Role.VOLUNTEER, False),
    "13800000020": ("蒋文静", Role.AUDITOR, False),
    "13800000021": ("系统管理员", Role.SYSTEM_ADMIN, False),
    "13800000022": ("杜敏", Role.COMMUNITY_WORKER, True),
    "13800000023": ("李明远", Role.MEDIATION_MANAGER, False),
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def logins_table() -> str:
    """The demo logins as an aligned text table (CJK characters count double)."""
    rows = [(str(x.label), x.mobile, str(x.sees)) for x in DEMO_LOGINS]
    head = (str(_("role · place")), str(_("mobile")), str(_("sees")))
    w0 = max(_width(r[0]) for r in [*rows, head])
    lines = [str(_("Demo logins (password for all: %(password)s)")) % {"password": DEMO_PASSWORD}, ""]
    lines.append(f"  {_pad(head[0], w0)}  {head[1]:<11}  {head[2]}")
    lines += [f"  {_pad(a, w0)}  {b:<11}  {c}" for a, b, c in rows]
    lines += ["", str(_("Every entrance leader can log in too, with the same password: see docs/demo.md."))]
    return "\n".join(lines)


def logins_markdown() -> str:
    """The demo logins as a Markdown table (for docs/demo.md and the README)."""
    lines = [
        f"Password for every demo login: `{DEMO_PASSWORD}`",
        "",
        "| role · place | mobile (login) | sees |",
        "|---|---|---|",
    ]
    lines += [f"| {x.label} | `{x.mobile}` | {x.sees} |" for x in DEMO_LOGINS]
    return "\n".join(lines)


def print_logins(write: Callable[[str], object] = print) -> None:
    write(logins_table())


# --- ID numbers (GB 11643-1999) ---------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_is_valid(value: str) -> bool:
    """18 characters, 17 digits and the right check digit, and a real birth date."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return value[17].upper() == id_check_digit(value[:17])


# --- people ---------------------------------------------------------------------------------------
_SURNAMES = (
    "王" * 71
    + "李" * 70
    + "张" * 68
    + "刘" * 54
    + "陈" * 45
    + "杨" * 31
    + "赵" * 26
    + "黄" * 20
    + "吴" * 20
    + "周" * 19
    + "徐" * 16
    + "孙" * 16
    + "马" * 15
    + "朱" * 13
    + "胡" * 13
    + "郭" * 12
    + "何" * 11
    + "高" * 12
    + "林" * 9
    + "罗" * 8
    + "郑" * 9
    + "梁" * 8
    + "谢" * 7
    + "宋" * 7
    + "唐" * 7
    + "许" * 6
    + "韩" * 7
    + "冯" * 6
    + "邓" * 5
    + "曹" * 6
    + "彭" * 5
    + "曾" * 4
    + "肖" * 5
    + "田" * 6
    + "董" * 6
    + "袁" * 4
    + "潘" * 4
    + "于" * 6
    + "蒋" * 4
    + "蔡" * 4
    + "余" * 3
    + "杜" * 4
    + "叶" * 3
    + "程" * 4
    + "苏" * 4
    + "魏" * 4
    + "吕" * 4
    + "丁" * 4
    + "任" * 4
    + "沈" * 3
    + "姚" * 3
    + "卢" * 3
    + "姜" * 4
    + "崔" * 4
    + "钟" * 2
    + "谭" * 2
    + "陆" * 3
    + "汪" * 2
    + "范" * 3
    + "金" * 3
    + "石" * 3
    + "贾" * 3
    + "夏" * 2
    + "付" * 3
    + "方" * 2
    + "白" * 3
    + "孟" * 3
    + "秦" * 2
    + "侯" * 3
    + "薛" * 2
    + "闫" * 3
    + "段" * 2
    + "雷" * 2
    + "郝" * 3
    + "常" * 2
    + "康" * 2
    + "牛" * 2
    + "尹" * 2
    + "武" * 2
    + "齐" * 2
    + "耿"
    + "庞"
    + "安" * 2
    + "翟"
    + "佟"
    + "关" * 2
    + "那"
    + "宁"
    + "岳" * 2
    + "穆"
)
_GIVEN = {  # (born before, male, female)
    1960: (
        "建国 国庆 志强 德胜 秀山 永生 振华 保国 文明 福来 树林 长江 金山 宝山 连生 玉林 广才 学军 卫东 跃进 "
        "国栋 庆华 凤岐 宝忠 德明 永利 玉祥 富贵 文忠 忠良",
        "秀英 桂英 秀兰 玉兰 桂兰 淑珍 凤英 玉珍 素芬 淑英 桂芳 秀珍 凤兰 玉梅 淑兰 秀云 桂珍 秀荣 玉芬 素珍 "
        "凤琴 玉华 淑芳 丽华 桂荣 秀芝 淑琴 玉清 凤芝 秀梅",
    ),
    1980: (
        "伟 军 勇 强 斌 刚 涛 明 辉 建军 海涛 志刚 立新 晓东 卫国 振宇 国强 红军 春生 建平 永刚 海军 宏伟 "
        "建新 东升 小平 向东 卫华 立军 志勇",
        "丽 敏 静 燕 红 艳 霞 娟 芳 丽华 红梅 海燕 晓红 春梅 秀芳 桂香 爱华 美玲 晓燕 丽娟 红霞 玉霞 淑华 "
        "慧 萍 雪梅 翠萍 丽萍 小红 文静",
    ),
    2000: (
        "磊 鹏 超 杰 浩 宇 鑫 帅 亮 博 晨 旭 凯 晓明 俊杰 志伟 文博 天宇 明轩 子豪 一帆 思远 建宇 嘉伟 "
        "泽宇 家豪 宏博 晨阳 昊 晓峰",
        "婷 雪 琳 倩 颖 晶 佳 丹 媛 璐 晓雪 丽娜 佳琪 思雨 梦瑶 雨婷 晓彤 欣然 诗雨 佳慧 婉婷 雅琪 静怡 "
        "梦洁 思琪 晓琳 月 蕾 楠 悦",
    ),
    9999: (
        "浩然 子轩 宇轩 俊熙 一鸣 子墨 浩宇 沐宸 睿 铭泽 皓轩 奕辰 明哲 承泽 梓豪 博文 宇航 子睿 煜 "
        "锦程 思源 天佑 景行 书恒 嘉树 泽楷 昊然 晟睿 柏川 亦凡",
        "子涵 欣怡 梓萱 雨桐 一诺 可欣 诗涵 若汐 语桐 梦琪 思彤 佳怡 芷若 沐晴 安琪 悦 依诺 梓涵 嘉怡 "
        "语嫣 紫萱 心怡 艺涵 雨萱 可馨 清妍 书瑶 知夏 若曦 星辰",
    ),
}
_GIVEN_SPLIT = {k: (m.split(), f.split()) for k, (m, f) in _GIVEN.items()}

_MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 176 177 178 180 181 182 "
    "183 185 186 187 188 189 191 198 199"
).split()
# Household registration areas: mostly 通州, then other Beijing districts and other provinces.
_ID_AREAS = (
    ("110112",) * 10
    + ("110105", "110108", "110101", "110102", "110106") * 2
    + (
        "130283",
        "130429",
        "371302",
        "410522",
        "340823",
        "230102",
        "510722",
        "131082",
        "120225",
        "420116",
    )
)
_CONSENT = {
    "elderly_alone": (
        "本人口头同意，楼门长入户登记",
        "本人书面同意（居家养老服务登记表）",
        "子女书面同意，社区登记",
    ),
    "disability": ("本人书面同意（残疾人证登记）", "监护人书面同意"),
    "serious_illness": ("本人书面同意（大病救助申请）", "家属口头同意，社区医生转介"),
    "pregnancy": ("本人在楼门群中主动告知并同意登记", "本人口头同意（母婴关爱服务）"),
    "under_14": ("监护人书面同意（家校社共育活动报名）", "监护人口头同意，楼门长登记"),
    "low_income": ("本人书面同意（低保申请材料）", "本人书面同意（临时救助申请）"),
}


@dataclass
class Person:
    name: str
    age: int
    male: bool
    relation: str
    mobile: str = ""
    id_number: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)  # (tag code, consent source)
    leader: bool = False  # planted 楼门长 (251)
    fixed_mobile: bool = False


class _Gen:
    """All randomness comes from one random.Random(seed), drawn in a fixed order."""

    def __init__(self, seed: int, year: int):
        self.rng = random.Random(seed)
        self.year = year
        self.mobiles: set[str] = set()
        self.ids: set[str] = set()

    # names
    def given(self, age: int, male: bool) -> str:
        born = self.year - age
        for limit, (m, f) in _GIVEN_SPLIT.items():
            if born < limit:
                return self.rng.choice(m if male else f)
        raise AssertionError

    def surname(self) -> str:
        return self.rng.choice(_SURNAMES)

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles and not number.startswith(DEMO_LOGIN_PREFIX):
                self.mobiles.add(number)
                return number

    def id_number(self, age: int, male: bool) -> str:
        rng = self.rng
        while True:
            born = date(self.year - age, rng.randint(1, 12), rng.randint(1, 28))
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{rng.choice(_ID_AREAS)}{born:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def person(self, surname: str | None, age: int, male: bool, relation: str, taken: set[str]) -> Person:
        rng = self.rng
        for _attempt in range(20):
            name = (surname or self.surname()) + self.given(age, male)
            if name not in taken:
                break
        else:  # a crowded household: a made-up two-character given name
            name = (surname or self.surname()) + self.given(age, male) + self.given(age, not male)[0]
        taken.add(name)
        p = Person(name, age, male, relation)
        if (
            (18 <= age <= 75 and rng.random() < 0.95)
            or (age > 75 and rng.random() < 0.5)
            or (13 <= age < 18 and rng.random() < 0.3)
        ):
            p.mobile = self.mobile()
        if rng.random() < (0.35 if age >= 18 else 0.2):
            p.id_number = self.id_number(age, male)
        return p


def _tag(gen: _Gen, p: Person, code: str) -> None:
    p.tags.append((code, gen.rng.choice(_CONSENT[code]) if code in _CONSENT else ""))


def _add_tags(gen: _Gen, people: list[Person]) -> None:
    rng = gen.rng
    for p in people:
        if p.age >= 18:
            if rng.random() < 0.08:
                _tag(gen, p, "party_member")
            if rng.random() < 0.05:
                _tag(gen, p, "volunteer")
            if p.male and p.age >= 40 and rng.random() < 0.03:
                _tag(gen, p, "veteran")
            if rng.random() < 0.012:
                _tag(gen, p, "disability")
            if p.age >= 45 and rng.random() < 0.012:
                _tag(gen, p, "serious_illness")
            if rng.random() < 0.015:
                _tag(gen, p, "low_income")
            if not p.male and 24 <= p.age <= 38 and rng.random() < 0.03:
                _tag(gen, p, "pregnancy")
        elif p.age < 14 and rng.random() < 0.2:
            _tag(gen, p, "under_14")


# household kinds: (kind, weight) for owner-occupied homes
_KINDS = (
    ("elderly_single", 8),
    ("elderly_couple", 14),
    ("young_single", 6),
    ("young_couple", 10),
    ("couple_kids", 30),
    ("three_gen", 18),
    ("couple_adult_child", 14),
)
_KIND_NAMES = [k for k, _w in _KINDS]
_KIND_WEIGHTS = [w for _k, w in _KINDS]


def _couple(gen: _Gen, lo: int, hi: int, taken: set[str]) -> tuple[Person, Person]:
    rng = gen.rng
    age = rng.randint(lo, hi)
    head_male = rng.random() < 0.7
    head = gen.person(None, age, head_male, Relation.HEAD, taken)
    spouse_age = max(lo, min(hi + 3, age + rng.randint(-5, 3) * (1 if head_male else -1)))
    spouse = gen.person(None, spouse_age, not head_male, Relation.SPOUSE, taken)
    return head, spouse


def _kids(
    gen: _Gen, parent: Person, ages: Iterable[int], taken: set[str], relation=Relation.CHILD
) -> list[Person]:
    surname = parent.name[0]
    return [gen.person(surname, a, gen.rng.random() < 0.5, relation, taken) for a in ages]


def _household_people(gen: _Gen, kind: str, school_kids: int | None = None) -> list[Person]:
    """People of one household. `school_kids` (251单元) fixes how many are aged 6–17."""
    rng, taken = gen.rng, set()
    if kind == "elderly_single":
        p = gen.person(None, rng.randint(65, 92), rng.random() < 0.35, Relation.HEAD, taken)
        if rng.random() < 0.6:
            _tag(gen, p, "elderly_alone")
        return [p]
    if kind == "elderly_couple":
        return list(_couple(gen, 62, 86, taken))
    if kind == "young_single":
        return [gen.person(None, rng.randint(23, 40), rng.random() < 0.5, Relation.HEAD, taken)]
    if kind == "young_couple":
        return list(_couple(gen, 25, 38, taken))
    if kind == "couple_adult_child":
        head, spouse = _couple(gen, 48, 66, taken)
        father = head if head.male else spouse
        return [head, spouse, *_kids(gen, father, [rng.randint(18, 30)], taken)]
    if kind in ("couple_kids", "three_gen"):
        head, spouse = _couple(gen, 30, 46, taken)
        father = head if head.male else spouse
        young = min(head.age, spouse.age) - 22
        if school_kids is None:
            n = rng.choice((1, 1, 1, 2, 2, 3))
            ages = sorted((rng.randint(0, max(0, young)) for _ in range(n)), reverse=True)
        else:  # school-age children as planned, maybe a pre-school sibling
            ages = [rng.randint(6, min(17, max(6, young))) for _ in range(school_kids)]
            if rng.random() < 0.3:
                ages.append(rng.randint(0, 5))
        people = [head, spouse, *_kids(gen, father, ages, taken)]
        if kind == "three_gen":
            gp_age = max(head.age, spouse.age) + rng.randint(24, 32)
            gp = gen.person(father.name[0], gp_age, rng.random() < 0.4, Relation.PARENT, taken)
            people.append(gp)
            if rng.random() < 0.5:
                people.append(
                    gen.person(None, gp_age + rng.randint(-3, 3), not gp.male, Relation.PARENT, taken)
                )
        return people
    if kind == "tenants":
        n = rng.choice((1, 1, 2, 2, 3))
        head = gen.person(None, rng.randint(22, 42), rng.random() < 0.55, Relation.HEAD, taken)
        return [head] + [
            gen.person(None, rng.randint(22, 40), rng.random() < 0.5, Relation.TENANT, taken)
            for _ in range(n - 1)
        ]
    if kind == "away":  # registered here, living elsewhere
        n = rng.choice((1, 1, 2))
        if n == 1:
            return [gen.person(None, rng.randint(28, 59), rng.random() < 0.5, Relation.HEAD, taken)]
        return list(_couple(gen, 28, 59, taken))
    raise ValueError(kind)


@dataclass
class HouseholdPlan:
    room: str
    floor: int
    area: Decimal
    tenure: str
    occupied: bool
    people: list[Person]


# (floors, per floor, area low, area high, weight): walk-ups and high-rises, 20–60 households
_LAYOUTS = (
    (5, 4, 50, 80, 2),
    (6, 4, 55, 95, 5),
    (6, 6, 45, 75, 2),
    (7, 4, 60, 100, 1),
    (11, 2, 80, 130, 2),
    (11, 4, 70, 120, 1),
    (12, 3, 70, 120, 2),
    (14, 4, 70, 125, 1),
    (15, 2, 85, 140, 1),
    (16, 3, 75, 128, 2),
    (18, 3, 78, 128, 2),
    (20, 3, 75, 130, 1),
)
_LAYOUT_WEIGHTS = [x[4] for x in _LAYOUTS]


def _rooms(gen: _Gen, layout) -> list[tuple[str, int, Decimal]]:
    floors, per_floor, lo, hi = layout[:4]
    areas = [
        Decimal(str(round(gen.rng.uniform(lo, hi), 1))).quantize(Decimal("0.01")) for _ in range(per_floor)
    ]
    return [(f"{f}{k + 1:02d}", f, areas[k]) for f in range(1, floors + 1) for k in range(per_floor)]


def _generic_households(gen: _Gen, layout) -> list[HouseholdPlan]:
    rng, plans = gen.rng, []
    for room, floor, area in _rooms(gen, layout):
        r = rng.random()
        if r < 0.08:
            plans.append(HouseholdPlan(room, floor, area, Tenure.VACANT, False, []))
        elif r < 0.18:
            plans.append(
                HouseholdPlan(room, floor, area, Tenure.OWNER, False, _household_people(gen, "away"))
            )
        elif r < 0.33:
            plans.append(
                HouseholdPlan(room, floor, area, Tenure.TENANT, True, _household_people(gen, "tenants"))
            )
        else:
            kind = rng.choices(_KIND_NAMES, _KIND_WEIGHTS)[0]
            plans.append(HouseholdPlan(room, floor, area, Tenure.OWNER, True, _household_people(gen, kind)))
    for plan in plans:
        _add_tags(gen, plan.people)
    return plans


def _zijing_households(gen: _Gen) -> list[HouseholdPlan]:
    """紫荆雅园16号楼251单元: 54 households, 38 lived in, 9 empty-nest elderly, 23 school children."""
    rng = gen.rng
    rooms = _rooms(gen, ZIJING_BUILDING_LAYOUT)
    by_room = {r[0]: r for r in rooms}
    planted = {"1102": "zhou", "602": "resident", "901": "floor"}
    rest = [r[0] for r in rooms if r[0] not in planted]
    rng.shuffle(rest)
    # 16 not lived in (6 vacant, 10 owners away), 9 elderly-only, the other 29 lived in
    kinds: dict[str, str] = {}
    for i, room in enumerate(rest):
        kinds[room] = "vacant" if i < 6 else "away" if i < 16 else "elderly" if i < 25 else "other"
    others = [room for room in rest if kinds[room] == "other"] + [
        "602",
        "901",
    ]  # 28 + 2 planted = 30 … minus 周
    # school children: 23 among the lived-in, non-elderly households (周治国's household has none)
    kids = {room: 0 for room in others}
    plan_kids = [2] * 6 + [1] * 11  # = 23
    kids_rooms = ["602"] + [r for r in others if r != "602"][: len(plan_kids) - 1]
    for room, n in zip(kids_rooms, plan_kids, strict=True):
        kids[room] = n
    plans = []
    for room, floor, area in rooms:
        if room == "1102":  # the 楼门长 of the article, eight years in the post
            taken: set[str] = set()
            zhou = Person(
                "周治国", 58, True, Relation.HEAD, mobile="13800000004", leader=True, fixed_mobile=True
            )
            taken.add(zhou.name)
            zhou.tags.append(("party_member", ""))
            wife = gen.person(None, 56, False, Relation.SPOUSE, taken)
            plans.append(HouseholdPlan(room, floor, area, Tenure.OWNER, True, [zhou, wife]))
            continue
        kind = planted.get(room) and "other" or kinds[room]
        if kind == "vacant":
            plans.append(HouseholdPlan(room, floor, area, Tenure.VACANT, False, []))
        elif kind == "away":
            plans.append(
                HouseholdPlan(room, floor, area, Tenure.OWNER, False, _household_people(gen, "away"))
            )
        elif kind == "elderly":
            people = _household_people(gen, rng.choice(("elderly_single", "elderly_couple")))
            plans.append(HouseholdPlan(room, floor, area, Tenure.OWNER, True, people))
        elif kids[room]:
            people = _household_people(gen, rng.choice(("couple_kids", "three_gen")), school_kids=kids[room])
            plans.append(HouseholdPlan(room, floor, area, Tenure.OWNER, True, people))
        else:
            k = rng.choice(("young_single", "young_couple", "couple_adult_child", "tenants"))
            tenure = Tenure.TENANT if k == "tenants" else Tenure.OWNER
            plans.append(HouseholdPlan(room, floor, area, tenure, True, _household_people(gen, k)))
    for plan in plans:
        for p in plan.people:
            if plan.room == "602" and p.relation == Relation.HEAD:
                p.mobile, p.fixed_mobile = "13800000001", True
            if plan.room == "901" and p.relation == Relation.HEAD:
                p.mobile, p.fixed_mobile = "13800000003", True
        _add_tags(gen, [p for p in plan.people if p.name != "周治国"])
    assert by_room and len(plans) == 54
    return plans


# --- writing --------------------------------------------------------------------------------------


@dataclass
class Counts:
    subdistricts: int = 0
    communities: int = 0
    grids: int = 0
    compounds: int = 0
    buildings: int = 0
    entrances: int = 0
    households: int = 0
    residents: int = 0
    tags: int = 0
    users: int = 0
    grants: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class DemoResult:
    counts: Counts
    seconds: float
    seed: int


class _Writer:
    """Builds one community at a time: places level by level, then users, residents, tags, grants."""

    def __init__(self, gen: _Gen, password_hash: str, leaders: bool = True, extra_leaders: bool = True):
        self.gen = gen
        self.password_hash = password_hash
        self.leaders = leaders
        self.extra_leaders = extra_leaders
        self.counts = Counts()

    def since(self, years_back_max: int = 8) -> date:
        rng = self.gen.rng
        return date(self.gen.year - rng.randint(1, years_back_max), rng.randint(1, 12), rng.randint(1, 28))

    def community(self, subdistrict: Place, spec: CommunitySpec, *, grid_size: int = 12) -> Place:
        gen, rng = self.gen, self.gen.rng
        community = new_place(subdistrict, level=Level.COMMUNITY, code=spec.code, name=spec.name)
        community.save()
        self.counts.communities += 1
        compounds = Compound.objects.bulk_create(
            [Compound(community=community, name=c.name, path=community.path) for c in spec.compounds]
        )
        self.counts.compounds += len(compounds)
        # buildings and their units, in order
        units: list[tuple[Compound, int, str, tuple]] = []  # (compound, building number, unit label, layout)
        building_numbers: list[tuple[Compound, int]] = []
        for compound, cspec in zip(compounds, spec.compounds, strict=True):
            left, number = cspec.entrances, cspec.first_building
            while left > 0:
                n = min(left, cspec.units_per_building or rng.choice((2, 3, 3, 4, 4, 5, 6)))
                layout = rng.choices(_LAYOUTS, _LAYOUT_WEIGHTS)[0]
                if (compound.name, f"{number}号楼") == ZIJING[:2]:
                    layout = ZIJING_BUILDING_LAYOUT
                building_numbers.append((compound, number))
                for k in range(1, n + 1):
                    label = (
                        f"{100 + (number - 1) * 10 + k}单元" if cspec.compound_unit_numbers else f"{k}单元"
                    )
                    units.append((compound, number, label, layout))
                left -= n
                number += 1
        buildings = Building.objects.bulk_create(
            [Building(compound=c, number=f"{n}号楼", path=community.path) for c, n in building_numbers]
        )
        building_of = {(b.compound.name, b.number): b for b in buildings}
        self.counts.buildings += len(buildings)
        # grids: consecutive runs of entrances, about grid_size each
        n_grids = max(1, round(len(units) / grid_size))
        bounds = [round(i * len(units) / n_grids) for i in range(n_grids + 1)]
        grids = Place.objects.bulk_create(
            [
                new_place(community, level=Level.GRID, code=g + 1, name=f"{spec.name}第{_cn(g + 1)}网格")
                for g in range(n_grids)
            ]
        )
        self.counts.grids += len(grids)
        entrances: list[Place] = []
        for g, grid in enumerate(grids):
            for i, (compound, number, label, _layout) in enumerate(units[bounds[g] : bounds[g + 1]]):
                building = building_of[(compound.name, f"{number}号楼")]
                entrances.append(
                    new_place(
                        grid,
                        level=Level.ENTRANCE,
                        code=i + 1,
                        name=f"{compound.name}{building.number}{label}",
                        compound=compound,
                        building=building,
                        unit_no=label,
                    )
                )
        entrances = Place.objects.bulk_create(entrances, batch_size=BATCH)
        self.counts.entrances += len(entrances)
        # households and their people
        households: list[Place] = []
        people_of: list[list[Person]] = []
        plans_of: dict[int, list[tuple[Place, HouseholdPlan]]] = {}
        for entrance, (_c, _n, _label, layout) in zip(entrances, units, strict=True):
            key = (entrance.compound.name, entrance.building.number, entrance.unit_no)
            plans = _zijing_households(gen) if key == ZIJING else _generic_households(gen, layout)
            rows = plans_of.setdefault(entrance.pk, [])
            for plan in plans:
                h = new_place(
                    entrance,
                    level=Level.HOUSEHOLD,
                    code=plan.room,
                    name=f"{entrance.name}{plan.room}",
                    room=plan.room,
                    floor=plan.floor,
                    area_m2=plan.area,
                    tenure=plan.tenure,
                    is_occupied=plan.occupied,
                )
                households.append(h)
                people_of.append(plan.people)
                rows.append((h, plan))
        households = insert_rows(Place, households, assign_keys=True)
        self.counts.households += len(households)
        # leaders: a resident of the entrance (or building / floor) who gets a login
        grants: list[RoleGrant] = []
        leader_people: list[Person] = []
        grant_targets: list[tuple[Person, dict]] = []
        resident_rep: list[Person] = []
        by_building: dict[int, list[tuple[Place, HouseholdPlan]]] = {}
        for entrance in entrances:
            rows = plans_of[entrance.pk]
            by_building.setdefault(entrance.building_id, []).extend(rows)
            candidates = [
                p
                for _h, plan in rows
                if plan.occupied
                for p in plan.people
                if p.mobile and 28 <= p.age <= 75 and not p.leader
            ]
            planted = [p for _h, plan in rows for p in plan.people if p.leader]
            leader = planted[0] if planted else (rng.choice(candidates) if candidates else None)
            if leader is None:  # nobody suitable lives here: a neighbour from outside takes the post
                leader = gen.person(None, rng.randint(40, 65), rng.random() < 0.5, Relation.HEAD, set())
                leader.mobile = leader.mobile or gen.mobile()
            if self.leaders:
                leader.leader = True
                leader_people.append(leader)
                since = date(gen.year - 8, 9, 1) if planted else self.since()
                grant_targets.append(
                    (leader, dict(role=Role.ENTRANCE_LEADER, place=entrance, valid_from=since))
                )
            if candidates and rng.random() < 0.3:
                resident_rep.append(rng.choice(candidates))
            # 层长 in some high-rises (none in 紫荆雅园16号楼: its demo 层长 is a named login)
            in_zijing_16 = (entrance.compound.name, entrance.building.number) == ZIJING[:2]
            if self.extra_leaders and not in_zijing_16:
                floors = max(plan.floor for _h, plan in rows)
                if floors >= 11 and rng.random() < 0.35:
                    for f in sorted(rng.sample(range(2, floors + 1), rng.randint(1, 3))):
                        on_floor = [
                            p
                            for _h, plan in rows
                            if plan.floor == f and plan.occupied
                            for p in plan.people
                            if p.mobile and 25 <= p.age <= 75 and not p.leader and p is not leader
                        ]
                        if on_floor:
                            p = rng.choice(on_floor)
                            p.leader = True
                            leader_people.append(p)
                            grant_targets.append(
                                (
                                    p,
                                    dict(
                                        role=Role.FLOOR_LEADER,
                                        place=entrance,
                                        floor=f,
                                        valid_from=self.since(5),
                                    ),
                                )
                            )
        if self.extra_leaders:
            for building in buildings:
                rows = by_building.get(building.pk, [])
                if (building.compound.name, building.number) == ZIJING[:2] or rng.random() >= 0.3:
                    continue
                candidates = [
                    p
                    for _h, plan in rows
                    if plan.occupied
                    for p in plan.people
                    if p.mobile and 35 <= p.age <= 75 and not p.leader
                ]
                if candidates:
                    p = rng.choice(candidates)
                    p.leader = True
                    leader_people.append(p)
                    grant_targets.append(
                        (
                            p,
                            dict(
                                role=Role.BUILDING_LEADER,
                                place=community,
                                building=building,
                                valid_from=self.since(6),
                            ),
                        )
                    )
        for p in resident_rep:
            if not any(code == "resident_rep" for code, _s in p.tags):
                p.tags.append(("resident_rep", ""))
        users = User.objects.bulk_create(
            [
                User(mobile=p.mobile, display_name=p.name, password=self.password_hash, language="zh-hans")
                for p in leader_people
            ],
            batch_size=BATCH,
        )
        user_of = {id(p): u for p, u in zip(leader_people, users, strict=True)}
        self.counts.users += len(users)
        for p, kw in grant_targets:
            place = kw["place"]
            grants.append(RoleGrant(user=user_of[id(p)], path=place.path, granted_by=None, **kw))
        RoleGrant.objects.bulk_create(grants, batch_size=BATCH)
        self.counts.grants += len(grants)
        # residents and tags
        residents: list[dict] = []
        owners: list[Person] = []
        for h, people in zip(households, people_of, strict=True):
            for p in people:
                u = user_of.get(id(p))
                residents.append(
                    {
                        "household_id": h.pk,
                        "path": h.path,
                        "name": p.name,
                        "mobile": p.mobile,
                        "id_number": p.id_number,
                        "birth_year": gen.year - p.age,
                        "relation": p.relation,
                        "user_id": u.pk if u else None,
                    }
                )
                owners.append(p)
        insert_rows(Resident, residents, assign_keys=True)
        self.counts.residents += len(residents)
        tags = [
            {"resident_id": r["id"], "tag_id": code, "path": r["path"], "consent_source": consent}
            for r, p in zip(residents, owners, strict=True)
            for code, consent in p.tags
        ]
        insert_rows(ResidentTag, tags, assign_keys=True)
        self.counts.tags += len(tags)
        # entrance profiles
        profiles = []
        for entrance in entrances:
            rows = plans_of[entrance.pk]
            key = (entrance.compound.name, entrance.building.number, entrance.unit_no)
            lived = sum(1 for _h, plan in rows if plan.occupied)
            people = sum(len(plan.people) for _h, plan in rows if plan.occupied)
            if key == ZIJING:
                profiles.append(
                    EntranceProfile(
                        entrance=entrance,
                        path=entrance.path,
                        ebikes=ZIJING_FIGURES["ebikes"],
                        wechat_group="紫荆雅园16号楼251单元楼门群",
                        wechat_members=61,
                        spare_keys=ZIJING_FIGURES["spare_keys"],
                        notes="楼门长周治国任职8年，为6户保管备用钥匙；曾协助9层邻居申请使用公共维修资金修复漏水。"
                        "楼门微信群是楼门“吹哨”的第一站。",
                    )
                )
                continue
            story = STORIES.get(key)
            has_group = story is not None or rng.random() < 0.85
            group = story[0] if story else (f"{entrance.name}邻里群" if has_group else "")
            profiles.append(
                EntranceProfile(
                    entrance=entrance,
                    path=entrance.path,
                    ebikes=round(lived * rng.uniform(0.3, 0.7)),
                    wechat_group=group,
                    wechat_members=round(people * rng.uniform(0.5, 0.9)) if group else None,
                    spare_keys=rng.choice((0, 0, 1, 2, 2, 3, 4, 5)),
                    notes=story[1] if story else "",
                )
            )
        insert_rows(EntranceProfile, profiles, assign_keys=True)
        return community


_CN_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else _CN_DIGITS[tens]}十{_CN_DIGITS[ones] if ones else ''}"


# --- the named demo logins -------------------------------------------------------------------------


def _create_logins(gen: _Gen, subdistrict: Place, password_hash: str) -> int:
    """One login for every role (DEMO_LOGINS), through accounts.services; returns the users created."""
    from linjialin.accounts.services import create_user, grant_role

    c1 = Place.objects.filter(parent=subdistrict, code="001").first()
    c2 = Place.objects.filter(parent=subdistrict, code="002").first()
    entrance = (
        Place.objects.filter(
            level=Level.ENTRANCE, compound__name=ZIJING[0], building__number=ZIJING[1], unit_no=ZIJING[2]
        )
        .select_related("building", "parent")
        .first()
    )
    if c1 is None or c2 is None or entrance is None:
        return 0
    building = entrance.building
    entrance_252 = Place.objects.get(building=building, unit_no="252单元")
    entrance_253 = Place.objects.get(building=building, unit_no="253单元")
    created = 0

    def new_user(mobile: str, name: str) -> User:
        nonlocal created
        user = create_user(None, mobile=mobile, display_name=name, password=None, language="zh-hans")
        # the published demo password: changed at first sign-in outside DEMO_MODE (two_factor.py)
        User.objects.filter(pk=user.pk).update(password=password_hash, must_change_password=True)
        created += 1
        return user

    def resident_login(resident: Resident, mobile: str) -> User:
        if resident.mobile != mobile:
            Resident.objects.filter(pk=resident.pk).update(mobile=mobile)
        user = new_user(mobile, resident.name)
        Resident.objects.filter(pk=resident.pk).update(user=user)
        return user

    def pick(entrance_: Place, **filters) -> Resident:
        return (
            Resident.objects.filter(
                path__startswith=entrance_.path,
                user__isnull=True,
                household__is_occupied=True,
                birth_year__lte=gen.year - 25,
                **filters,
            )
            .order_by("path", "id")
            .first()
        )

    # residents
    r1 = Resident.objects.get(mobile="13800000001")
    u = resident_login(r1, "13800000001")
    grant_role(
        None, user=u, role=Role.RESIDENT, place=r1.household, valid_from=date(gen.year - 3, 5, 1), check=False
    )
    r2 = pick(entrance_252)
    u = resident_login(r2, "13800000002")
    grant_role(
        None, user=u, role=Role.RESIDENT, place=r2.household, valid_from=date(gen.year - 2, 3, 1), check=False
    )
    # 层长 of floor 9 of 251, 楼长 of 16号楼 (the 楼门长 周治国 was made with the entrance)
    r3 = Resident.objects.get(mobile="13800000003")
    u = resident_login(r3, "13800000003")
    grant_role(
        None,
        user=u,
        role=Role.FLOOR_LEADER,
        place=entrance,
        floor=9,
        valid_from=date(gen.year - 4, 6, 1),
        check=False,
    )
    r5 = pick(entrance_253)
    u = resident_login(r5, "13800000005")
    grant_role(
        None,
        user=u,
        role=Role.BUILDING_LEADER,
        place=c1,
        building=building,
        valid_from=date(gen.year - 5, 4, 1),
        check=False,
    )
    # staff: on 251单元's grid, community or subdistrict, whichever level the role is granted on
    at_level = {
        Level.SUBDISTRICT: subdistrict,
        Level.COMMUNITY: c1,
        Level.GRID: entrance.parent,
        Level.ENTRANCE: entrance,
    }
    for mobile, (name, role, other_community) in _STAFF.items():
        u = new_user(mobile, name)
        place = c2 if other_community else at_level[ROLES[role].level]
        grant_role(None, user=u, role=role, place=place, valid_from=date(gen.year - 1, 1, 1), check=False)
    return created


# --- entry points ---------------------------------------------------------------------------------


def has_places() -> bool:
    return Place.objects.exists()


def _year(year: int | None) -> int:
    return year or timezone.localdate().year


def load_demo(
    *,
    seed: int = DEFAULT_SEED,
    year: int | None = None,
    communities: int | None = None,
    progress: bool | None = False,
) -> DemoResult:
    """Build 通运街道 with its 630 楼门 (or only its first `communities`) and the demo logins."""
    from tqdm import tqdm

    started = time.perf_counter()
    gen = _Gen(seed, _year(year))
    password_hash = make_password(DEMO_PASSWORD)
    specs = TONGYUN[:communities] if communities else TONGYUN
    with transaction.atomic():
        writer = _Writer(gen, password_hash)
        subdistrict = new_place(None, level=Level.SUBDISTRICT, code=SUBDISTRICT_CODE, name=SUBDISTRICT_NAME)
        subdistrict.save()
        writer.counts.subdistricts += 1
        for spec in tqdm(specs, desc=SUBDISTRICT_NAME, unit="社区", disable=not progress):
            writer.community(subdistrict, spec)
        users = _create_logins(gen, subdistrict, password_hash)
        writer.counts.users += users
        writer.counts.grants += users
        counts = writer.counts
        audit.record("demo.loaded", actor=None, obj=subdistrict, after={"seed": seed, **counts.__dict__})
        refresh_statistics()  # the demo's year of requests runs next, in a caller's transaction in tests
    return DemoResult(counts, time.perf_counter() - started, seed)


# The other 街道 of 通州区 (names real, codes and contents synthetic).
DISTRICT_SUBDISTRICTS = (
    "中仓街道",
    "新华街道",
    "北苑街道",
    "玉桥街道",
    "潞源街道",
    "九棵树街道",
    "临河里街道",
    None,
    "杨庄街道",
    "潞邑街道",
    "文景街道",
)
_PLACE_HEADS = (
    "玉 潞 通 运 新 惠 京 华 佳 城 翠 云 锦 和 瑞 嘉 兴 怡 景 秀 春 欣 泰 安 清 晨 星 月 梨 杨".split()
)
_PLACE_TAILS = "园 苑 里 家园 小区 花园 嘉园 新城 名苑 雅园 东里 西里 北里 南里 新村".split()


def _district_spec(rng: random.Random, code: int, taken: set[str]) -> CommunitySpec:
    compounds = []
    for _i in range(rng.choice((1, 1, 2, 2, 3))):
        while True:
            name = rng.choice(_PLACE_HEADS) + rng.choice(_PLACE_HEADS) + rng.choice(_PLACE_TAILS)
            if name not in taken:
                taken.add(name)
                break
        compounds.append(CompoundSpec(name, rng.randint(15, 40)))
    return CommunitySpec(code, f"{compounds[0].name.removesuffix('小区')}社区", tuple(compounds))


def load_district(
    *,
    seed: int = DEFAULT_SEED,
    year: int | None = None,
    households: int = DISTRICT_HOUSEHOLDS,
    progress: bool | None = True,
    leaders: bool = True,
) -> DemoResult:
    """通运街道 (load_demo) plus synthetic 街道 110112001… until the district has `households`."""
    from tqdm import tqdm

    started = time.perf_counter()
    base = load_demo(seed=seed, year=year, progress=progress)
    counts = base.counts
    gen = _Gen(seed + 1, _year(year))
    gen.mobiles.update(Resident.objects.exclude(mobile="").values_list("mobile", flat=True))
    gen.mobiles.update(User.objects.values_list("mobile", flat=True))
    gen.ids.update(Resident.objects.exclude(id_number="").values_list("id_number", flat=True))
    password_hash = User.objects.filter(mobile__startswith=DEMO_LOGIN_PREFIX).values_list(
        "password", flat=True
    )[0]
    bar = tqdm(
        total=households,
        initial=counts.households,
        desc="district",
        unit="户",
        disable=not progress,
        mininterval=1.0,
    )
    taken: set[str] = {c.name for spec in TONGYUN for c in spec.compounds}
    for number, name in enumerate(DISTRICT_SUBDISTRICTS, start=1):
        if name is None or counts.households >= households:
            continue
        with transaction.atomic():
            writer = _Writer(gen, password_hash, leaders=leaders, extra_leaders=False)
            subdistrict = new_place(None, level=Level.SUBDISTRICT, code=f"110112{number:03d}", name=name)
            subdistrict.save()
            writer.counts.subdistricts += 1
            target = (households - counts.households) / max(
                1, sum(1 for n in DISTRICT_SUBDISTRICTS[number - 1 :] if n is not None)
            )
            code = 1
            while writer.counts.households < target and code < 1000:
                before = writer.counts.households
                writer.community(subdistrict, _district_spec(gen.rng, code, taken))
                bar.update(writer.counts.households - before)
                code += 1
                audit.record(
                    "demo.loaded", actor=None, obj=subdistrict, after={"seed": seed, **writer.counts.__dict__}
                )
        counts.add(writer.counts)
    bar.close()
    return DemoResult(counts, time.perf_counter() - started, seed)


def demo_digest() -> str:
    """A SHA-256 over the demo's content (names, paths, mobiles, IDs, grants …), for determinism checks."""
    h = hashlib.sha256()

    def feed(rows) -> None:
        for row in rows:
            h.update(repr(row).encode())

    feed(
        Place.objects.order_by("path")
        .values_list(
            "path",
            "name",
            "level",
            "grid_code",
            "compound__name",
            "building__number",
            "unit_no",
            "room",
            "floor",
            "area_m2",
            "tenure",
            "is_occupied",
        )
        .iterator(chunk_size=5000)
    )
    feed(
        Resident.objects.order_by("path", "name")
        .values_list("path", "name", "mobile", "id_number", "birth_year", "relation", "user__mobile")
        .iterator(chunk_size=5000)
    )
    feed(
        ResidentTag.objects.order_by("path", "resident__name", "tag_id")
        .values_list("path", "resident__name", "tag_id", "consent_source")
        .iterator(chunk_size=5000)
    )
    feed(User.objects.order_by("mobile").values_list("mobile", "display_name", "language"))
    feed(
        RoleGrant.objects.order_by("path", "role", "user__mobile").values_list(
            "role", "path", "building__number", "floor", "user__mobile", "valid_from", "valid_to"
        )
    )
    feed(
        EntranceProfile.objects.order_by("path").values_list(
            "path", "ebikes", "wechat_group", "wechat_members", "spare_keys", "notes"
        )
    )
    return h.hexdigest()
