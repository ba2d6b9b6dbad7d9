"""Reads of mutual aid posts that depend on who asks (issue 6 §1–§4).

Who sees a post:
- the residents whose household is within the post's current reach: its entrance (reach 1), building (2),
  compound (3), community (4) — compared on the post's copied place columns, one indexed condition per
  level and household;
- its author and the helper the author chose (whatever the state), and anyone who offered help on it
  (they see the post, never the contact);
- the moderators over its household (mutual_aid.moderate: 楼门长, 网格员, community staff), every state,
  hidden posts included (hidden posts are seen by nobody else but the author).
Everyone else — a resident of another community, staff of another community — gets 404, as for a
missing post.

Contact (`contact_for`): only after the pick, only the author and the chosen helper, each seeing the
other side's chosen contact: a masked relay number (the platform relay, "95013 转 <extension>", never the
real mobile) or the door number (the household's name).

Listeners (`listeners_for`, `neighbours_to_tell`): the opted-in residents (Subscription.active) whose
household is related to the post at a level within both the post's reach and their subscription's
reach, whose categories are empty or include the post's, and who are not in their quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linjialin.core.cache import ProcessCache
from linjialin.core.scope import scope_for, under
from linjialin.places.models import Level, Place, Resident

from . import care_selectors
from .models import (
    AidRules,
    ContactKind,
    FeedEntry,
    Handoff,
    Post,
    PostState,
    Reach,
    Report,
    ReportState,
    Response,
    ResponseState,
    Subscription,
)
from .workflow import LIVE_STATES

S = PostState
RELAY_NUMBER = "95013"  # the platform's relay line: "95013 转 1234" reaches the person without their mobile

_rules_cache = ProcessCache("mutual_aid.rules", AidRules, seconds=60)


def rules() -> AidRules:
    """The mutual aid rules (the one row; the model defaults without one), cached per process."""
    return _rules_cache.read("rules", lambda: AidRules.objects.first() or AidRules())


def blocked_words(r: AidRules | None = None) -> list[str]:
    r = r or rules()
    return [w.strip() for w in (r.blocked_medicine_words or "").splitlines() if w.strip()]


# --- where a user lives ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Home:
    """A household of the user (a resident grant), with the place columns posts are compared on."""

    household_id: int
    path: str
    entrance_id: int
    building_id: int | None
    compound_id: int | None
    community_path: str


def community_path(path: str) -> str:
    parts = path.split(".")
    return ".".join(parts[:2]) + "."


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def homes(user) -> list[Home]:
    """The households the user lives in (current resident grants on a household), cached on the user."""
    if not _authenticated(user):
        return []
    if "_aid_homes" not in user.__dict__:
        from linjialin.accounts.roles import Role
        from linjialin.accounts.scope import current_grants

        ids = [
            g.place_id
            for g in current_grants(user)
            if g.role == Role.RESIDENT and g.place.level == Level.HOUSEHOLD
        ]
        places = Place.objects.filter(pk__in=ids).select_related("parent").order_by("path")
        user.__dict__["_aid_homes"] = [home_of(p) for p in places]
    return user.__dict__["_aid_homes"]


def home_of(household: Place) -> Home:
    entrance = household.parent
    return Home(
        household_id=household.pk,
        path=household.path,
        entrance_id=entrance.pk,
        building_id=entrance.building_id,
        compound_id=entrance.compound_id,
        community_path=community_path(household.path),
    )


def home_household(user) -> Place | None:
    """The user's (first) household, or None."""
    found = homes(user)
    return Place.objects.filter(pk=found[0].household_id).first() if found else None


def relation(home: Home, post: Post) -> int | None:
    """How close `home` is to the post: 1 same entrance, 2 same building, 3 same compound, 4 same
    community; None when in another community."""
    if home.entrance_id == post.entrance_id:
        return Reach.ENTRANCE
    if post.building_id and home.building_id == post.building_id:
        return Reach.BUILDING
    if post.compound_id and home.compound_id == post.compound_id:
        return Reach.COMPOUND
    if home.community_path == community_path(post.path):
        return Reach.COMMUNITY
    return None


def household_relation(household: Place, post: Post) -> int | None:
    return relation(home_of(household), post)


