"""The permission matrix's generator: every page route of the URL configuration, the personas, and a
world of objects — each twice, once inside community 1 (entrance A) and once outside it (community 2,
entrance X) — so a route with URL arguments can be asked for an object in and out of the asker's scope.

- `page_routes()` walks django.urls.get_resolver() and returns every named page route (namespace:name →
  its URL argument names), leaving out what is no page of ours: the Django admin, the JSON API (its own
  matrix: linjialin/tests/test_permission_matrix.py), the language switch and the JavaScript catalogue.
- `build_world()` makes the place tree, the personas of linjialin/testing/plugin.py (same mobiles, roles
  and places) and one object of each kind a route names, through the services where a test needs the
  real thing (requests, mediation cases, tokens) and as plain rows where only their existence matters.
- `OBJECT_OF` says which object a URL argument names, per namespace (`pk` is a request under
  requests: and a notice under notifications:); a route's row may name another.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

# what is not a page of ours (see the module docstring)
SKIP_NAMESPACES = {"admin", "api"}
SKIP_NAMES = {"set_language", "javascript-catalog"}


def page_routes() -> dict[str, tuple[str, ...]]:
    """Every named page route → the names of its URL arguments, in order."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(resolver, namespace: str, converters: tuple[str, ...]):
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                ns = ":".join(p for p in (namespace, item.namespace) if p)
                if (item.namespace or "") in SKIP_NAMESPACES:
                    continue
                walk(item, ns, converters + tuple(getattr(item.pattern, "converters", {})))
            elif isinstance(item, URLPattern):
                if not item.name or item.name in SKIP_NAMES:
                    continue
                args = converters + tuple(getattr(item.pattern, "converters", {}))
                if not args:
                    args = tuple(item.pattern.regex.groupindex)
                found[f"{namespace}:{item.name}" if namespace else item.name] = args

    walk(get_resolver(), "", ())
    return found


# --- the personas (as linjialin/testing/plugin.py: same mobiles, roles and places) -------------------
PERSONAS = {
    # name: (mobile, display name, role, place attribute of the tree)
    "resident_a": ("13900000001", "张三", "resident", "household_a1"),
    "resident_b": ("13900000002", "王五", "resident", "household_b1"),
    "entrance_leader_a": ("13900000003", "楼门长A", "entrance_leader", "entrance_a"),
    "grid_worker": ("13900000004", "网格员", "grid_worker", "grid_1"),
    "community_worker": ("13900000005", "社区工作者", "community_worker", "community_1"),
    "community_secretary": ("13900000006", "社区书记", "community_secretary", "community_1"),
    "outsider": ("13900000007", "外社区工作者", "community_worker", "community_2"),
    "subdistrict_staff": ("13900000008", "街道干部", "subdistrict_staff", "subdistrict"),
    "subdistrict_dispatcher": ("13900000009", "街道派单员", "subdistrict_dispatcher", "subdistrict"),
    "auditor": ("13900000010", "审计员", "auditor", "subdistrict"),
    "admin": ("13900000011", "系统管理员", "system_admin", "subdistrict"),
    "mediation_manager": ("13900000012", "调解中心主任", "mediation_manager", "subdistrict"),
    "mediator_a": ("13900000013", "调解员甲", "mediator", "community_1"),
    "mediator_b": ("13900000014", "调解员乙", "mediator", "community_2"),
    "lawyer": ("13900000015", "律师", "lawyer", "subdistrict"),
    "counsellor": ("13900000016", "心理咨询师", "counsellor", "subdistrict"),
    # not in the plugin: a resident and a 楼门长 of entrance X (community 2), owners of the objects outside
    "resident_x": ("13900000021", "赵六", "resident", "household_x1"),
    "entrance_leader_x": ("13900000022", "楼门长X", "entrance_leader", "entrance_x"),
}

# URL argument → object, per namespace ("*" for any); a row may override it
OBJECT_OF = {
    ("*", "place_id"): "community",
    ("*", "entrance_id"): "entrance",
    ("*", "household_id"): "household",
    ("*", "resident_id"): "resident",
    ("*", "grant_id"): "grant",
    ("*", "token_id"): "token",
    ("*", "request_id"): "request",
    ("*", "case_id"): "case",
    ("*", "document_id"): "case_document",
    ("*", "session_id"): "screening",
    ("*", "finding_id"): "finding",
    ("*", "hotspot_id"): "hotspot",
    ("*", "theme_id"): "theme",
    ("*", "report_id"): "aid_report",
    ("*", "post_id"): "post",
    ("*", "episode_id"): "episode",
    ("*", "correction_id"): "correction",
    ("requests", "pk"): "request",
    ("requests", "photo_id"): "request_photo",  # requests:board_photo names "board_photo" in its row
    ("notifications", "pk"): "notification",
    ("hotspots", "task_id"): "hotspot_task",
    ("mediation", "task_id"): "prevention_task",
    ("mutual_aid", "task_id"): "emergency_task",
}


