"""The demo year's requests of the last weeks that matter today: the work waiting for each demo login
(docs/demo.md) and the clusters that make this month's hotspots. Planned on demo_year's loop."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from linjialin.core import demo_clock
from linjialin.places.models import Resident

from .demo_year import RESIDENT_DEMO, Fate, H, S, _Loop
from .models import Channel, ServiceRequest


# --- the demo logins' work today ----------------------------------------------------------------------
def _working_days_back(today: date, n: int) -> date:
    """The day whose deadline of `n` working days ends on `today`'s next working day (or today)."""
    from linjialin.core.calendar import next_working_day

    day = next_working_day(today, inclusive=True)
    for _ in range(n):
        day = demo_clock.last_working_day_before(day)
    return day


def _state_is(*states) -> Callable[[ServiceRequest], bool]:
    return lambda req: req.state in states


def plan_today(loop: _Loop, today: date) -> None:
    """Work waiting today for the demo logins (docs/demo.md): the resident of 251 has a request to rate,
    one in progress and one new; the 楼门长 of 251 has new, his own, due-soon and overdue requests; the
    网格员, the community worker, the dispatcher and 区住建委 each have items waiting."""
    people, places = loop.people, loop.places
    resident = people.by_mobile[RESIDENT_DEMO]
    home = Resident.objects.filter(user=resident).select_related("household").first()
    if home is None:
        return
    household = places.by_id[home.household_id]
    people.residents[household.pk] = resident
    second = people.by_mobile.get("13800000002")
    second_home = Resident.objects.filter(user=second).first() if second else None
    if second_home is not None:
        people.residents[second_home.household_id] = second
    entrance = places.entrance_of(household)
    community = places.community_of(entrance)
    neighbours = [h for h in places.households_of(entrance) if h.pk != household.pk]
    grid = places.grid_of(entrance)
    grid_households = [
        h for h in places.households.get(community.pk, []) if places.grid_of(places.entrance_of(h)) == grid
    ]
    cat = loop.categories
    rng = random.Random(loop.rng.random())
    now = loop.now
    wd = lambda n: _working_days_back(today, n)  # noqa: E731

    def plan(day: date, hour: int, *, fate: Fate, code: str, home=None, text: str = "", **kw):
        when = demo_clock.at(day, hour, rng.randrange(0, 50))
        if when >= now:
            when = now - timedelta(minutes=rng.randrange(20, 90))
        loop.year.at(
            when,
            lambda: loop.submit(
                community,
                random.Random(rng.random()),
                fate=fate,
                household=home or rng.choice(neighbours),
                category=cat[code],
                **({"description": text} if text else {}),
                **kw,
            ),
        )

    # the resident of 251: closed and rated in spring, one to rate now, one in progress, one new; the
    # 楼门长 of 251: new, his own in progress, due soon (deadline today), overdue (督办 by the sweep)
    R, B = Channel.RESIDENT, Channel.ON_BEHALF
    for day, hour, hold, code, home, channel, text in (
        (wd(120), 9, None, "corridor-door", household, R, "单元门禁刷卡没反应，老人进不了门"),
        (wd(3), 9, S.RESOLVED, "corridor-light", household, R, "楼道声控灯坏了，晚上上下楼看不见台阶"),
        (wd(1), 10, S.IN_PROGRESS, "corridor-clutter", household, R, "楼道里堆放的旧家具挡住了消防通道"),
        (today, 8, S.SUBMITTED, "noise-renovation", household, R, "楼上装修中午也在砸墙，家里老人休息不了"),
        (today, 8, S.SUBMITTED, "corridor-ads", None, R, ""),
        (wd(2), 14, S.IN_PROGRESS, "corridor-clean", None, R, ""),
        (today, 8, S.ACCEPTED, "corridor-light", None, B, ""),
        (wd(7), 9, S.IN_PROGRESS, "corridor-door", None, B, ""),
        (wd(10), 10, S.IN_PROGRESS, "noise-neighbour", None, R, ""),
    ):
        fate = Fate(hold=_state_is(hold) if hold else None)
        plan(day, hour, fate=fate, code=code, home=home, channel=channel, text=text)
    # the 网格员 of 251's grid: two new grid-level requests, one in hand
    for code, hold, day in (
        ("property-lift", S.SUBMITTED, today),
        ("charging-wires", S.SUBMITTED, wd(1)),
        ("sanitation-collection", S.IN_PROGRESS, wd(2)),
    ):
        plan(
            day,
            9,
            fate=Fate(hold=_state_is(hold)),
            code=code,
            home=rng.choice(grid_households),
            channel=Channel.RESIDENT,
        )
    # the community worker: parking (a community matter) new and in hand
    for hold, day in ((S.SUBMITTED, today), (S.IN_PROGRESS, wd(3))):
        plan(
            day,
            10,
            fate=Fate(hold=_state_is(hold)),
            code="parking-illegal",
            home=rng.choice(places.households[community.pk]),
            channel=Channel.RESIDENT,
        )
    # the dispatcher desk: a new municipal request, and one 退单 by the unit waiting for review
    plan(
        today,
        8,
        fate=Fate(top=H.SUBDISTRICT, hold=lambda r: r.level == H.SUBDISTRICT),
        code="municipal-road",
        home=rng.choice(places.households[community.pk]),
        channel=Channel.RESIDENT,
    )
    plan(
        wd(2),
        9,
        fate=Fate(top=H.SUBDISTRICT, department=True, give_back=True, hold=_state_is(S.RETURNED)),
        code="municipal-manhole",
        home=rng.choice(places.households[community.pk]),
        channel=Channel.RESIDENT,
    )
    # earlier in the autumn: a drain sent to the wrong unit and reassigned; a stairwell light whose
    # requester stayed unsatisfied past the maximum of reopens (under supervision since)
    plan(
        wd(30),
        9,
        fate=Fate(top=H.SUBDISTRICT, department=True, reassign=True),
        code="municipal-drain",
        home=rng.choice(places.households[community.pk]),
        channel=Channel.RESIDENT,
    )
    plan(wd(40), 10, fate=Fate(unsatisfied=3), code="corridor-light", channel=Channel.RESIDENT)
    # 区住建委: a roof leak sent to it today (to accept), one in hand with an extension to decide
    at_unit = lambda r: r.level == H.DEPARTMENT and r.state == S.SUBMITTED  # noqa: E731
    plan(
        wd(1),
        9,
        fate=Fate(top=H.SUBDISTRICT, department=True, hold=at_unit),
        code="leak-roof",
        channel=Channel.RESIDENT,
    )
    plan(
        wd(4),
        9,
        fate=Fate(
            extension="grant",
            top=H.SUBDISTRICT,
            department=True,
            hold=_state_is(S.EXTENSION_REQUESTED),
        ),
        code="leak-wall",
        channel=Channel.RESIDENT,
    )