def _reach_q(user_homes: Iterable[Home]) -> Q:
    """Posts whose current reach includes one of the homes."""
    condition = Q(pk__in=[])
    for h in user_homes:
        condition |= Q(entrance_id=h.entrance_id)
        if h.building_id:
            condition |= Q(reach__gte=Reach.BUILDING, building_id=h.building_id)
        if h.compound_id:
            condition |= Q(reach__gte=Reach.COMPOUND, compound_id=h.compound_id)
        condition |= Q(reach__gte=Reach.COMMUNITY) & under(h.community_path)
    return condition


# --- posts ------------------------------------------------------------------------------------------------
def _own_q(user) -> Q:
    return (
        Q(author_id=user.pk)
        | Q(pk__in=Response.objects.filter(helper_id=user.pk).values("post_id"))
        | Q(pk__in=Handoff.objects.filter(response__helper_id=user.pk).values("post_id"))
    )


def visible_posts(user) -> QuerySet[Post]:
    """Open posts whose current reach includes the user's household; the user's own posts and those they
    offered help on (hidden ones only to their author); everything under the user's moderation scope."""
    if not _authenticated(user):
        return Post.objects.none()
    moderate = scope_for(user, "mutual_aid.moderate")
    if moderate.everywhere:
        return Post.objects.all()
    condition = (Q(state__in=LIVE_STATES) & _reach_q(homes(user))) | (
        _own_q(user) & (~Q(state=S.HIDDEN) | Q(author_id=user.pk))
    )
    if not moderate.is_empty:
        condition |= moderate.q("path")
    return Post.objects.filter(condition)


def list_posts_for_user(user, *, kind: str | None = None, category: str | None = None, mine=False):
    """The visible posts, newest first (urgent first among the open ones is left to the pages)."""
    qs = visible_posts(user).select_related("household", "author")
    if mine:
        qs = qs.filter(_own_q(user))
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category=category)
    return qs


def open_posts_for_user(user) -> QuerySet[Post]:
    """The open page: open posts in reach of the user's household (and their own open ones)."""
    if not _authenticated(user):
        return Post.objects.none()
    return (
        Post.objects.filter(Q(state__in=LIVE_STATES) & (_reach_q(homes(user)) | Q(author_id=user.pk)))
        .select_related("household", "author")
        .order_by("-urgency", "-created_at", "-id")  # "urgent" sorts after "normal": -urgency puts it first
    )


