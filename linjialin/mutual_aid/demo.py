"""Demo data for mutual aid: a year of needs and offers in every community (answered, picked, handed
over and thanked; a few left to expire or withdrawn), care visits by the 楼门长 to the households on the
care list, and one past emergency episode (a summer flood in 运河湾) with its door-to-door checks.
Replayed through the services with the clock set to each step (core/demo_clock.py), deterministic by
seed; the authors and helpers are the resident logins the request year made. Called by `linjialin demo`
after the requests."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linjialin.accounts.models import RoleGrant, User
from linjialin.accounts.roles import Role
from linjialin.core import demo_clock
from linjialin.core.calendar import local_date
from linjialin.places.models import Level, Place

from . import care_selectors
from .models import AidCategory, EpisodeKind, Kind, Response, TaskKind
from .services import care, emergency, posts

SEED = 2028
COMMUNITY_WORKER = "13800000007"  # a demo login: the demo's people are there
POSTS_PER_COMMUNITY = 24  # a year's posts in each community (the demo's share; a busy one sees more)
CARE_HOUSEHOLDS_PER_COMMUNITY = 6

NEEDS = {
    AidCategory.LENDING: [
        "想借一个梯子换灯泡，用完马上还",
        "家里来客人，想借两把折叠椅",
        "想借个电钻装窗帘，半小时就好",
    ],
    AidCategory.ERRANDS: [
        "腿脚不方便，谁去超市能帮我带一袋米",
        "快递放在小区门口了，能帮忙拿上楼吗",
        "帮忙取一下药店预订的血压计",
    ],
    AidCategory.ESCORT: ["周三上午要去医院复查，想找人陪一下", "老伴住院，想找人帮忙陪诊半天"],
    AidCategory.CARE: ["下午要出门两小时，想请邻居帮忙照看一下孩子", "家里老人白天一个人，谁有空帮忙看一眼"],
    AidCategory.SKILLS: [
        "水龙头一直滴水，有会修的邻居吗",
        "孩子的自行车链条掉了，求会修的帮忙",
        "电脑连不上网，求懂电脑的邻居看看",
    ],
    AidCategory.OTHER: ["家里的猫跑丢了，橘色的，谁看见请告诉我", "想找邻居一起拼车去通州万达"],
}
OFFERS = {
    AidCategory.LENDING: ["家里有闲置的婴儿推车，谁需要可以借用", "有梯子和工具箱，需要的邻居说一声"],
    AidCategory.ERRANDS: ["周末去菜市场，可以帮楼里老人顺路带菜", "每天下班路过药店，需要带药的可以找我"],
    AidCategory.SKILLS: ["我是电工，楼里谁家电路有问题可以帮看看", "退休数学老师，可以给孩子辅导作业"],
    AidCategory.OTHER: ["家里种的小葱太多了，欢迎邻居来拿", "有几本儿童绘本，送给需要的家庭"],
}
THANKS = ["太感谢了！", "谢谢邻居，帮了大忙", "远亲不如近邻，谢谢！", ""]
VISIT_NOTES = [
    "老人精神状态好，家中整洁，叮嘱注意用电安全",
    "陪老人聊了半小时，反映腿疼，已联系社区医生上门",
    "检查了燃气和电器，无隐患；提醒冬季注意保暖",
    "老人独居，儿女每周来一次，留了楼门长电话",
    "家中暖气正常，帮忙更换了一个灯泡",
]


class _Aid:
    def __init__(self, subdistrict: Place, rng: random.Random, start: date, now: datetime):
        self.rng, self.start, self.now = rng, start, now
        self.year = demo_clock.Year(now.date(), until=now)
        self.counts: Counter = Counter()
        places = {
            p.pk: p
            for p in Place.objects.filter(path__startswith=subdistrict.path, level__lte=Level.ENTRANCE)
        }
        self.communities = sorted(
            (p for p in places.values() if p.level == Level.COMMUNITY), key=lambda p: p.path
        )
        # residents with a login, by entrance (the request year made them): authors and helpers
        self.residents: dict[int, list[tuple[User, Place]]] = {}
        self.leaders: dict[str, User] = {}
        self.workers: dict[str, User] = {}
        for g in (
            RoleGrant.objects.filter(path__startswith=subdistrict.path)
            .filter(role__in=(Role.RESIDENT, Role.ENTRANCE_LEADER, Role.COMMUNITY_WORKER))
            .select_related("user", "place")
            .order_by("path", "pk")
        ):
            if g.role == Role.RESIDENT and g.place.level == Level.HOUSEHOLD:
                self.residents.setdefault(g.place.parent_id, []).append((g.user, g.place))
            elif g.role == Role.ENTRANCE_LEADER:
                self.leaders.setdefault(g.path, g.user)
            else:
                self.workers.setdefault(g.path, g.user)
        self.entrances_of: dict[int, list[int]] = {}
        for entrance_id in self.residents:
            entrance = places.get(entrance_id)
            if entrance is None:
                continue
            community = next(c for c in self.communities if entrance.path.startswith(c.path))
            self.entrances_of.setdefault(community.pk, []).append(entrance_id)
        for ids in self.entrances_of.values():
            ids.sort()

    def attempt(self, fn, counter: str = ""):
        """The step's result, or None when the services refused it."""
        return demo_clock.attempt(self.counts, fn, counter)[1]

    def when(self, day: date) -> datetime:
        hour = self.rng.choice((8, 9, 10, 11, 15, 16, 17, 18, 19, 20))
        return demo_clock.at(day, hour, self.rng.randrange(0, 60))

    # --- posts ---------------------------------------------------------------------------------------------
    def plan_posts(self, per_community: int) -> None:
        days = (self.now.date() - self.start).days
        for community in self.communities:
            entrances = [e for e in self.entrances_of.get(community.pk, []) if len(self.residents[e]) >= 2]
            if not entrances:
                continue
            for i in range(per_community):
                # the last few days of the year too: open posts today
                day = self.start + timedelta(days=self.rng.randrange(days) if i > 1 else days - i - 1)
                entrance = self.rng.choice(entrances)
                seed = self.rng.random()
                self.year.at(self.when(day), lambda e=entrance, s=seed: self.post(e, random.Random(s)))

    def post(self, entrance_id: int, rng: random.Random) -> None:
        (author, household), (helper, helper_home) = rng.sample(self.residents[entrance_id], 2)
        kind = Kind.NEED if rng.random() < 0.75 else Kind.OFFER
        texts = NEEDS if kind == Kind.NEED else OFFERS
        category = rng.choice(sorted(texts))
        post = self.attempt(
            lambda: posts.create_post(
                author, household=household, kind=kind, category=category, text=rng.choice(texts[category])
            ),
            "posts",
        )
        if post is None:
            return
        fate = rng.random()
        now = timezone.now()
        if fate < 0.08:
            self.year.at(now + timedelta(hours=rng.choice((2, 5))), lambda: self.withdraw(post, author))
            return
        if fate < 0.18:
            return  # nobody answers: the sweep lets it expire
        respond_at = now + timedelta(minutes=rng.randrange(15, 240))
        self.year.at(respond_at, lambda: self.respond(post, author, helper, helper_home, rng))

    def withdraw(self, post, author) -> None:
        post.refresh_from_db()
        self.attempt(lambda: posts.withdraw(author, post, reason="已经解决了"), "withdrawn")

    def respond(self, post, author, helper, home, rng: random.Random) -> None:
        post.refresh_from_db()
        response = self.attempt(
            lambda: posts.respond(helper, post, household=home, note="我能帮"), "responses"
        )
        if response is None:
            return
        self.year.at(
            timezone.now() + timedelta(minutes=rng.randrange(10, 120)), lambda: self.pick(post, author, rng)
        )

    def pick(self, post, author, rng: random.Random) -> None:
        post.refresh_from_db()
        response = Response.objects.filter(post=post).order_by("pk").first()
        if response is None or self.attempt(lambda: posts.pick(author, post, response), "handoffs") is None:
            return
        self.year.at(
            timezone.now() + timedelta(hours=rng.choice((1, 3, 20))), lambda: self.finish(post, author, rng)
        )

    def finish(self, post, author, rng: random.Random) -> None:
        post.refresh_from_db()
        self.attempt(lambda: posts.finish(author, post, thanks=rng.choice(THANKS)), "finished")

    def plan_sweeps(self) -> None:
        day = self.start
        while day <= self.now.date():
            self.year.at(demo_clock.at(day, 6, 0), lambda: posts.sweep())
            day += timedelta(days=1)

    # --- care visits ---------------------------------------------------------------------------------------
    def plan_care(self, per_community: int) -> None:
        """The 楼门长 visits a few care-list households of their entrance on or a few days before each planned
        visit (AidRules.care_visit_days apart); the next visit of each is planned after today (the care
        list shows it as due, not overdue)."""
        gap = care.rules().care_visit_days
        for community in self.communities:
            households = care_selectors.care_households_under([community.path])
            households = [h for h in households if self._leader_of(h)][:per_community]
            for household in households:
                leader = self._leader_of(household)
                day = self.start + timedelta(days=self.rng.randrange(0, 40))
                while day < self.now.date():
                    self.year.at(self.when(day), lambda h=household, u=leader: self.visit(u, h))
                    day += timedelta(days=gap - self.rng.randrange(0, min(gap, 6)))

    def _leader_of(self, household: Place) -> User | None:
        return next((u for p, u in self.leaders.items() if household.path.startswith(p)), None)

    def visit(self, leader: User, household: Place) -> None:
        """The household's open plan recorded as made (an unplanned visit closes none: each later plan
        would stay open and the household show overdue); unplanned only the first time."""
        note = self.rng.choice(VISIT_NOTES)
        plan = (
            care_selectors.visits_of(household)
            .filter(done_at__isnull=True)
            .order_by("planned_on", "pk")
            .first()
        )
        if plan is not None:
            self.attempt(lambda: care.record_visit(leader, plan, note=note), "care_visits")
        else:
            self.attempt(
                lambda: care.record_unplanned_visit(leader, household=household, note=note), "care_visits"
            )

    # --- the emergency -------------------------------------------------------------------------------------
    def plan_emergency(self) -> None:
        """A rainstorm flood in July, in the community with 运河湾 (the fifth; the first in a small demo)."""
        community = self.communities[min(4, len(self.communities) - 1)]
        worker = next((u for p, u in self.workers.items() if p == community.path), None)
        day = date(self.start.year, 7, 30)
        if worker is None or demo_clock.at(day, 23) >= self.now:
            return
        self.year.at(demo_clock.at(day, 6, 30), lambda: self.flood(community, worker))

    def flood(self, community: Place, worker: User) -> None:
        episode = self.attempt(
            lambda: emergency.start_episode(
                worker,
                community=community,
                kind=EpisodeKind.FLOOD,
                title="暴雨积水应急",
                banner="暴雨红色预警：地下室和低洼处住户请注意安全，需要帮助请联系楼门长",
            ),
            "episodes",
        )
        if episode is None:
            return
        leaders = [u for p, u in sorted(self.leaders.items()) if p.startswith(community.path)][:6]
        for leader in leaders:
            self.attempt(lambda u=leader: emergency.add_member(worker, episode, user=u), "team")
        entrances = list(
            Place.objects.filter(path__startswith=community.path, level=Level.ENTRANCE).order_by("path")[:6]
        )
        tasks = (
            self.attempt(
                lambda: emergency.create_tasks(
                    worker,
                    episode,
                    kind=TaskKind.DOOR_CHECK,
                    entrances=entrances,
                    note="查看一层和地下室住户",
                )
            )
            or []
        )
        later = timezone.now()
        for i, task in enumerate(tasks):
            member = leaders[i % len(leaders)] if leaders else None
            if member is None:
                break
            later += timedelta(minutes=20)
            self.year.at(later, lambda t=task, m=member: self.check(t, m))
        self.year.at(timezone.now() + timedelta(hours=14), lambda: self.end(episode, worker))

    def check(self, task, member: User) -> None:
        task.refresh_from_db()
        if self.attempt(lambda: emergency.claim_task(member, task)) is not None:
            self.attempt(
                lambda: emergency.finish_task(member, task, result="已逐户敲门，一层住户均安全，无进水"),
                "tasks_done",
            )

    def end(self, episode, worker: User) -> None:
        episode.refresh_from_db()
        self.attempt(
            lambda: emergency.end_episode(
                worker, episode, summary="积水已排净，无人员伤亡，走访了一层和地下室住户"
            ),
            "episodes_ended",
        )


def load(subdistrict: Place | None = None, *, seed: int = SEED, now: datetime | None = None) -> dict:
    """Replay the year of mutual aid up to `now`. Returns the counts ({} without places)."""
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    if subdistrict is None or not User.objects.filter(mobile=COMMUNITY_WORKER).exists():
        return {}  # a demo without its logins (--communities 1) has nobody to post or visit
    now = now or timezone.now()
    start = demo_clock.year_start(local_date(now))
    with transaction.atomic():
        aid = _Aid(subdistrict, random.Random(seed), start, now)
        aid.plan_posts(POSTS_PER_COMMUNITY)
        aid.plan_care(CARE_HOUSEHOLDS_PER_COMMUNITY)
        aid.plan_emergency()
        aid.plan_sweeps()
        steps = aid.year.run()
    return {**aid.counts, "steps": steps}
