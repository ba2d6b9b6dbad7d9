"""Demo data for the mediation centre: a year of the centre's work in 通运街道 whose totals match the
article — 74 screening sessions, 427 legal consultations, 149 disputes resolved (agreements reached) —
plus cases still open today (waiting for consent, in mediation, one with a risk flag), so the desk, the
case files, the party's view and the reports have something true to show.

Everything goes through the services, like real use, in the order it would have happened: the steps of
all the cases, sessions and consultations are queued by time and run one after another with the clock
set to each step's time (core/demo_clock.py: only in the single-threaded demo command), so the timelines,
the audit trail (hash-chained, in time order) and the figures agree. Called by `linjialin demo`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linjialin.accounts.models import User
from linjialin.core import demo_clock
from linjialin.core.calendar import next_working_day
from linjialin.places.demo import TONGYUN
from linjialin.places.models import Level, Place, Resident

from . import selectors
from .models import (
    Case,
    DisputeType,
    FollowUp,
    MediationRules,
    Performance,
    PreventionTask,
    ReferralChannel,
    ReferredBy,
    RiskLevel,
    Source,
    TaskKind,
    TaskState,
    TeamRole,
)
from .services import cases as case_services
from .services import screening as screening_services

ARTICLE = {"screening_sessions": 74, "consultations": 427, "resolved": 149}
LAST_AGREEMENT_DAYS = 55  # a case registered later than this before today may still be in mediation
SEED = 2026

MANAGER, MEDIATOR, LAWYER, COUNSELLOR = "13800000023", "13800000015", "13800000012", "13800000014"
POLICE, JUDGE, RESPECTED, SOCIAL_WORKER = "13800000016", "13800000017", "13800000018", "13800000013"
RESIDENT = "13800000001"  # the demo resident: one open application of their own, one closed case

T = DisputeType
# type → share of the cases, and (title, facts, the duty agreed) templates; {a} {b}: the parties
CASE_TEXTS: dict[str, tuple[float, list[tuple[str, str, str]]]] = {
    T.NEIGHBOUR: (
        0.36,
        [
            (
                "楼上漏水殃及楼下",
                "{a}家卫生间防水层老化，多次渗水至楼下{b}家，致天花板和墙面霉变。{b}要求修复并赔偿，双方对损失金额有争议。",
                "{a}请专业人员重做卫生间防水，并承担{b}家天花板、墙面修复费用{money}元",
            ),
            (
                "夜间噪音扰民",
                "{b}反映楼上{a}家夜间十一点后仍有拖动家具、跳绳等声响，多次沟通未果，双方发生口角。",
                "{a}晚十点后不做跳绳等高噪声活动，在常用家具脚加装防噪垫",
            ),
            (
                "楼道堆物占用公共空间",
                "{a}在楼道长期堆放纸箱和旧家具，{b}认为影响通行和消防安全，双方多次争吵。",
                "{a}清理楼道堆放物品，今后不在公共楼道堆物",
            ),
            (
                "空调外机噪音与滴水",
                "{a}家空调外机正对{b}家卧室窗户，运行噪音大且冷凝水滴落在{b}家窗台。",
                "{a}移装空调外机并加装冷凝水管，费用{money}元由{a}承担",
            ),
            (
                "宠物犬扰邻",
                "{a}饲养的犬只在楼道吠叫、未拴绳，曾追逐{b}家孩子，{b}要求{a}规范养犬。",
                "{a}出门牵绳并为犬只办理登记，楼道内不放任犬只吠叫",
            ),
        ],
    ),
    T.PROPERTY_MGMT: (
        0.18,
        [
            (
                "拖欠物业费与服务质量争议",
                "{b}以电梯多次故障、楼道保洁不到位为由拒交两年物业费，{a}要求补交。",
                "{b}分期补交物业费{money}元，{a}在一个月内完成电梯维保整改并公示",
            ),
            (
                "地下车位收费争议",
                "{b}对地下车位管理费上调有异议，认为未经业主公示，{a}坚持按新标准收费。",
                "{a}暂按原标准收费并在一个月内公示调价依据，{b}按原标准缴费",
            ),
        ],
    ),
    T.MARRIAGE_FAMILY: (
        0.14,
        [
            (
                "赡养老人费用分担",
                "老人由{a}长期照顾，{b}多年未承担赡养费用，双方因老人医药费分担发生争执。",
                "{b}每月支付老人赡养费{money}元，医药费由双方各半承担",
            ),
            (
                "家庭矛盾与房屋居住",
                "{a}与{b}系母子，因居住空间和家务分担长期不和，多次争吵惊动邻居。",
                "{b}每周两次回家照顾{a}，双方各自房间互不干涉",
            ),
        ],
    ),
    T.HOUSING: (
        0.10,
        [
            (
                "房屋租赁押金退还",
                "{b}租住{a}房屋一年，退租时{a}以墙面损坏为由扣留押金，{b}认为属正常使用损耗。",
                "{a}退还押金{money}元，{b}承担墙面修补材料费",
            ),
            (
                "公共墙体裂缝维修",
                "{a}与{b}两户共用墙体出现裂缝，双方对维修责任和费用分担有争议。",
                "两户共同委托施工队维修，费用{money}元由双方均摊",
            ),
        ],
    ),
    T.DAMAGES: (
        0.09,
        [
            (
                "电动车碰撞致伤",
                "{a}在小区内骑电动车碰倒{b}，致其手臂骨裂，双方对医药费和误工费数额有争议。",
                "{a}赔偿{b}医药费、误工费共计{money}元",
            ),
            (
                "高空坠物损坏车辆",
                "{a}家阳台花盆坠落砸坏{b}停放的小轿车前挡风玻璃。",
                "{a}赔偿{b}车辆维修费{money}元",
            ),
        ],
    ),
    T.LABOUR: (
        0.05,
        [
            (
                "装修工人工资拖欠",
                "{b}为{a}家装修工作二十天，{a}以工程质量问题为由拒付尾款。",
                "{a}支付{b}工资{money}元，{b}返修卫生间瓷砖",
            ),
        ],
    ),
    T.CONTRACT: (
        0.05,
        [
            (
                "家具定制合同纠纷",
                "{a}在{b}处定制衣柜，交付尺寸与约定不符，{a}要求退款，{b}同意修改不同意退款。",
                "{b}按约定尺寸重新制作并于二十日内安装，{a}验收后付清余款{money}元",
            ),
        ],
    ),
    T.OTHER: (
        0.03,
        [
            (
                "小区健身器材使用矛盾",
                "{a}等老人晨练时与{b}等带孩子的家长因健身器材使用时间发生争执。",
                "双方约定晨练时段与儿童使用时段，由社区张贴公示",
            ),
        ],
    ),
}
CONSULT_TOPICS = {
    T.MARRIAGE_FAMILY: (
        0.22,
        ["离婚后子女抚养费如何计算？", "父母去世后房产如何继承？", "老人再婚后的财产如何约定？"],
        "介绍民法典婚姻家庭编与继承编相关规定，建议保留证据，必要时申请调解或诉讼。",
    ),
    T.NEIGHBOUR: (
        0.2,
        ["楼上漏水楼下损失找谁赔？", "邻居在公共区域堆物怎么办？", "邻居装修噪音如何维权？"],
        "说明相邻关系的法律规定，建议先协商，协商不成可申请社区人民调解。",
    ),
    T.PROPERTY_MGMT: (
        0.15,
        ["物业服务不到位能否拒交物业费？", "车位管理费上涨是否需要公示？"],
        "说明物业服务合同双方义务，建议通过业委会沟通，拒交物业费存在违约风险。",
    ),
    T.LABOUR: (
        0.14,
        ["单位不签劳动合同怎么办？", "被拖欠工资如何追讨？", "退休返聘受伤算工伤吗？"],
        "说明劳动合同法相关规定，建议保留工资凭证，可向劳动监察投诉或申请劳动仲裁。",
    ),
    T.HOUSING: (
        0.12,
        ["租房押金被扣如何维权？", "老旧小区加装电梯费用如何分摊？"],
        "说明租赁合同与共有部分的相关规定，建议书面协商并保留沟通记录。",
    ),
    T.CONTRACT: (
        0.09,
        ["网购商品质量问题如何退货？", "借款没有借条能否起诉？"],
        "说明合同与证据规则，建议收集聊天记录、转账记录等证据。",
    ),
    T.DAMAGES: (
        0.08,
        ["被狗咬伤医药费谁承担？", "小区内摔伤物业有责任吗？"],
        "说明侵权责任的构成和举证，建议及时就医并保留票据。",
    ),
}
FINDINGS = [
    (T.NEIGHBOUR, "两户因楼道堆物多次争吵，情绪激动", "楼道两户居民"),
    (T.NEIGHBOUR, "楼上楼下因漏水问题关系紧张", "上下层两户"),
    (T.PROPERTY_MGMT, "部分业主对停车管理费调整不满，酝酿集体拒缴", "业主与物业公司"),
    (T.MARRIAGE_FAMILY, "独居老人子女长期不探望，老人情绪低落，有赡养纠纷苗头", "老人及其子女"),
    (T.HOUSING, "群租房住户与邻居因卫生问题矛盾突出", "群租房住户与邻居"),
    (T.DAMAGES, "电动车楼道充电引发邻里担忧", "电动车车主与邻居"),
    (T.OTHER, "广场舞音量扰民，投诉增多", "广场舞队与周边住户"),
]
LESSONS = [
    "相邻关系纠纷早介入、早调解，楼门长第一时间上报是关键。",
    "涉及费用的纠纷先请第三方评估，调解时有据可依。",
    "当事人情绪激动时先由心理咨询师疏导，再进入调解。",
    "同类问题在多个楼门出现，应推动修订居民公约。",
]
TASK_NOTES = {
    TaskKind.TALK: "已召开楼门议事会，居民达成共识并写入楼门公约。",
    TaskKind.PROMPT: "已上门督促，义务方承诺一周内履行。",
}
ORGANISATIONS = {
    T.PROPERTY_MGMT: "通运物业服务公司",
    T.LABOUR: "鑫达装饰工程队",
    T.CONTRACT: "宜居定制家具店",
}


_at = demo_clock.at


class _Year(demo_clock.Year):
    """The year's queue, every step moved into the centre's office hours."""

    def at(self, when: datetime, fn: Callable[[], None]) -> None:
        super().at(demo_clock.working(when), fn)


def _weighted(rng: random.Random, table: dict) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k][0] for k in keys])[0]


def _period(today: date) -> tuple[date, date]:
    """The demo year: this calendar year up to yesterday (the previous one early in January–February)."""
    start = demo_clock.year_start(today)
    return start, (today if start.year == today.year else date(today.year, 1, 1))


class _Centre:
    def __init__(self, subdistrict: Place, rng: random.Random, today: date):
        self.rng, self.today = rng, today
        self.start, self.end = _period(today)
        self.days = (self.end - self.start).days
        users = {u.mobile: u for u in User.objects.filter(mobile__startswith="138000000")}
        self.manager, self.mediator, self.lawyer = users[MANAGER], users[MEDIATOR], users[LAWYER]
        self.counsellor, self.police, self.judge = users[COUNSELLOR], users[POLICE], users[JUDGE]
        self.respected, self.social_worker = users[RESPECTED], users[SOCIAL_WORKER]
        self.resident_user = users.get(RESIDENT)
        self.resident_record = (
            Resident.objects.filter(user=self.resident_user).select_related("household").first()
            if self.resident_user
            else None
        )
        self.communities = list(
            Place.objects.filter(parent=subdistrict, level=Level.COMMUNITY).order_by("path")
        )
        self.home = Place.objects.filter(pk=self.mediator.grants.first().place_id).first()  # the mediator's
        self.grids = {
            c.pk: list(Place.objects.filter(parent=c, level=Level.GRID).order_by("path"))
            for c in self.communities
        }
        self.residents: dict[int, list[Resident]] = {}
        for community in self.communities:  # 400 adults spread over the community's entrances
            ids = list(
                Resident.objects.filter(path__startswith=community.path, birth_year__lte=today.year - 22)
                .exclude(mobile__startswith="1380000000")
                .order_by("id")
                .values_list("id", flat=True)
            )
            chosen = rng.sample(ids, min(400, len(ids)))
            self.residents[community.pk] = list(
                Resident.objects.filter(pk__in=chosen).select_related("household").order_by("id")
            )
        self.year = _Year(today)
        self.counts = {"cases": 0, "sessions": 0, "consultations": 0}

    # --- helpers ------------------------------------------------------------------------------------
    def day(self, lo: float = 0.0, hi: float = 1.0) -> date:
        return self.start + timedelta(days=int(self.days * self.rng.uniform(lo, hi)))

    def office_time(self, day: date) -> datetime:
        """A time in office hours on `day`, or on the next working day (9:00–16:45)."""
        day = next_working_day(day, inclusive=True)
        return _at(day, self.rng.randint(9, 16), self.rng.choice((0, 15, 30, 45)))

    def lead_for(self, community: Place):
        return self.mediator if community.pk == self.home.pk else self.manager

    def two_residents(self, community: Place) -> tuple[Resident, Resident]:
        pool = self.residents[community.pk]
        a = self.rng.choice(pool)
        b = self.rng.choice([r for r in pool if r.household_id != a.household_id])
        return a, b

    @staticmethod
    def party(resident: Resident, side: str) -> dict:
        return {
            "side": side,
            "kind": "person",
            "name": resident.name,
            "mobile": resident.mobile,
            "id_number": resident.id_number,
            "address": resident.household.name,
            "resident": resident,
        }

    # --- screening and consultations ---------------------------------------------------------------
    def plan_screenings(self, held: int, upcoming: int) -> int:
        """Queue the year's screening sessions with their findings and what becomes of each (drawn now,
        so the cases they start are known in advance). Returns how many of those cases will end in an
        agreement inside the year."""
        agreements = 0
        for i in range(held):
            community = self.communities[i % len(self.communities)]
            grids = self.grids[community.pk]
            place = grids[(i // len(self.communities)) % len(grids)] if grids and i % 3 == 2 else community
            day = self.start + timedelta(days=int(self.days * (i + 0.5) / held))
            planned = self.office_time(day)
            findings = []
            for _j in range(self.rng.choice((0, 1, 1, 2, 2, 3))):
                kind, text, parties = self.rng.choice(FINDINGS)
                level = self.rng.choices(list(RiskLevel.values), weights=(6, 3, 1))[0]
                roll = self.rng.random()
                action = (
                    "case" if roll < 0.30 else "task" if roll < 0.55 else "close" if roll < 0.95 else "open"
                )
                # a case from late in the year is still in mediation today
                outcome = (
                    self.pick_outcome() if day < self.end - timedelta(days=LAST_AGREEMENT_DAYS) else "ongoing"
                )
                if action == "case" and outcome == "agree":
                    agreements += 1
                findings.append((kind, text, parties, level, action, outcome))
            self.year.at(
                planned - timedelta(days=7),
                lambda p=place, t=planned, f=findings: self._plan_and_hold(p, t, f),
            )
        for i in range(upcoming):  # planned yesterday for the coming weeks
            community = self.communities[i % len(self.communities)]
            when = self.office_time(self.today + timedelta(days=5 + 7 * i))
            self.year.at(
                _at(demo_clock.last_working_day_before(self.today), 17, i),
                lambda c=community, t=when: screening_services.plan_screening(
                    self.lead_for(c), place=c, planned_for=t, location="社区议事厅"
                ),
            )
        return agreements

    def _plan_and_hold(self, place: Place, planned: datetime, findings: list) -> None:
        community = place if place.level == Level.COMMUNITY else place.parent
        actor = self.lead_for(community)
        session = screening_services.plan_screening(
            actor, place=place, planned_for=planned, location="社区议事厅"
        )
        self.year.at(planned, lambda: self._hold(actor, session, community, planned, findings))

    def _hold(self, actor, session, community: Place, held_at: datetime, findings: list) -> None:
        screening_services.record_screening(
            actor,
            session,
            held_at=held_at,
            participants="社区书记\n网格员\n楼门长代表\n社区民警\n调解员",
            summary="逐楼门排查矛盾纠纷隐患，重点关注独居老人、出租房屋和物业服务。",
        )
        self.counts["sessions"] += 1
        for kind, text, parties, level, action, outcome in findings:
            finding = screening_services.add_finding(
                actor,
                session,
                place=session.place,
                dispute_type=kind,
                level=level,
                description=text,
                parties=parties,
            )
            later = held_at + timedelta(days=self.rng.randint(1, 5), hours=1)
            if action == "case":
                self.year.at(later, lambda f=finding, o=outcome: self._finding_case(actor, f, community, o))
            elif action == "task":
                self.year.at(later, lambda f=finding: self._finding_task(actor, f))
            elif action == "close":
                self.year.at(
                    later,
                    lambda f=finding: screening_services.close_finding(
                        actor, f, note="经楼门长上门沟通，双方已和解，持续关注。"
                    ),
                )

    def _finding_task(self, actor, finding) -> None:
        screening_services.finding_to_task(
            actor,
            finding,
            kind=TaskKind.TALK,
            title="楼门议事会：" + finding.description[:20],
            due_on=timezone.localdate() + timedelta(days=14),
            owner=actor,
        )
        self.finish_tasks(PreventionTask.objects.filter(finding=finding, state=TaskState.OPEN), actor)

    def _finding_case(self, actor, finding, community: Place, outcome: str) -> None:
        a, b = self.two_residents(community)
        _share, texts = CASE_TEXTS.get(finding.dispute_type, CASE_TEXTS[T.NEIGHBOUR])
        title, facts, duty = self.rng.choice(texts)
        case = screening_services.finding_to_case(
            actor,
            finding,
            place=a.household.parent,
            title=title,
            facts=facts.format(a=a.name, b=b.name),
            parties=[self.party(a, "applicant"), self.party(b, "respondent")],
        )
        self.counts["cases"] += 1
        if case.risk_flag:  # a high-risk finding: the police are told the same day
            case_services.notify_police(actor, case, how="电话告知社区民警，民警已到场了解情况")
        self.mediate(case, actor, duty, (a.name, b.name), outcome=outcome)

    def plan_consultations(self, n: int) -> None:
        for _i in range(n):
            day = self.day()
            when = self.office_time(day)
            if when.date() >= self.end:
                when = self.office_time(self.end - timedelta(days=3))
            community = self.rng.choice(self.communities)
            self.year.at(when, lambda c=community, t=when: self._consult(c, t))

    def _consult(self, community: Place, when: datetime) -> None:
        topic = _weighted(self.rng, CONSULT_TOPICS)
        _share, questions, answer = CONSULT_TOPICS[topic]
        anonymous = self.rng.random() < 0.3
        resident = None if anonymous else self.rng.choice(self.residents[community.pk])
        screening_services.log_consultation(
            self.lawyer,
            place=community,
            asked_at=when,
            topic=topic,
            anonymous=anonymous,
            resident=resident,
            asker_name="" if anonymous else resident.name,
            question=self.rng.choice(questions),
            lawyer=self.lawyer,
            answer=answer,
            referral=self.rng.choice(("", "", "", "社区人民调解委员会", "区劳动人事争议仲裁委员会")),
        )
        self.counts["consultations"] += 1

    # --- cases --------------------------------------------------------------------------------------
    def pick_outcome(self) -> str:
        return self.rng.choices(["agree", "fail", "withdraw", "refuse"], weights=(149, 16, 7, 5))[0]

    def plan_case(self, day: date, *, outcome: str, source: str | None = None) -> None:
        when = self.office_time(day)
        self.year.at(when, lambda: self._register(outcome, source))

    def _register(self, outcome: str, source: str | None) -> None:
        community = self.rng.choice(self.communities)
        kind = _weighted(self.rng, CASE_TEXTS)
        title, facts, duty = self.rng.choice(CASE_TEXTS[kind][1])
        a, b = self.two_residents(community)
        parties = [self.party(a, "applicant"), self.party(b, "respondent")]
        if self.resident_record is not None and community.pk == self.home.pk and outcome == "agree":
            a = self.resident_record  # the demo resident: one case of their own, from earlier in the year
            parties[0] = {**self.party(a, "applicant"), "user": self.resident_user}
            self.resident_record = None
        names = (a.name, b.name)
        if kind in ORGANISATIONS:
            org = ORGANISATIONS[kind]
            parties[0 if kind == T.PROPERTY_MGMT else 1] = {
                "side": "applicant" if kind == T.PROPERTY_MGMT else "respondent",
                "kind": "organisation",
                "name": org,
                "address": community.name,
                "representative": "负责人",
            }
            names = (org, b.name) if kind == T.PROPERTY_MGMT else (a.name, org)
        source = source or self.rng.choices([Source.APPLICATION, Source.REFERRAL], weights=(7, 3))[0]
        referral = {}
        if source == Source.REFERRAL:
            by = self.rng.choice(list(ReferredBy.values))
            body = {"police": "通运派出所", "court": "区人民法院诉前调解", "department": "街道综治中心"}[by]
            referral = {"referred_by": by, "referring_body": body}
        actor = self.lead_for(community)
        case = case_services.register_case(
            actor,
            source=source,
            title=title,
            dispute_type=kind,
            place=a.household.parent,  # the entrance where it happens
            facts=facts.format(a=names[0], b=names[1]),
            dispute_items="责任认定与费用承担",
            parties=parties,
            **referral,
        )
        self.counts["cases"] += 1
        self.mediate(case, actor, duty, names, outcome=outcome)

    def mediate(self, case: Case, actor, duty: str, names: tuple[str, str], *, outcome: str) -> None:
        """Queue the case's steps after its registration (now)."""
        now = timezone.now()
        rng = self.rng
        consent_at = now + timedelta(hours=rng.randint(2, 40))
        if outcome == "refuse":
            self.year.at(consent_at, lambda: self._refuse(case, actor))
            return
        self.year.at(consent_at, lambda: self._consent_and_accept(case, actor))
        session_at = consent_at + timedelta(days=rng.randint(2, 9), hours=1)
        self.year.at(session_at, lambda: self._session(case, actor, names))
        end_at = session_at + timedelta(days=rng.choice((0, 1, 3, 5, 8, 12, 20, 33)), hours=2)
        if (end_at - consent_at).days > 25:
            self.year.at(end_at - timedelta(days=8), lambda: self._extend(case, actor))
        if outcome == "ongoing":
            return  # still in mediation today
        if outcome == "agree":
            self.year.at(end_at, lambda: self._agree(case, actor, duty, names))
        elif outcome == "fail":
            self.year.at(end_at, lambda: self._fail(case, actor))
        else:
            self.year.at(
                end_at,
                lambda: case_services.withdraw_case(
                    actor, _fresh(case), reason="申请人撤回调解申请，双方自行和解"
                ),
            )

    def _refuse(self, case: Case, actor) -> None:
        case = _fresh(case)
        respondent = case.parties.filter(side="respondent").first()
        case_services.record_consent(
            actor,
            case,
            respondent,
            consent="refused",
            rights_told=True,
            note="被申请人明确表示不同意调解，要求直接诉讼",
        )

    def _consent_and_accept(self, case: Case, actor) -> None:
        case = _fresh(case)
        for party in case.parties.all():
            case_services.record_consent(
                actor, case, party, consent="given", rights_told=True, note="当面告知权利义务，签署调解申请书"
            )
        case_services.accept_case(actor, _fresh(case))
        case = _fresh(case)
        helper = {
            T.MARRIAGE_FAMILY: (self.counsellor, TeamRole.COUNSELLOR),
            T.DAMAGES: (self.lawyer, TeamRole.LAWYER),
            T.LABOUR: (self.lawyer, TeamRole.LAWYER),
            T.CONTRACT: (self.lawyer, TeamRole.LAWYER),
            T.NEIGHBOUR: (self.respected, TeamRole.RESPECTED),
        }.get(case.dispute_type)
        if (
            helper
            and helper[0].pk != actor.pk
            and (helper[0] != self.respected or case.place_id == self.home.pk)
        ):
            case_services.add_member(actor, case, user=helper[0], role=helper[1])
            if helper[1] == TeamRole.COUNSELLOR:
                case_services.add_counselling_note(
                    helper[0], case, text="当事人情绪焦虑，进行了情绪疏导，建议调解时避免当面指责。"
                )

    def _session(self, case: Case, actor, names: tuple[str, str]) -> None:
        case = _fresh(case)
        if case.state != "accepted":
            return
        case_services.record_session(
            actor,
            case,
            held_at=timezone.now(),
            location="通运街道全环节多元化解中心调解室",
            public=False,
            attendees=f"{names[0]}、{names[1]}、调解员",
            minutes=f"调解员听取{names[0]}、{names[1]}双方陈述，释明相关法律规定，双方就责任和履行方式充分协商。",
        )

    def _extend(self, case: Case, actor) -> None:
        case = _fresh(case)
        if case.state == "accepted":
            case_services.extend_case(
                actor,
                case,
                days=15,
                reason="需等待第三方评估损失",
                consent_note="双方当事人当面同意延长调解期限",
            )

    def _agree(self, case: Case, actor, duty: str, names: tuple[str, str]) -> None:
        case = _fresh(case)
        if case.state != "accepted":
            return
        rng = self.rng
        today = timezone.localdate()
        money = rng.choice((800, 1500, 2600, 3000, 4800, 6000))
        parties = list(case.parties.order_by("id"))
        written = rng.random() < 0.85
        due = today + timedelta(days=rng.choice((7, 15, 30)))
        text = duty.format(a=names[0], b=names[1], money=money)
        case_services.record_agreement(
            actor,
            case,
            written=written,
            facts=case.facts + "经调解，双方对事实无异议，确认各自责任。",
            terms=text,
            performance=f"于{due:%Y年%m月%d日}前在通运街道全环节多元化解中心履行完毕。",
            signed_on=today,
            # every party signs at the closing session and the committee seals the same day
            signatures={p.pk: today for p in parties} if written else None,
            sealed_on=today if written else None,
            items=[
                {"party": parties[0], "duty": text, "how": "当面交付或转账", "where": "调解室", "due_on": due}
            ],
        )
        case = _fresh(case)
        for followup in FollowUp.objects.filter(case=case).order_by("due_on"):
            visit = _at(followup.due_on, 10) + timedelta(days=rng.randint(0, 2))
            self.year.at(visit, lambda f=followup: self._follow_up(actor, f))
        if written and rng.random() < 0.25 and not selectors.court_exclusion(case):
            applied = next_working_day(today + timedelta(days=rng.randint(3, 12)), inclusive=True)
            self.year.at(_at(applied, 10), lambda: self._court(case, actor, applied))
        self.year.at(_at(today + timedelta(days=rng.randint(95, 100)), 15), lambda: self._close(case, actor))

    def _follow_up(self, actor, followup: FollowUp) -> None:
        followup = FollowUp.objects.select_related("case").get(pk=followup.pk)
        if followup.done_at:
            return
        performance = self.rng.choices(list(Performance.values), weights=(88, 9, 3))[0]
        note = {
            "performed": "电话回访，双方确认协议已履行完毕，邻里关系缓和。",
            "in_progress": "上门回访，协议正在按约定履行。",
            "lapsed": "回访发现义务方未按期履行，已提醒并安排督促。",
        }[performance]
        case_services.record_followup(actor, followup, performance=performance, note=note)
        self.finish_tasks(PreventionTask.objects.filter(followup=followup, state=TaskState.OPEN), actor)

    def _court(self, case: Case, actor, applied: date) -> None:
        case = _fresh(case)
        courts = selectors.competent_courts(case)
        if not courts:
            return
        case_services.record_court_application(
            actor,
            case,
            court=courts[0],
            applied_on=applied,
            consents={p.pk: applied for p in case.parties.all()},
        )
        accepted = next_working_day(applied + timedelta(days=2), inclusive=True)
        decided = next_working_day(accepted + timedelta(days=self.rng.randint(6, 14)), inclusive=True)
        self.year.at(
            _at(accepted, 16),
            lambda: case_services.record_court_step(actor, _fresh(case), state="accepted", on=accepted),
        )
        self.year.at(
            _at(decided, 16),
            lambda: case_services.record_court_step(
                actor, _fresh(case), state="confirmed", on=decided, note="裁定调解协议有效"
            ),
        )

    def _fail(self, case: Case, actor) -> None:
        case = _fresh(case)
        if case.state != "accepted":
            return
        case_services.record_failure(
            actor,
            case,
            channel=self.rng.choice((ReferralChannel.COURT, ReferralChannel.ARBITRATION)),
            detail="告知当事人诉讼/仲裁途径及时效",
            note="双方分歧较大，未能达成协议",
        )
        self.year.at(timezone.now() + timedelta(days=2), lambda: self._close(case, actor))

    def _close(self, case: Case, actor) -> None:
        case = _fresh(case)
        if case.state not in ("agreed", "failed"):
            return
        tasks = []
        if self.rng.random() < 0.2:
            tasks = [
                {
                    "kind": TaskKind.TALK,
                    "title": "楼门议事会：" + case.title,
                    "due_on": timezone.localdate() + timedelta(days=21),
                    "owner": actor,
                }
            ]
        case_services.close_case(actor, case, lesson=self.rng.choice(LESSONS), tasks=tasks)
        self.finish_tasks(
            PreventionTask.objects.filter(case=case, followup=None, state=TaskState.OPEN), actor
        )

    def finish_tasks(self, tasks, actor) -> None:
        """Most prevention and prompting work gets done within three weeks; some is still open today."""
        for task in tasks:
            if self.rng.random() < 0.8:
                done = timezone.now() + timedelta(days=self.rng.randint(3, 20), hours=2)
                self.year.at(
                    done,
                    lambda t=task: case_services.finish_task(
                        actor, PreventionTask.objects.get(pk=t.pk), note=TASK_NOTES.get(t.kind, "已完成。")
                    ),
                )

    # --- open today -----------------------------------------------------------------------------------
    def plan_open_cases(self) -> None:
        """Queue the cases still going on today: six in mediation, one with a risk flag (the police told),
        and the demo resident's own application, waiting for the other side's consent."""
        for i in range(6):
            when = self.office_time(self.today - timedelta(days=5 + 4 * i))
            self.year.at(when, lambda: self._register("ongoing", None))
        recent = demo_clock.last_working_day_before(self.today - timedelta(days=1))
        self.year.at(_at(recent, 10), self._resident_applies)
        self.year.at(_at(recent, 11), self._risky_case)

    def _resident_applies(self) -> None:
        record = (
            Resident.objects.filter(user=self.resident_user).select_related("household").first()
            if self.resident_user
            else None
        )
        if record is not None:
            case_services.apply_for_mediation(
                self.resident_user,
                household=record.household,
                dispute_type=T.NEIGHBOUR,
                title="楼上装修噪音",
                facts="楼上住户装修两个月，周末早上七点就开始电钻施工，多次沟通无果。",
                other_party_name="楼上住户",
                client_token="demo-resident-application",  # noqa: S106 (not a secret)
            )

    def _risky_case(self) -> None:
        a, b = self.two_residents(self.home)
        risky = case_services.register_case(
            self.mediator,
            source=Source.APPLICATION,
            title="家庭矛盾激化",
            dispute_type=T.MARRIAGE_FAMILY,
            place=a.household.parent,
            facts=f"{a.name}与{b.name}因财产分割多次争吵，{b.name}扬言要砸门。",
            parties=[self.party(a, "applicant"), self.party(b, "respondent")],
            risk_flag=True,
            risk_note="一方情绪激动，有过激言行",
        )
        case_services.notify_police(self.mediator, risky, how="电话告知社区民警高卫国，已上门了解情况")


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