def object_for(route: str, arg: str) -> str | None:
    namespace = route.split(":")[0] if ":" in route else ""
    return OBJECT_OF.get((namespace, arg)) or OBJECT_OF.get(("*", arg))


@dataclass
class World:
    tree: object
    users: dict
    inside: dict = field(default_factory=dict)  # object name → object in community 1 (entrance A)
    outside: dict = field(default_factory=dict)  # the same kind in community 2 (entrance X)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build_world() -> World:
    """The tree, the personas and two of every object (inside / outside); run inside a transaction."""
    from linjialin.accounts.services import create_api_token, create_service_account, grant_role
    from linjialin.testing.plugin import make_user
    from linjialin.testing.tree import build_tree

    tree = build_tree()
    users = {
        name: make_user(m, n, role, getattr(tree, place)) for name, (m, n, role, place) in PERSONAS.items()
    }
    for name, record in (
        ("resident_a", tree.resident_a1),
        ("resident_b", tree.resident_b1),
        ("resident_x", tree.resident_x1),
    ):
        record.user = users[name]
        record.save(update_fields=["user"])
    world = World(tree, users)
    sides = (
        (
            world.inside,
            "a",
            tree.community_1,
            tree.grid_1,
            tree.entrance_a,
            tree.household_a1,
            tree.resident_a1,
        ),
        (
            world.outside,
            "x",
            tree.community_2,
            tree.grid_2,
            tree.entrance_x,
            tree.household_x1,
            tree.resident_x1,
        ),
    )
    hotline = create_service_account(None, mobile="19900012345", display_name="12345热线接口")
    for objects, side, community, grid, entrance, household, resident in sides:
        objects.update(
            community=community, grid=grid, entrance=entrance, household=household, resident=resident
        )
        _care_list(resident)
        holder = make_user(f"1370000000{1 if side == 'a' else 2}", f"在任楼门长{side}")
        objects["grant"] = grant_role(None, user=holder, role="entrance_leader", place=entrance, check=False)
        objects["token"] = create_api_token(None, user=hotline, name=f"integration {side}")[0]
        _requests(objects, users, side, household)
        _mediation(objects, users, side, community, grid, entrance)
        _hotspots(objects, users, side, community, entrance)
        _mutual_aid(objects, users, side, community, entrance, household)
        objects["correction"] = _correction(resident, users["resident_a" if side == "a" else "resident_x"])
        _notice(objects, users, side)
    return world


def _care_list(resident):
    """The household goes on the care list: a sensitive tag recorded with the resident's consent."""
    from linjialin.places.models import ResidentTag, TagType

    tag = TagType.objects.filter(sensitive=True).order_by("pk").first()
    ResidentTag.objects.create(resident=resident, tag=tag, path=resident.path, consent_source="本人书面同意")


def _requests(objects, users, side, household):
    from linjialin.service_requests import services
    from linjialin.service_requests.models import Category, RequestPhoto

    requester = users["resident_a" if side == "a" else "resident_x"]
    req = services.submit_request(
        requester,
        place=household,
        request_type="help",
        description="楼道灯坏了",
        category=Category.objects.get(code="corridor"),
        contact_mobile="13912345678",
    )
    objects["request"] = req
    photo = RequestPhoto(
        request=req, content_type="image/png", width=8, height=8, size=len(_png()), uploaded_at=timezone.now()
    )
    photo.file.save(f"matrix-{side}.png", ContentFile(_png()), save=False)
    photo.save()
    objects["request_photo"] = photo
    # a resolved request the requester let onto the entrance's board, with an "after" photo
    shown = services.submit_request(
        requester,
        place=household,
        request_type="help",
        description="单元门禁坏了",
        category=Category.objects.get(code="corridor"),
    )
    type(shown).objects.filter(pk=shown.pk).update(
        state="resolved", resolved_at=timezone.now(), board_consent=True
    )
    after = RequestPhoto(
        request=shown,
        after=True,
        content_type="image/png",
        width=8,
        height=8,
        size=len(_png()),
        uploaded_at=timezone.now(),
    )
    after.file.save(f"matrix-after-{side}.png", ContentFile(_png()), save=False)
    after.save()
    objects["board_photo"] = after


