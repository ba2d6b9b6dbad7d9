"""A demo year of the request loop, replayed through services.py with the clock set to each step
(core/demo_clock.py), deterministic by seed. Every community gets requests in proportion to its
households, in a seasonal mix over the taxonomy; each request has a fate (escalated, dispatched,
returned, 吹哨, extended, overdue, reopened, merged, withdrawn, not accepted …) and moves one step at a
time: `_Loop.tick` looks at the request's state and takes the next step its fate asks for, so the
deadline sweep (run each working morning; the beat runs it every minute) can overtake a slow step and
the loop simply goes on from where the request stands. Steps after `now` are not run: the latest requests stay
open, some due soon and some overdue today. The demo logins get their own work today (demo_today.py); the
ratings and call-backs are in demo_callbacks.py.

Called by `linjialin demo` after service_requests/demo.py made the handling units."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Role
from linjialin.accounts.services import create_user, grant_role
from linjialin.core import demo_clock, rows
from linjialin.core.calendar import local_date
from linjialin.places.models import Level, Place, Resident

from . import demo_texts as T
from . import services
from .demo_callbacks import CallBacks
from .models import (
    OPEN_STATES,
    AssistKind,
    Category,
    Channel,
    HandlingLevel,
    HandlingUnit,
    RequestAssist,
    Satisfaction,
    ServiceRequest,
    State,
    UnitMember,
)
from .sweep import sweep

SEED = 2027
PER_HOUSEHOLD = 0.07  # requests per household and year (a real 社区 sees ~0.3; scaled to load in ~2 minutes)
H = HandlingLevel
S = State
FIELD_UNIT = {  # a field's department unit (service_requests/demo.py UNITS)
    "leak": "tz-housing",
    "utilities": "tz-heating",
    "property": "ty-property",
    "parking": "ty-city-office",
    "municipal": "tz-city",
}
RESIDENT_DEMO, LEADER_DEMO = "13800000001", "13800000004"
STAFF_DEMO, DISPATCHER_DEMO = "13800000009", "13800000010"
DEPARTMENT_DEMO = "13800000011"  # 何志刚: a member and the supervisor of 区住建委 (demo.py)
ENDED = (S.CLOSED, S.NOT_ACCEPTED, S.MERGED, S.WITHDRAWN)


@dataclass
class Fate:
    """What happens to one request (each flag once)."""

    top: int = H.ENTRANCE  # handled at this level (escalated up to it by hand)
    department: bool = False  # at the subdistrict: the dispatcher sends it to a unit
    give_back: bool = False  # 退单 by the first unit, re-dispatched
    reassign: bool = False  # the dispatcher moves it to another unit after acceptance
    whistle: bool = False  # 吹哨: units summoned, 报到 and report back
    extension: str = ""  # "grant" / "refuse"
    late: bool = False  # resolved after its deadline (督办 by the sweep first)
    idle: bool = False  # nobody accepts at its level: the sweep escalates it
    not_accept: bool = False
    withdraw: bool = False
    recategorise: bool = False
    unsatisfied: int = 0  # 不满意 this many times (each reopens; past the maximum: supervised)
    rating: str = Satisfaction.SATISFIED
    silent: bool = False  # the resident never rates: called back by staff after the wait
    unreachable: bool = False  # nobody answers a call-back: closed as unreachable after the last try
    hold: Callable[[ServiceRequest], bool] | None = None  # stop here (the demo logins' work today)
    slow: float = 1.0  # multiplies the delays


class _People:
    """Who acts where: the 楼门长 of each entrance, a 网格员 per grid, community workers and secretaries,
    the subdistrict's handler and dispatcher, the units' members (made here where the places demo has
    none), and resident logins made on first use."""

    def __init__(self, subdistrict: Place, year: int):
        self.year = year
        self.made = 0
        self.taken = set(User.objects.values_list("mobile", flat=True))
        self.by_mobile = {u.mobile: u for u in User.objects.filter(mobile__startswith="138000000")}
        self.leader: dict[str, User] = {}
        self.grid: dict[str, User] = {}
        self.community: dict[str, User] = {}
        self.secretary: dict[str, User] = {}
        users: dict[int, User] = {}
        for g in RoleGrant.objects.filter(path__startswith=subdistrict.path).select_related("user"):
            user = users.setdefault(g.user_id, g.user)  # one object per user: its scope cache is reused
            table = {
                Role.ENTRANCE_LEADER: self.leader,
                Role.GRID_WORKER: self.grid,
                Role.COMMUNITY_WORKER: self.community,
                Role.COMMUNITY_SECRETARY: self.secretary,
            }.get(g.role)
            if table is not None:
                table.setdefault(g.path, user)
        self.staff = self._demo(STAFF_DEMO, users)
        self.dispatcher = self._demo(DISPATCHER_DEMO, users)
        self.residents: dict[int, User | None] = {}
        self.unit_members: dict[int, list[User]] = {}
        # every user object the loop acts with, by id: a request read again gets these as its handler and
        # requester, so that each user's grants are read once for the year, not at every step
        self.by_id: dict[int, User] = {**users, self.staff.pk: self.staff}
        self.by_id[self.dispatcher.pk] = self.dispatcher

    def _demo(self, mobile: str, users: dict[int, User]) -> User:
        user = self.by_mobile[mobile]
        return users.get(user.pk, user)

    def _new(self, mobile: str, name: str, role: str, place: Place, valid_from: date) -> User:
        """A login with one grant (a staff member, a unit's handler, a resident)."""
        user = create_user(None, mobile=mobile, display_name=name, password=None, language="zh-hans")
        grant_role(None, user=user, role=role, place=place, valid_from=valid_from, check=False)
        self.taken.add(mobile)
        self.made += 1
        self.by_id[user.pk] = user
        return user

    def _mobile(self, n: int) -> str:
        mobile = f"139{n:08d}"
        while mobile in self.taken:
            n += 1
            mobile = f"139{n:08d}"
        return mobile

    def staff_for(self, places: list[Place], table: dict, role: str, title: str, base: int) -> None:
        """A login of `role` for every place in `places` that has none (the places demo staffs only
        紫荆雅园's grid and community)."""
        for i, place in enumerate(places):
            if place.path in table:
                continue
            user = self._new(
                self._mobile(base + i), f"{place.name}{title}", role, place, date(self.year - 1, 1, 1)
            )
            table[place.path] = user

    def members(self, unit: HandlingUnit, subdistrict: Place, base: int) -> list[User]:
        """Two members of each unit (the first its supervisor), each a department handler of the
        subdistrict; the demo's 区住建委 login is one of them."""
        if unit.pk not in self.unit_members:
            have = [
                m.user for m in UnitMember.objects.filter(unit=unit).select_related("user").order_by("pk")
            ]
            while len(have) < 2:
                user = self._new(
                    self._mobile(base + len(have)),
                    f"{unit.name_zh}经办人{len(have) + 1}",
                    Role.DEPARTMENT_HANDLER,
                    subdistrict,
                    date(self.year - 1, 1, 1),
                )
                UnitMember.objects.get_or_create(unit=unit, user=user, defaults={"supervisor": not have})
                have.append(user)
            have = [self.by_id.setdefault(u.pk, u) for u in have]
            self.unit_members[unit.pk] = have
        return self.unit_members[unit.pk]

    def resident(self, household: Place, residents: list[Resident]) -> User | None:
        """The household's resident login (made on first use, from its first adult with a mobile)."""
        if household.pk not in self.residents:
            user = None
            for r in residents:
                if r.mobile and r.mobile not in self.taken and (r.birth_year or 0) <= self.year - 20:
                    user = self._new(r.mobile, r.name, Role.RESIDENT, household, date(self.year - 2, 1, 1))
                    break
            self.residents[household.pk] = user
        return self.residents[household.pk]


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Loop(CallBacks):
    def __init__(self, subdistrict: Place, rng: random.Random, start: date, now: datetime):
        self.rng, self.now, self.start = rng, now, start
        self.year = demo_clock.Year(now.date(), until=now)
        self.people = _People(subdistrict, now.year)
        self.fates: dict[int, Fate] = {}
        self.context: dict[int, tuple[Place, Place]] = {}  # request → (entrance, household)
        self.failures: Counter = Counter()
        self.units = {u.code: u for u in HandlingUnit.objects.filter(path__startswith=subdistrict.path)}
        self.unit_list = sorted(self.units.values(), key=lambda u: u.code)
        self.unit_by_id = {u.pk: u for u in self.unit_list}
        self.categories = {c.code: c for c in Category.objects.filter(active=True).select_related("parent")}
        self.subs: dict[str, list[Category]] = {}
        for c in self.categories.values():
            if c.parent_id and c.code in T.TEXTS:
                self.subs.setdefault(c.parent.code, []).append(c)
        for subs in self.subs.values():
            subs.sort(key=lambda c: c.code)
        self.counts: Counter = Counter()
        self.rules = services.rules()
        self.places = _Places(subdistrict)
        people = self.people
        people.staff_for(self.places.grids, people.grid, Role.GRID_WORKER, "网格员", 10_000)
        people.staff_for(self.places.communities, people.community, Role.COMMUNITY_WORKER, "社工", 20_000)
        people.staff_for(self.places.communities, people.secretary, Role.COMMUNITY_SECRETARY, "书记", 30_000)
        for i, unit in enumerate(self.unit_list):
            people.members(unit, subdistrict, 40_000 + 10 * i)

    # --- time ------------------------------------------------------------------------------------------
    def office(self, day: date, rng: random.Random | None = None) -> datetime:
        """A time in working hours that day (a few requests come in the evening or at the weekend)."""
        rng = rng or self.rng
        hour = rng.choices((8, 9, 10, 11, 13, 14, 15, 16, 17, 19, 21), (3, 5, 5, 4, 3, 5, 5, 4, 2, 1, 1))[0]
        return demo_clock.at(day, hour, rng.randrange(0, 60))

    def later(self, when: datetime, hours: float) -> datetime:
        """`hours` after `when`, moved into office hours (demo_clock.working: nights, weekends and holidays
        skipped; handlers work 8:30–17:30)."""
        return demo_clock.working(when + timedelta(hours=hours))

    def next(self, rid: int, hours: float, ok: bool = True) -> None:
        if not ok:
            self.failures[rid] += 1
        f = self.fates[rid]
        when = self.later(timezone.now(), hours * f.slow * self.rng.uniform(0.6, 1.4))
        self.year.at(when, lambda: self.tick(rid))

    # --- planning -----------------------------------------------------------------------------------------
    def plan_year(self, per_household: float) -> None:
        days = (self.now.date() - self.start).days
        month_weight = [sum(T.SEASONS[f][m] for f in T.SEASONS) for m in range(12)]
        day_weights = [month_weight[(self.start + timedelta(d)).month - 1] for d in range(days)]
        for community in self.places.communities:
            n = round(self.places.households_in(community) * per_household)
            rng = random.Random(self.rng.random())
            for d in rng.choices(range(days), weights=day_weights, k=n):
                day = self.start + timedelta(days=d)
                when = self.office(day, rng)
                seed = rng.random()
                self.year.at(when, lambda c=community, s=seed: self.submit(c, random.Random(s)))

    def fate(self, rng: random.Random, category: Category) -> Fate:
        f = Fate(top=category.level)
        roll = rng.random()
        if category.level == H.SUBDISTRICT or roll < 0.05:
            f.top = H.SUBDISTRICT
            f.department = category.level == H.SUBDISTRICT or rng.random() < 0.7
        elif roll < 0.15 and category.level > H.COMMUNITY:
            f.top = max(H.COMMUNITY, category.level - rng.choice((1, 2)))
        if f.department:
            f.give_back = rng.random() < 0.1
            f.reassign = not f.give_back and rng.random() < 0.04
            f.whistle = rng.random() < 0.15
        elif f.top <= H.COMMUNITY:
            f.whistle = rng.random() < 0.08
        f.idle = rng.random() < 0.04 and f.top > H.SUBDISTRICT
        f.extension = _weighted(rng, {"": 92, "grant": 6, "refuse": 2})
        f.late = rng.random() < 0.04
        f.not_accept = rng.random() < 0.02
        f.withdraw = rng.random() < 0.02
        f.recategorise = rng.random() < 0.02
        f.unsatisfied = 1 if rng.random() < 0.05 else 0
        if rng.random() < 0.004:
            f.unsatisfied = 3  # beyond the maximum of reopens: supervised
        f.rating = _weighted(
            rng, {Satisfaction.SATISFIED: 82, Satisfaction.BASICALLY: 15, Satisfaction.UNSATISFIED: 3}
        )
        f.slow = rng.choice((0.5, 1, 1, 1, 1.5, 2))
        f.silent = rng.random() < 0.08
        f.unreachable = rng.random() < 0.03
        return f

    def pick_category(self, rng: random.Random, month: int) -> Category:
        fields = {f: w[month - 1] for f, w in T.SEASONS.items() if f in self.subs}
        subs = self.subs[_weighted(rng, fields)]
        heating = 12 if month in T.HEATING_MONTHS else 0.2
        weights = {c: heating if c.code == "utilities-heating" else 1 for c in subs}
        return _weighted(rng, weights)

    def text(self, rng: random.Random, category: Category) -> str:
        template = rng.choice(T.TEXTS.get(category.code) or T.FALLBACK)
        return template.format(where=rng.choice(T.WHERE), days=rng.choice(T.DAYS), time=rng.choice(T.WHEN))

    # --- steps ----------------------------------------------------------------------------------------
    def submit(self, community: Place, rng: random.Random, *, fate: Fate | None = None, household=None, **kw):
        """A new request in `community`: by a resident on the phone page (most), 代报 by the 楼门长, a grid
        patrol finding or a phone call taken by the community."""
        now = timezone.now()
        category = kw.pop("category", None) or self.pick_category(rng, timezone.localtime(now).month)
        household = household or self.places.household(community, rng)
        entrance = self.places.entrance_of(household)
        channel = kw.pop("channel", None) or _weighted(
            rng, {Channel.RESIDENT: 60, Channel.ON_BEHALF: 22, Channel.PATROL: 10, Channel.PHONE: 8}
        )
        actor, place = None, household
        if channel == Channel.RESIDENT:
            actor = self.people.resident(household, self.places.residents(household))
            if actor is not None and category.level < H.ENTRANCE and rng.random() < 0.5:
                place = entrance  # a shared place of the entrance: neighbours may join it
        if actor is None and channel in (Channel.RESIDENT, Channel.ON_BEHALF):
            actor, channel = self.people.leader.get(entrance.path), Channel.ON_BEHALF
        if actor is None:
            actor = self.people.grid.get(self.places.grid_of(entrance).path)
            channel = Channel.PATROL if channel == Channel.PATROL else Channel.PHONE
            place = entrance if channel == Channel.PATROL else household
        contact = {}
        if channel in (Channel.ON_BEHALF, Channel.PHONE):
            person = next(iter(self.places.residents(household)), None)
            if person is not None:
                contact = {"contact_name": person.name, "contact_mobile": person.mobile}
        req = services.submit_request(
            actor,
            place=place,
            request_type=kw.pop("request_type", None)
            or _weighted(rng, {"help": 70, "complaint": 15, "report": 5, "consult": 6, "suggestion": 4}),
            description=kw.pop("description", None) or self.text(rng, category),
            category=category,
            channel=channel,
            board_consent=rng.random() < 0.6,
            **contact,
        )
        self.counts["requests"] += 1
        f = fate or self.fate(rng, category)
        if req.requester_id is None:
            f.withdraw = False  # only the requester withdraws
        self.fates[req.pk] = f
        self.context[req.pk] = (entrance, household)
        self.maybe_neighbours(req, rng)
        self.next(req.pk, rng.choice((0.5, 1, 2, 3)))
        return req

    def maybe_neighbours(self, req: ServiceRequest, rng: random.Random) -> None:
        """At a shared place, neighbours join (我也遇到) or file the same again (merged by the dispatcher)."""
        if req.place.level != Level.ENTRANCE or rng.random() > 0.3:
            return
        households = [h for h in self.places.households_of(req.place) if h != self.context[req.pk][1]]
        for household in rng.sample(households, min(len(households), rng.choice((1, 1, 2, 3)))):
            user = self.people.resident(household, self.places.residents(household))
            if user is None:
                continue
            at = timezone.now() + timedelta(minutes=rng.randrange(20, 600))
            if rng.random() < 0.75:
                self.year.at(at, lambda u=user: self.join(req.pk, u))
            else:
                self.year.at(at, lambda u=user, h=household: self.again(req.pk, u, h))

    def join(self, rid: int, user: User) -> None:
        req = self.load(rid)
        if req.state in OPEN_STATES:
            self.attempt(lambda: services.join_request(user, req, note="我家也是这样"), "joins")

    def again(self, rid: int, user: User, household: Place) -> None:
        """The same problem filed again by a neighbour: the dispatcher merges it (and once in a while takes
        one out again: a different matter after all)."""
        first = self.load(rid)
        if first.state not in OPEN_STATES:
            return
        dup = services.submit_request(
            user,
            place=first.place,
            request_type=first.request_type,
            description=first.description + "，希望尽快处理",
            category=first.category,
        )
        self.counts["requests"] += 1
        self.fates[dup.pk] = Fate(top=dup.level)
        self.context[dup.pk] = self.context[rid]
        dispatcher = self.people.dispatcher
        if self.attempt(lambda: services.merge_request(dispatcher, dup, into=first), "merges"):
            if self.counts["unmerges"] < 3 and self.rng.random() < 0.2:
                self.year.at(self.later(timezone.now(), 3), lambda: self.unmerge(dup.pk))
        else:
            self.next(dup.pk, 1)

    def unmerge(self, rid: int) -> None:
        req = self.load(rid, "merged_into")
        done = self.attempt(
            lambda: services.unmerge_request(self.people.dispatcher, req, reason="不是同一个问题，单独处理"),
            "unmerges",
        )
        if done:
            self.next(rid, 1)

    def load(self, rid: int, *related: str) -> ServiceRequest:
        """Request `rid` as it stands now, with the loop's own objects of its handler, requester and unit."""
        req = rows.first(ServiceRequest, "t.id = %s", [rid], related=related)  # a plain read: every tick
        for name in ("handler", "requester"):
            user = self.people.by_id.get(getattr(req, f"{name}_id"))
            if user is not None:
                setattr(req, name, user)
        if req.unit_id in self.unit_by_id:
            req.unit = self.unit_by_id[req.unit_id]
        return req

    def attempt(self, fn, counter: str = "") -> bool:
        """Whether the step went through (the services may refuse it)."""
        return demo_clock.attempt(self.counts, fn, counter)[0]

    def handler_at(self, req: ServiceRequest) -> User | None:
        entrance, _household = self.context[req.pk]
        if req.level == H.ENTRANCE:
            return self.people.leader.get(entrance.path)
        if req.level == H.GRID:
            return self.people.grid.get(self.places.grid_of(entrance).path)
        if req.level == H.COMMUNITY:
            return self.people.community.get(self.places.community_of(entrance).path)
        if req.level == H.SUBDISTRICT:
            return self.people.staff
        members = self.people.unit_members.get(req.unit_id) or [None]
        return members[-1]  # the unit's second member handles; its supervisor decides extensions

    def supervisor_of(self, req: ServiceRequest) -> User | None:
        if req.level == H.DEPARTMENT:
            return (self.people.unit_members.get(req.unit_id) or [None])[0]
        if req.level == H.SUBDISTRICT:
            return self.people.staff
        entrance, _ = self.context[req.pk]
        return self.people.secretary.get(self.places.community_of(entrance).path)

    def tick(self, rid: int) -> None:
        """The next step of request `rid`, from the state it is in now."""
        req = self.load(rid, "category", "place")
        f = self.fates[rid]
        if req.state in ENDED or (f.hold is not None and f.hold(req)):
            return
        if self.failures[rid] > 3:  # a step that keeps failing: leave the request where it stands
            self.counts["stuck"] += 1
            return
        step = getattr(self, f"_{req.state}")
        step(req, f)

    def _submitted(self, req: ServiceRequest, f: Fate) -> None:
        if f.withdraw and self.rng.random() < 0.5:
            f.withdraw = False
            self.attempt(
                lambda: services.withdraw_request(req.requester, req, reason="问题自己解决了"), "withdrawn"
            )
            return
        if f.recategorise and req.category_id:
            f.recategorise = False
            others = self.subs.get(req.category.parent.code if req.category.parent_id else "", [])
            other = next((c for c in others if c.pk != req.category_id), None)
            if other is not None:
                self.attempt(
                    lambda: services.recategorise_request(
                        self.people.dispatcher, req, category=other, note="按实际问题调整分类"
                    ),
                    "recategorised",
                )
        if req.level == H.SUBDISTRICT and (f.department or f.not_accept):
            self._dispatch(req, f)
            return
        actor = self.handler_at(req)
        if actor is None or (f.idle and req.level > H.SUBDISTRICT):
            f.idle = False  # the sweep escalates it once its acceptance window is over
            self.year.at(req.accept_by + timedelta(hours=20), lambda: self.tick(req.pk))
            return
        if f.not_accept:
            f.not_accept = False
            self.attempt(
                lambda: services.not_accept_request(
                    actor, req, reason="属于法院诉讼程序，不属于受理范围", referred_to="通州区人民法院"
                ),
                "not_accepted",
            )
            return
        if req.level > f.top:
            ok = self.attempt(
                lambda: services.escalate_request(actor, req, reason=self.rng.choice(T.ESCALATE)), "escalated"
            )
        else:
            ok = self.attempt(lambda: services.accept_request(actor, req), "accepted")
        self.next(req.pk, 1 if ok else 4, ok)

    _escalated = _submitted

    def _dispatch(self, req: ServiceRequest, f: Fate) -> None:
        dispatcher = self.people.dispatcher
        if f.not_accept:
            f.not_accept = False
            self.attempt(
                lambda: services.not_accept_request(
                    dispatcher,
                    req,
                    reason="属于劳动争议，请向劳动仲裁委员会申请",
                    referred_to="区劳动人事争议仲裁委员会",
                ),
                "not_accepted",
            )
            return
        code = FIELD_UNIT.get(req.category.parent.code if req.category and req.category.parent_id else "")
        unit = self.units.get(code or "tz-city") or self.unit_list[0]
        if req.state == S.RETURNED or req.unit_id == unit.pk:
            unit = next(u for u in self.unit_list if u.pk != req.unit_id and u.pk != unit.pk)
        ok = self.attempt(
            lambda: services.dispatch_request(
                dispatcher, req, level=H.DEPARTMENT, unit=unit, note="请按职责办理"
            ),
            "dispatched",
        )
        f.department = False
        self.next(req.pk, 1 if ok else 4, ok)

    def _returned(self, req: ServiceRequest, f: Fate) -> None:
        self._dispatch(req, f)

    def _accepted(self, req: ServiceRequest, f: Fate) -> None:
        handler = req.handler
        if f.give_back and req.level == H.DEPARTMENT:
            f.give_back = False
            if self.attempt(
                lambda: services.return_request(handler, req, reason="不属于本单位职责，请改派"), "returned"
            ):
                self.next(req.pk, 2)
                return  # a refused 退单 goes on below: one next step either way
        if f.reassign and req.level == H.DEPARTMENT:
            f.reassign = False
            other = next(u for u in self.unit_list if u.pk != req.unit_id)
            self.attempt(
                lambda: services.reassign_request(
                    self.people.dispatcher, req, level=H.DEPARTMENT, unit=other, reason="经核实由其他单位主办"
                ),
                "reassigned",
            )
            self.next(req.pk, 2)
            return
        ok = self.attempt(
            lambda: services.record_contact(handler, req, note=self.rng.choice(T.CONTACT)), "contacted"
        )
        self.next(req.pk, self.rng.choice((4, 8, 16, 24)), ok)

    def _in_progress(self, req: ServiceRequest, f: Fate) -> None:
        handler = req.handler
        if f.whistle:
            f.whistle = False
            self.whistle(req, handler)
            self.next(req.pk, 24)
            return
        if f.extension:
            kind, f.extension = f.extension, ""
            if self.attempt(
                lambda: services.request_extension(
                    handler, req, days=5, reason="需要协调施工队，材料到货较慢"
                ),
                "extensions",
            ):
                self.year.at(self.later(timezone.now(), 6), lambda: self.decide(req.pk, kind))
                return
        if f.late:
            f.late = False
            self.year.at(req.resolve_by + timedelta(hours=20), lambda: self.tick(req.pk))
            return
        result = self.rng.choice(T.RESULTS.get(req.category.code if req.category else "", T.RESULT_OTHER))
        ok = self.attempt(lambda: services.resolve_request(handler, req, result=result), "resolved")
        self.next(req.pk, self.rng.choice((2, 6, 20)) if ok else 8, ok)

    def decide(self, rid: int, kind: str) -> None:
        req = self.load(rid)
        f = self.fates[rid]
        if req.state != S.EXTENSION_REQUESTED or (f.hold is not None and f.hold(req)):
            return
        supervisor = self.supervisor_of(req)
        grant = kind == "grant"
        self.attempt(
            lambda: services.decide_extension(
                supervisor, req, grant=grant, note="同意延期" if grant else "时限内能办完，请抓紧"
            ),
            "extension_decisions",
        )
        self.next(rid, 8)

    def whistle(self, req: ServiceRequest, handler: User) -> None:
        """吹哨: the dispatcher (or the handler's level) summons two units; each reports (报到) and reports
        back."""
        owner = req.unit_id
        units = [u for u in self.unit_list if u.pk != owner][: self.rng.choice((1, 2))]
        summoner = self.people.dispatcher
        kind = AssistKind.WHISTLE if self.rng.random() < 0.8 else AssistKind.CO_HANDLE
        if kind == AssistKind.CO_HANDLE:
            summoner = handler
        if not services.may_summon(summoner, req, kind):
            summoner, kind = self.people.dispatcher, AssistKind.WHISTLE
        done = self.attempt(
            lambda: services.summon_units(summoner, req, units=units, kind=kind, note="请到现场协同处置"),
            "whistles",
        )
        if not done:
            return
        for assist in RequestAssist.objects.filter(request=req, reported_at__isnull=True).select_related(
            "unit"
        ):
            member = self.people.unit_members[assist.unit_id][-1]
            t = self.later(timezone.now(), self.rng.choice((1, 2, 3)))
            self.year.at(
                t, lambda a=assist, m=member: self.attempt(lambda: services.check_in(m, a), "check_ins")
            )
            t2 = self.later(t, self.rng.choice((4, 8)))
            self.year.at(
                t2,
                lambda a=assist, m=member: self.attempt(
                    lambda: services.report_back(m, a, report="已到场配合处置，完成本单位负责部分"), "reports"
                ),
            )

    def _extension_requested(self, req: ServiceRequest, f: Fate) -> None:
        pass  # decide() moves it on

    # --- the scheduled sweep ---------------------------------------------------------------------------
    def plan_sweeps(self) -> None:
        from linjialin.core.calendar import is_working_day

        day = self.start
        while day <= self.now.date():
            if is_working_day(day) or self.now.date() - day < timedelta(days=3):
                self.year.at(demo_clock.at(day, 7, 5), lambda: self.sweep())
            day += timedelta(days=1)

    def sweep(self) -> None:
        report = sweep()
        self.counts["sweep_escalated"] += len(report.escalated)
        self.counts["sweep_supervised"] += len(report.supervised)
        self.counts["sweep_reminded"] += len(report.reminded)


class _Places:
    """The subdistrict's communities, grids, entrances and households, read once."""

    def __init__(self, subdistrict: Place):
        places = Place.objects.filter(path__startswith=subdistrict.path).order_by("path")
        self.communities: list[Place] = []
        self.grids: list[Place] = []
        self.by_id: dict[int, Place] = {}
        self.households: dict[int, list[Place]] = {}  # community id → occupied households
        self.in_entrance: dict[int, list[Place]] = {}
        for p in places.only(
            "id", "parent_id", "level", "path", "name", "code", "is_occupied", "compound_id"
        ):
            self.by_id[p.pk] = p
            if p.level == Level.COMMUNITY:
                self.communities.append(p)
            elif p.level == Level.GRID:
                self.grids.append(p)
            elif p.level == Level.HOUSEHOLD and p.is_occupied:
                entrance = self.by_id[p.parent_id]
                community = self.community_of(entrance)
                self.households.setdefault(community.pk, []).append(p)
                self.in_entrance.setdefault(entrance.pk, []).append(p)
        self._residents: dict[int, list[Resident]] = {}

    def households_in(self, community: Place) -> int:
        return len(self.households.get(community.pk, []))

    def household(self, community: Place, rng: random.Random) -> Place:
        return rng.choice(self.households[community.pk])

    def households_of(self, entrance: Place) -> list[Place]:
        return self.in_entrance.get(entrance.pk, [])

    def entrance_of(self, household: Place) -> Place:
        return self.by_id[household.parent_id]

    def grid_of(self, entrance: Place) -> Place:
        return self.by_id[entrance.parent_id]

    def community_of(self, place: Place) -> Place:
        while place.level > Level.COMMUNITY:
            place = self.by_id[place.parent_id]
        return place

    def residents(self, household: Place) -> list[Resident]:
        if household.pk not in self._residents:
            self._residents[household.pk] = list(
                Resident.objects.filter(household=household)
                .order_by("pk")
                .only("id", "name", "mobile", "birth_year")
            )
        return self._residents[household.pk]


# --- entry point -----------------------------------------------------------------------------------------
def load(
    subdistrict: Place | None = None,
    *,
    seed: int | None = None,
    now: datetime | None = None,
    per_household: float | None = None,
    progress: bool = False,
) -> dict:
    """Replay the year up to `now`. Returns the counts. Does nothing ({}) without the demo logins."""
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    needed = {RESIDENT_DEMO, LEADER_DEMO, STAFF_DEMO, DISPATCHER_DEMO, DEPARTMENT_DEMO}
    if subdistrict is None or User.objects.filter(mobile__in=needed).count() < len(needed):
        return {}
    now = now or timezone.now()
    today = local_date(now)
    start = demo_clock.year_start(today)
    from . import demo_today  # it builds on this module's loop

    rng = random.Random(SEED if seed is None else seed)
    with transaction.atomic():  # one commit for the year (the services' own blocks become savepoints)
        bar = None
        loop = _Loop(subdistrict, rng, start, now)
        loop.plan_year(per_household or PER_HOUSEHOLD)
        demo_today.plan_today(loop, today)
        demo_today.plan_clusters(loop, today)
        loop.plan_sweeps()
        loop.plan_samples()
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=(today - start).days + 1, desc="requests, a year", unit="day", leave=False)
        seen = [start]

        def advance(at: datetime) -> None:
            day = local_date(at)
            if day > seen[0]:
                bar.update((day - seen[0]).days)
                seen[0] = day

        steps = loop.year.run(progress=advance if bar else None)
        if bar:
            bar.close()
    return {**loop.counts, "steps": steps, "logins": loop.people.made}