# the problems many neighbours report in the last weeks: the hotspots of this month
CLUSTERS = (
    (0, "utilities-heating", "我们楼暖气不热，室温只有十五六度，老人冻得受不了"),
    (2, "charging-wires", "楼里有人从窗户拉电线给电动车充电，太危险了"),
    (4, "noise-night", "小区旁边工地夜里施工，我们这几栋楼吵得睡不着觉"),
    (6, "property-lift", "我们单元电梯又坏了，楼上老人只能爬楼"),
)


def plan_clusters(loop: _Loop, today: date) -> None:
    """Several households of one compound report the same problem within three weeks (the detection
    job makes them this month's hotspots)."""
    rng = random.Random(loop.rng.random())
    for index, code, text in CLUSTERS:
        if index >= len(loop.places.communities) or code not in loop.categories:
            continue
        community = loop.places.communities[index]
        households = loop.places.households[community.pk]
        start = rng.randrange(0, max(1, len(households) - 60))
        for _i in range(rng.randrange(5, 8)):
            day = today - timedelta(days=rng.randrange(1, 21))
            when = loop.office(day, rng)
            seed = rng.random()
            household = rng.choice(households[start : start + 60])  # fewer than 60 in a small one
            loop.year.at(
                when,
                lambda c=community, h=household, s=seed, k=code, t=text: loop.submit(
                    c,
                    random.Random(s),
                    household=h,
                    category=loop.categories[k],
                    channel=Channel.RESIDENT,
                    description=t,
                ),
            )