DEMO_CENTRE_PHONE = "010-6954 1234"


def load(subdistrict: Place | None = None, *, seed: int = SEED, today: date | None = None) -> dict:
    """Load the year. Returns the counts made. Does nothing (returns {}) without the demo logins."""
    subdistrict = subdistrict or Place.objects.filter(level=Level.SUBDISTRICT).order_by("path").first()
    mobiles = {MANAGER, MEDIATOR, LAWYER, COUNSELLOR, POLICE, JUDGE, RESPECTED, SOCIAL_WORKER}
    if subdistrict is None or User.objects.filter(mobile__in=mobiles).count() < len(mobiles):
        return {}
    if not MediationRules.objects.exists():
        MediationRules.objects.create()
    # the demo centre's (made-up) number, so a party's page shows a call button; an edited one stays
    MediationRules.objects.filter(centre_phone="").update(centre_phone=DEMO_CENTRE_PHONE)
    today = today or timezone.localdate()
    with transaction.atomic():  # one commit for the year (the services' own blocks become savepoints)
        return _load(subdistrict, seed, today)


def _load(subdistrict: Place, seed: int, today: date) -> dict:
    rng = random.Random(seed)
    centre = _Centre(subdistrict, rng, today)
    # the article's totals are the whole subdistrict's (10 communities); a smaller demo gets its share
    share = len(centre.communities) / len(TONGYUN)
    target = {k: round(v * share) for k, v in ARTICLE.items()}
    from_findings = centre.plan_screenings(target["screening_sessions"], upcoming=2)
    centre.plan_consultations(target["consultations"])
    # the cases registered at the desk: the article's 149 agreements less those the screening findings
    # bring, and the other endings in the proportions a centre sees (16 : 7 : 5 per 149 agreements)
    latest = 1 - (LAST_AGREEMENT_DAYS / centre.days)
    outcomes = (
        ["agree"] * max(0, target["resolved"] - from_findings)
        + ["fail"] * round(14 * share)
        + ["withdraw"] * round(6 * share)
        + ["refuse"] * round(4 * share)
    )
    for outcome in outcomes:
        centre.plan_case(centre.day(0.0, latest), outcome=outcome)
    centre.plan_open_cases()
    steps = centre.year.run()
    return {**centre.counts, "steps": steps, "resolved": _resolved(centre)}


def _resolved(centre: _Centre) -> int:
    from . import figures

    subdistrict = centre.communities[0].parent
    return figures.compute(subdistrict, centre.start, centre.end)["resolved"]