def _mediation(objects, users, side, community, grid, entrance):
    from linjialin.mediation.models import CaseDocument, PreventionTask, ScreeningFinding, ScreeningSession
    from linjialin.mediation.services import cases

    mediator = users["mediator_a" if side == "a" else "mediator_b"]
    case = cases.register_case(
        mediator,
        source="screening",
        title="楼上漏水纠纷",
        dispute_type="neighbour",
        place=entrance,
        facts="楼上卫生间漏水，楼下天花板受损。",
        dispute_items="维修费用",
        # the mobiles link the parties to the residents of that side (resident_a and _b; resident_x)
        parties=[
            {"side": "applicant", "name": "张三", "mobile": "13800000001"},
            {"side": "respondent", "name": "王五", "mobile": "13800000003"},
        ]
        if side == "a"
        else [
            {"side": "applicant", "name": "赵六", "mobile": "13800000004"},
            {"side": "respondent", "name": "钱七"},
        ],
    )
    objects["case"] = case
    document = CaseDocument(case=case, kind="other", name="记录.png", uploaded_at=timezone.now())
    document.file.save(f"matrix-case-{side}.png", ContentFile(_png()), save=False)
    document.save()
    objects["case_document"] = document
    now = timezone.now()
    session = ScreeningSession.objects.create(
        place=community, path=community.path, planned_for=now + timedelta(days=3)
    )
    objects["screening"] = session
    finding = ScreeningFinding.objects.create(
        session=session, place=entrance, path=entrance.path, dispute_type="neighbour", description="噪音"
    )
    objects["finding"] = finding
    objects["prevention_task"] = PreventionTask.objects.create(
        finding=finding,
        kind=PreventionTask._meta.get_field("kind").choices[0][0],
        title="回访",
        place=entrance,
        path=entrance.path,
        due_on=timezone.localdate() + timedelta(days=7),
        created_at=now,
    )


def _hotspots(objects, users, side, community, entrance):
    from linjialin.hotspots.models import DetectionRun, Hotspot, MonthlyTheme, ProactiveTask

    now = timezone.now()
    run = DetectionRun.objects.create(
        started_at=now, finished_at=now, window_start=now - timedelta(days=30), window_end=now, window_days=30
    )
    objects["hotspot"] = Hotspot.objects.create(
        run=run,
        level="entrance",
        place_key=f"e:{entrance.pk}",
        place_label=entrance.name,
        path=entrance.path,
        label="楼道灯坏了",
        count=5,
        previous_count=1,
        households=3,
        spread=1,
        score=5.0,
        rank=1,
    )
    owner = users["entrance_leader_a" if side == "a" else "entrance_leader_x"]
    objects["hotspot_task"] = ProactiveTask.objects.create(
        title="楼道灯集中更换",
        level="entrance",
        place_key=f"e:{entrance.pk}",
        place_label=entrance.name,
        path=entrance.path,
        owner=owner,
        deadline=timezone.localdate() + timedelta(days=14),
        created_at=now,
    )
    objects["theme"] = MonthlyTheme.objects.create(
        month=timezone.localdate().replace(day=1),
        title="楼道照明",
        place=community,
        path=community.path,
        created_at=now,
    )


def _mutual_aid(objects, users, side, community, entrance, household):
    from linjialin.mutual_aid.models import EmergencyTask, Episode, Post, Report

    now = timezone.now()
    author = users["resident_a" if side == "a" else "resident_x"]
    post = Post.objects.create(
        kind="need",
        category=Post._meta.get_field("category").choices[0][0],
        text="家里缺退烧药",
        author=author,
        household=household,
        entrance=entrance,
        community=community,
        path=household.path,
        expires_at=now + timedelta(days=1),
        created_at=now,
    )
    post.photo.save(f"matrix-post-{side}.png", ContentFile(_png()))
    objects["post"] = post
    objects["aid_report"] = Report.objects.create(
        post=post,
        path=post.path,
        reason=Report._meta.get_field("reason").choices[0][0],
        reporter=author,
        created_at=now,
    )
    episode = Episode.objects.create(
        community=community,
        path=community.path,
        kind=Episode._meta.get_field("kind").choices[0][0],
        title="停水应急",
        banner="今晚停水",
        started_at=now,
    )
    objects["episode"] = episode
    objects["emergency_task"] = EmergencyTask.objects.create(
        episode=episode,
        entrance=entrance,
        path=entrance.path,
        kind=EmergencyTask._meta.get_field("kind").choices[0][0],
        created_at=now,
    )


def _notice(objects, users, side):
    from linjialin.notifications.models import Notification

    owner = users["resident_a" if side == "a" else "resident_b"]
    objects["notification"] = Notification.objects.create(user=owner, kind="matrix", title="通知")


def _correction(resident, owner):
    """The resident's own request to correct their record (PIPL), open."""
    from linjialin.places.corrections import request_correction

    return request_correction(owner, resident, field="birth_year", value="1960", note="出生年份登记错了")