def get_post_for_user(user, post_id) -> Post:
    """The post, or Http404 when it is missing or the user may not see it."""
    try:
        return visible_posts(user).select_related("household", "author", "entrance").get(pk=post_id)
    except (Post.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_moderate(user, post_or_path) -> bool:
    path = post_or_path if isinstance(post_or_path, str) else post_or_path.path
    return scope_for(user, "mutual_aid.moderate").covers(path)


def sees_care(user, post: Post) -> bool:
    """The care flag is sensitive (a care-list household): shown to those holding mutual_aid.care there."""
    return post.care and scope_for(user, "mutual_aid.care").covers(post.path)


def responses_for(user, post: Post) -> list[Response]:
    """The author (and moderators) see every response; a helper sees their own."""
    qs = Response.objects.filter(post=post).select_related("helper", "household")
    if post.author_id == getattr(user, "pk", None) or may_moderate(user, post):
        return list(qs)
    return list(qs.filter(helper_id=getattr(user, "pk", None)))


def my_response(user, post: Post) -> Response | None:
    return (
        Response.objects.filter(post=post, helper_id=getattr(user, "pk", None))
        .exclude(state=ResponseState.WITHDRAWN)
        .first()
    )


def handoff_of(post: Post) -> Handoff | None:
    return Handoff.objects.filter(post=post).select_related("response__helper", "response__household").first()


def side_of(user, post: Post, handoff: Handoff | None = None) -> str | None:
    """ "requester" (the author), "helper" (the chosen helper) or None."""
    handoff = handoff if handoff is not None else handoff_of(post)
    if handoff is None or not _authenticated(user):
        return None
    if post.author_id == user.pk:
        return "requester"
    if handoff.response.helper_id == user.pk:
        return "helper"
    return None


def relay_extension(handoff: Handoff, side: str) -> str:
    """The 4-digit extension of the relay line that reaches `side` of this hand-off (derived from its id;
    each side has its own)."""
    n = (handoff.pk * 2 + (0 if side == "requester" else 1)) % 9000 + 1000
    return f"{n:04d}"


def relay_number(handoff: Handoff, side: str) -> str:
    return f"{RELAY_NUMBER} 转 {relay_extension(handoff, side)}"


def contact_for(user, post: Post) -> dict | None:
    """The other side's chosen contact, for the author and the chosen helper after the pick; None for
    anyone else and before the pick (and once the post is withdrawn or hidden).

    {"side": whose contact ("requester"/"helper"), "kind": "relay"/"door", "value": "95013 转 1234" or the
    door number, "name": their display name, "mode": the hand-off mode, "guardian": …}"""
    if post.state not in (S.MATCHED, S.DONE):
        return None
    handoff = handoff_of(post)
    mine = side_of(user, post, handoff)
    if mine is None:
        return None
    other = "helper" if mine == "requester" else "requester"
    kind = handoff.helper_contact if other == "helper" else handoff.requester_contact
    if kind == ContactKind.DOOR:
        household = handoff.response.household if other == "helper" else post.household
        value = household.name
    else:
        value = relay_number(handoff, other)
    person = handoff.response.helper if other == "helper" else post.author
    return {
        "side": other,
        "kind": kind,
        "value": value,
        "name": person.display_name,
        "mode": handoff.mode,
        "guardian": handoff.guardian,
        "handoff_id": handoff.pk,
    }


def chain(post: Post) -> list[Post]:
    """The pass-on chain the post belongs to: from its first post down through every post passed on from
    it (breadth first, oldest first). A short walk: chains are a few links long."""
    root, seen = post, {post.pk}
    while root.parent_id and root.parent_id not in seen:
        parent = Post.objects.filter(pk=root.parent_id).first()
        if parent is None:
            break
        seen.add(parent.pk)
        root = parent
    out, level = [root], [root.pk]
    done = {root.pk}
    while level:
        children = list(
            Post.objects.filter(parent_id__in=level).exclude(pk__in=done).order_by("created_at", "id")
        )
        out += children
        level = [c.pk for c in children]
        done.update(level)
    return out


def chain_for_user(user, post: Post) -> list[Post]:
    """The chain's posts the user may see (others are left out)."""
    links = chain(post)
    visible = set(visible_posts(user).filter(pk__in=[p.pk for p in links]).values_list("pk", flat=True))
    return [p for p in links if p.pk in visible]


def subscription_of(user) -> Subscription | None:
    return Subscription.objects.filter(user_id=getattr(user, "pk", None)).first()


# --- ages (minors) ----------------------------------------------------------------------------------------
def age_of(user, household: Place | None = None, *, today=None) -> int | None:
    """The user's age from their resident record (in `household` first), or None when unknown."""
    if not _authenticated(user):
        return None
    records = Resident.objects.filter(user_id=user.pk).exclude(birth_year=None)
    if household is not None:
        own = records.filter(household=household).first()
        if own is not None:
            return own.age(today)
    first = records.order_by("id").first()
    return first.age(today) if first is not None else None


def is_minor(user, household: Place | None = None, *, today=None, r: AidRules | None = None) -> bool:
    age = age_of(user, household, today=today)
    return age is not None and age < (r or rules()).adult_age


# --- who is told ------------------------------------------------------------------------------------------
def in_quiet_hours(sub: Subscription, at: datetime | None = None) -> bool:
    if sub.quiet_from is None or sub.quiet_until is None or sub.quiet_from == sub.quiet_until:
        return False
    t: time = timezone.localtime(at or timezone.now()).time()
    if sub.quiet_from < sub.quiet_until:
        return sub.quiet_from <= t < sub.quiet_until
    return t >= sub.quiet_from or t < sub.quiet_until


def _listeners(
    *,
    path: str,
    entrance_id: int,
    building_id: int | None,
    compound_id: int | None,
    reach: int,
    category: str,
    at: datetime | None,
    exclude: Iterable[int] = (),
    newly: bool,
) -> list:
    """Opted-in users whose household relates to the post at a level ≤ `reach` (exactly `reach` when
    `newly`) and ≤ their subscription's reach, the category wanted, not in quiet hours at `at`."""
    from linjialin.accounts.models import RoleGrant
    from linjialin.accounts.roles import Role

    grants = (
        RoleGrant.objects.current(timezone.localdate(at))
        .filter(role=Role.RESIDENT, place__level=Level.HOUSEHOLD, user__is_active=True)
        .filter(under(community_path(path)))
        .filter(user__aid_subscription__active=True)
        .exclude(user_id__in=list(exclude))
        .values_list(
            "user_id", "place__parent_id", "place__parent__building_id", "place__parent__compound_id"
        )
    )
    closest: dict[int, int] = {}
    for user_id, e, b, c in grants:
        if e == entrance_id:
            rel = Reach.ENTRANCE
        elif building_id and b == building_id:
            rel = Reach.BUILDING
        elif compound_id and c == compound_id:
            rel = Reach.COMPOUND
        else:
            rel = Reach.COMMUNITY
        closest[user_id] = min(rel, closest.get(user_id, Reach.COMMUNITY))
    wanted = {u: rel for u, rel in closest.items() if (rel == reach if newly else rel <= reach)}
    if not wanted:
        return []
    subs = Subscription.objects.filter(user_id__in=list(wanted), active=True).select_related("user")
    out = []
    for sub in subs:
        if sub.reach < wanted[sub.user_id]:
            continue
        if sub.categories and category not in sub.categories:
            continue
        if in_quiet_hours(sub, at):
            continue
        out.append(sub.user)
    out.sort(key=lambda u: u.pk)
    return out


def neighbours_to_tell(post: Post, *, reach: int | None = None, at=None, newly: bool = True) -> list:
    """The opted-in neighbours to tell about `post` at `reach` (default: its current reach): those newly
    reached at that level (`newly`), or everyone in reach."""
    return _listeners(
        path=post.path,
        entrance_id=post.entrance_id,
        building_id=post.building_id,
        compound_id=post.compound_id,
        reach=reach or post.reach,
        category=post.category,
        at=at,
        exclude=[post.author_id],
        newly=newly,
    )


def listeners_for(entry: FeedEntry, *, at=None, newly: bool = True):
    """The opted-in users in reach of a FeedEntry (the live stream's audience for that line): those the
    entry newly reaches (a new post: its entrance; a widening: the new level), or with `newly=False`
    everyone in reach; quiet hours respected at `at` (default now). A QuerySet of users."""
    from django.contrib.auth import get_user_model

    post = entry.post
    users = _listeners(
        path=post.path,
        entrance_id=entry.entrance_id_at,
        building_id=entry.building_id_at,
        compound_id=entry.compound_id_at,
        reach=entry.reach,
        category=entry.category,
        at=at,
        exclude=[post.author_id],
        newly=newly,
    )
    return get_user_model().objects.filter(pk__in=[u.pk for u in users]).order_by("pk")


# --- moderation -------------------------------------------------------------------------------------------
def moderation_queue(user, *, state: str = ReportState.OPEN) -> QuerySet[Report]:
    """Reports at the places the user moderates (mutual_aid.moderate), oldest open first."""
    qs = Report.objects.visible_to(user, "mutual_aid.moderate").select_related("post", "person", "reporter")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("created_at", "id")


def get_report_for_user(user, report_id) -> Report:
    try:
        return Report.objects.visible_to(user, "mutual_aid.moderate").select_related("post").get(pk=report_id)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def hidden_posts_for_moderator(user) -> QuerySet[Post]:
    return Post.objects.visible_to(user, "mutual_aid.moderate").filter(state=S.HIDDEN)


# --- the home page ---------------------------------------------------------------------------------------
@dataclass
class AidHome:
    my_posts: int = 0  # the user's own open posts
    nearby: int = 0  # neighbours' open posts in reach of the user's household (the open page's)
    at_entrances: int | None = None  # open posts under the user's moderation scope (a 楼门长's entrance)
    care_due: int | None = None  # care-list households with a visit overdue (the care page's red count)


def home_counts_for_user(user, *, today=None) -> AidHome:
    """The mutual-aid figures of the user's home page: a few counts, nothing listed."""
    out = AidHome()
    if not _authenticated(user):
        return out
    out.my_posts = Post.objects.filter(state__in=LIVE_STATES, author_id=user.pk).count()
    if homes(user):
        out.nearby = open_posts_for_user(user).exclude(author_id=user.pk).count()
    moderate = scope_for(user, "mutual_aid.moderate")
    if not moderate.is_empty:
        out.at_entrances = Post.objects.filter(moderate.q("path"), state=S.OPEN).count()
    out.care_due = care_selectors.overdue_count_for_user(user, today=today)
    return out
