"""Every write of mutual aid posts (issue 6 §1–§4; DESIGN.md §3).

A need (求助) or offer (可提供) starts at its author's entrance and, while nobody answers, reaches one level
further every `widen_after_minutes` (building, compound, community; at most `max_reach`) — the sweep does
it, and expires open posts past `expires_at`. Every new post and every widening appends a FeedEntry (the
live stream tails it) and tells the opted-in neighbours it newly reaches (their subscription's reach and
categories, not in their quiet hours), once per post and level (dedupe key). A need by or for a household
on the care list is flagged and told at once to the 楼门长 and 网格员 covering it.

"我能帮": a neighbour in reach responds; the author picks one (the others are told they were not chosen);
only then do the two see each other's chosen contact (a masked relay number or the door number, each side
choosing its own) and the hand-off mode (放门口 / 当面 / 代送). Done → thanks; leftovers are passed on as a
new offer linked to the first (the chain).

Safety: prescription-only drugs and injections are refused (AidRules.blocked_medicine_words), saying why;
rate limits per person (posts per day, responses per hour); a minor (Resident.birth_year, under
AidRules.adult_age) arranges no in-person hand-off without a guardian's name; reports hide a post at
`reports_to_hide` until a moderator (mutual_aid.moderate: 楼门长, 网格员, community staff) upholds or
restores it.

Each service takes an explicit actor, checks who may act, checks the input (ValidationError naming the
field; nothing written), then writes in one transaction: the change (compare-and-set through the workflow
or a conditional UPDATE), the notices, and one audit event last. Errors: ValidationError, PermissionDenied,
TransitionNotAllowed (the post's state or the workflow refuses the actor), Conflict (someone acted first).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.accounts.selectors import users_holding
from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.core.scope import scope_for
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.notifications.services import Message, notify, notify_many, settle, subject_of
from linjialin.places.models import Level, Place

from .. import selectors
from ..models import (
    AidCategory,
    ContactKind,
    FeedEntry,
    Handoff,
    HandoffMode,
    Kind,
    Post,
    PostState,
    Reach,
    Report,
    ReportReason,
    ReportState,
    Response,
    ResponseState,
    Subscription,
    Urgency,
)
from ..workflow import workflow

S = PostState

AUDIT_LABELS = {
    "mutual_aid.post.created": gettext_lazy("mutual aid post created"),
    "mutual_aid.post.widened": gettext_lazy("mutual aid post reached further (sweep)"),
    "mutual_aid.post.expired": gettext_lazy("mutual aid post expired (sweep)"),
    "mutual_aid.response.created": gettext_lazy("offer of help (我能帮) on a mutual aid post"),
    "mutual_aid.post.picked": gettext_lazy("helper chosen for a mutual aid post"),
    "mutual_aid.handoff.contact": gettext_lazy("contact shown in a hand-off changed"),
    "mutual_aid.post.done": gettext_lazy("mutual aid post marked done"),
    "mutual_aid.post.withdrawn": gettext_lazy("mutual aid post withdrawn"),
    "mutual_aid.report.created": gettext_lazy("mutual aid post or person reported"),
    "mutual_aid.report.decided": gettext_lazy("mutual aid report decided by a moderator"),
    "mutual_aid.post.hidden": gettext_lazy("mutual aid post hidden"),
    "mutual_aid.post.restored": gettext_lazy("mutual aid post restored"),
    "mutual_aid.subscription.changed": gettext_lazy("mutual aid notice settings changed"),
    "mutual_aid.contact.viewed": gettext_lazy("hand-off contact viewed"),
}
AUDIT_PERSONAL = ("mutual_aid.contact.viewed",)

MAX_TEXT = 500
MAX_EXPIRY_HOURS = 14 * 24
MAX_PHOTO = 10 * 1024 * 1024
PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"RIFF", b"GIF8")
MEDICINE_REFUSAL = gettext_lazy(
    "“%(word)s” needs a doctor's prescription, so it cannot be passed between neighbours here: this keeps "
    "everyone safe. The community doctor or a pharmacist can help you get it; if someone is very unwell "
    "now, call 120."
)


# --- small helpers ----------------------------------------------------------------------------------------
def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _choice(value, choices, field: str, errors: dict, message):
    if value not in choices.values:
        errors[field] = message
    return value


def _reverse(name: str, args=(), fallback: str = "") -> str:
    """A link without a language prefix (each recipient reads it in their own language)."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _link(post: Post) -> str:
    return _reverse("mutual_aid:post", [post.pk], f"/mutual-aid/posts/{post.pk}/")


def _snippet(text: str, n: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _lock_user(actor) -> None:
    """Serialise one person's writes that count (rate limits) or replay (client_token)."""
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()


def _check(actor, post: Post, name: str) -> None:
    """TransitionNotAllowed early (before anything is computed) when the state or the actor is wrong."""
    workflow.check(post, name, actor)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def blocked_medicine(text: str, r=None) -> str | None:
    """The first blocked medicine word the text names (AidRules.blocked_medicine_words), or None."""
    plain = normalise(text)
    for word in selectors.blocked_words(r):
        if normalise(word) in plain:
            return word
    return None


def check_medicine(text: str, r=None, field: str = "text") -> None:
    """ValidationError on `field` naming the blocked word and saying why (nothing is written)."""
    word = blocked_medicine(text, r)
    if word:
        raise ValidationError({field: MEDICINE_REFUSAL % {"word": word}})


def _on_care_list(household: Place) -> bool:
    from ..care_selectors import on_care_list

    return bool(on_care_list(household))


def _carers(household: Place) -> list:
    """The 楼门长 and 网格员 covering the household (mutual_aid.care over it at entrance or grid level)."""
    return list(users_holding("mutual_aid.care", household.path, levels={Level.ENTRANCE, Level.GRID}))


def _moderators(path: str) -> list:
    return list(users_holding("mutual_aid.moderate", path))


def _feed(post: Post, at: datetime) -> FeedEntry:
    return FeedEntry.objects.create(
        post=post,
        reach=post.reach,
        entrance_id_at=post.entrance_id,
        building_id_at=post.building_id,
        compound_id_at=post.compound_id,
        community_id_at=post.community_id,
        category=post.category,
        at=at,
    )


def _post_message(post: Post, users: list, reach: int) -> Message:
    title = (
        gettext_lazy("A neighbour needs help: %(text)s")
        if post.kind == Kind.NEED
        else gettext_lazy("A neighbour offers: %(text)s")
    )
    return Message(
        users=users,
        kind="mutual_aid.post.urgent" if post.urgency == Urgency.URGENT else "mutual_aid.post",
        title=title,
        params={"text": _snippet(post.text)},
        link=_link(post),
        subject=subject_of(post),
        path=post.path,
        dedupe_key=f"mutual_aid.post:{post.pk}:r{reach}",
    )


def _settle(post: Post) -> None:
    """The post no longer asks anyone to help (a helper is chosen, done, withdrawn, hidden, expired):
    the neighbours' unread "a neighbour needs help / offers" notices about it are read."""
    settle(subject_of(post), kinds=("mutual_aid.post", "mutual_aid.post.urgent", "mutual_aid.care_need"))


def _move(post: Post, name: str, actor, **changes) -> None:
    """Apply the transition `name`; once the post is no longer open its neighbours' notices are read."""
    workflow.apply(post, name, actor, **changes)
    if post.state != S.OPEN:
        _settle(post)


def _tell_neighbours(post: Post, reach: int, at: datetime, actor=None) -> int:
    """Tell the opted-in neighbours the post newly reaches at `reach` (once per post and level)."""
    users = selectors.neighbours_to_tell(post, reach=reach, at=at, newly=True)
    if not users:
        return 0
    m = _post_message(post, users, reach)
    created = notify(
        users,
        kind=m.kind,
        title=m.title,
        params=m.params,
        link=m.link,
        subject=m.subject,
        path=m.path,
        dedupe_key=m.dedupe_key,
        actor=actor,
    )
    return len(created)


def _community_of(household: Place) -> Place:
    return Place.objects.get(path=selectors.community_path(household.path))


def _photo_error(photo) -> str | None:
    if getattr(photo, "size", 0) > MAX_PHOTO:
        return _("The photo is larger than %(mb)d MB.") % {"mb": MAX_PHOTO // (1024 * 1024)}
    try:
        head = photo.read(8)
        photo.seek(0)
    except (AttributeError, OSError):
        return _("The photo could not be read.")
    if not head.startswith(PHOTO_MAGIC):
        return _("The photo must be a JPEG, PNG, WebP or GIF image.")
    return None


# --- posts ------------------------------------------------------------------------------------------------
def _replayed(actor, client_token: str) -> Post | None:
    object_id = (
        AuditEvent.objects.filter(
            actor_id=actor.pk, action="mutual_aid.post.created", after__client_token=client_token
        )
        .values_list("object_id", flat=True)
        .first()
    )
    post = Post.objects.filter(pk=object_id).first() if object_id else None
    if post is not None:
        post.replayed = True
    return post


def create_post(
    actor,
    *,
    household,
    kind,
    category,
    text,
    urgency=Urgency.NORMAL,
    max_reach=Reach.COMMUNITY,
    photo=None,
    expires_in_hours=None,
    parent=None,
    client_token="",
) -> Post:
    """A need or offer for `household` (the actor's own, or one a 楼门长/网格员 covers: posting on behalf of
    an elderly household). Starts at the entrance; widens while nobody answers; expires. The same
    `client_token` from the same person again returns the first post (`post.replayed`)."""
    if (
        not isinstance(household, Place)
        or household.level != Level.HOUSEHOLD
        or not scope_for(actor, "mutual_aid.post").covers(household.path)
    ):
        raise PermissionDenied(_("You may not post for this household."))
    client_token = (client_token or "").strip()[:64]
    if client_token:
        existing = _replayed(actor, client_token)
        if existing is not None:
            return existing
    r = selectors.rules()
    errors: dict = {}
    _choice(kind, Kind, "kind", errors, _("Choose a need or an offer."))
    _choice(category, AidCategory, "category", errors, _("Choose a category."))
    _choice(urgency, Urgency, "urgency", errors, _("Choose how urgent it is."))
    try:
        max_reach = int(max_reach)
    except (TypeError, ValueError):
        max_reach = 0
    if max_reach not in Reach.values:
        errors["max_reach"] = _("Choose how far the post may reach.")
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Please say what is needed or offered.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    else:
        word = blocked_medicine(text, r)
        if word:
            errors["text"] = MEDICINE_REFUSAL % {"word": word}
    hours = r.expiry_hours
    if expires_in_hours not in (None, ""):
        try:
            hours = int(expires_in_hours)
        except (TypeError, ValueError):
            hours = 0
        if not 1 <= hours <= MAX_EXPIRY_HOURS:
            errors["expires_in_hours"] = _("Between 1 and %(n)d hours.") % {"n": MAX_EXPIRY_HOURS}
    if photo is not None:
        problem = _photo_error(photo)
        if problem:
            errors["photo"] = problem
    _raise(errors)

    entrance = household.parent
    community = _community_of(household)
    with transaction.atomic():
        _lock_user(actor)
        if client_token:
            existing = _replayed(actor, client_token)
            if existing is not None:
                return existing
        now = timezone.now()
        today = Post.objects.filter(author=actor, created_at__gte=now - timedelta(days=1)).count()
        if today >= r.posts_per_day:
            raise ValidationError(
                {
                    "text": _(
                        "You have posted %(n)d times in the last 24 hours, the most allowed. "
                        "Please try again later, or ask your 楼门长."
                    )
                    % {"n": r.posts_per_day}
                }
            )
        care = _on_care_list(household)
        post = Post.objects.create(
            kind=kind,
            category=category,
            text=text,
            urgency=urgency,
            author=actor,
            household=household,
            path=household.path,
            entrance=entrance,
            building_id=entrance.building_id,
            compound_id=entrance.compound_id,
            community=community,
            reach=Reach.ENTRANCE,
            max_reach=max_reach,
            widen_at=now + timedelta(minutes=r.widen_after_minutes) if max_reach > Reach.ENTRANCE else None,
            expires_at=now + timedelta(hours=hours),
            care=care,
            parent=parent,
            created_at=now,
        )
        if photo is not None:
            post.photo.save(getattr(photo, "name", "photo.jpg") or "photo.jpg", photo, save=False)
            Post.objects.filter(pk=post.pk).update(photo=post.photo.name)
        _feed(post, now)
        told = _tell_neighbours(post, Reach.ENTRANCE, now, actor)
        carers = []
        if care:
            carers = [u for u in _carers(household) if u.pk != actor.pk]
            notify(
                carers,
                kind="mutual_aid.care_need",
                title=gettext_lazy("Care list: %(household)s posted: %(text)s"),
                params={"household": household.name, "text": _snippet(post.text)},
                link=_link(post),
                subject=subject_of(post),
                path=post.path,
                dedupe_key=f"mutual_aid.care:{post.pk}",
                actor=actor,
            )
        after = {
            "kind": kind,
            "category": category,
            "urgency": urgency,
            "max_reach": max_reach,
            "expires_at": post.expires_at.isoformat(),
            "told": told,
        }
        if care:
            after["care"] = True
            after["carers_told"] = len(carers)
        if parent is not None:
            after["parent"] = parent.pk
        if client_token:
            after["client_token"] = client_token
        audit.record("mutual_aid.post.created", actor=actor, obj=post, after=after)
    return post


def widen(now: datetime | None = None) -> int:
    """Open posts nobody answered, past widen_at, reach one level further (up to max_reach): a FeedEntry
    each and a notice to the opted-in neighbours newly reached. Each post moves once per call
    (compare-and-set on its reach): safe to run twice or in two workers. Returns the posts widened."""
    now = now or timezone.now()
    r = selectors.rules()
    widened = 0
    with transaction.atomic():
        due = list(
            Post.objects.filter(
                state=S.OPEN,
                first_response_at__isnull=True,
                widen_at__isnull=False,
                widen_at__lte=now,
                expires_at__gt=now,
            ).order_by("widen_at", "pk")
        )
        audits = []
        for post in due:
            if post.reach >= post.max_reach:
                Post.objects.filter(pk=post.pk, reach=post.reach).update(widen_at=None)
                continue
            new = post.reach + 1
            next_at = now + timedelta(minutes=r.widen_after_minutes) if new < post.max_reach else None
            moved = Post.objects.filter(
                pk=post.pk, state=S.OPEN, reach=post.reach, first_response_at__isnull=True
            ).update(reach=new, widen_at=next_at)
            if not moved:
                continue
            before = post.reach
            post.reach, post.widen_at = new, next_at
            _feed(post, now)
            told = _tell_neighbours(post, new, now)
            audits.append(
                {
                    "action": "mutual_aid.post.widened",
                    "obj": post,
                    "before": {"reach": before},
                    "after": {"reach": new, "told": told},
                }
            )
            widened += 1
        audit.record_many(audits)
    return widened


def expire(now: datetime | None = None) -> int:
    """Open posts past expires_at expire (the author is told once). Returns the number expired."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = list(Post.objects.filter(state=S.OPEN, expires_at__lte=now).order_by("pk"))
        audits, messages = [], []
        for post in due:
            try:
                _move(post, "expire", None, widen_at=None)
            except Conflict:
                continue
            messages.append(
                Message(
                    users=[post.author],
                    kind="mutual_aid.post.expired",
                    title=gettext_lazy("Your post expired: %(text)s"),
                    params={"text": _snippet(post.text)},
                    link=_link(post),
                    subject=subject_of(post),
                    path=post.path,
                    dedupe_key=f"mutual_aid.expired:{post.pk}",
                )
            )
            audits.append({"action": "mutual_aid.post.expired", "obj": post, "after": {"state": S.EXPIRED}})
            expired += 1
        notify_many(messages)
        audit.record_many(audits)
    return expired


def sweep(now: datetime | None = None) -> dict:
    """The minute sweep: widen, then expire. Idempotent."""
    now = now or timezone.now()
    return {"widened": widen(now), "expired": expire(now)}


# --- responses, the pick, the hand-off --------------------------------------------------------------------
def respond(actor, post: Post, *, household=None, note="") -> Response:
    """ "我能帮": a neighbour whose household is within the post's current reach offers help (or asks for an
    offer). Not the author; once per person (a second tap returns the first); `responses_per_hour`. The
    post stops widening; the author is told."""
    if household is None:
        household = selectors.home_household(actor)
    if (
        not isinstance(household, Place)
        or household.level != Level.HOUSEHOLD
        or not scope_for(actor, "mutual_aid.post").covers(household.path)
    ):
        raise PermissionDenied(_("You may not answer for this household."))
    if post.author_id == actor.pk:
        raise PermissionDenied(_("This is your own post."))
    rel = selectors.household_relation(household, post)
    if rel is None or rel > post.reach:
        raise PermissionDenied(_("This post has not reached your household."))
    if post.state != S.OPEN:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the post is “%(state)s”.")
            % {"action": _("I can help"), "state": S(post.state).label}
        )
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": 200}})
    check_medicine(note, field="note")
    r = selectors.rules()
    with transaction.atomic():
        _lock_user(actor)
        existing = selectors.my_response(actor, post)
        if existing is not None:
            existing.replayed = True
            return existing
        now = timezone.now()
        recent = Response.objects.filter(helper=actor, created_at__gte=now - timedelta(hours=1)).count()
        if recent >= r.responses_per_hour:
            raise ValidationError(
                {
                    "note": _(
                        "You have offered help %(n)d times in the last hour, the most allowed. "
                        "Please try again later."
                    )
                    % {"n": r.responses_per_hour}
                }
            )
        if not Post.objects.filter(pk=post.pk, state=S.OPEN).exists():
            now_state = Post.objects.filter(pk=post.pk).values_list("state", flat=True).first()
            raise Conflict(
                _("Someone else acted first: the item is now “%(state)s”. Reload to see it.")
                % {"state": S(now_state).label if now_state else "?"}
            )
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    post=post, helper=actor, household=household, note=note, created_at=now
                )
        except IntegrityError:
            existing = selectors.my_response(actor, post)
            if existing is None:
                raise
            existing.replayed = True
            return existing
        if Post.objects.filter(pk=post.pk, first_response_at__isnull=True).update(
            first_response_at=now, widen_at=None
        ):
            post.first_response_at, post.widen_at = now, None
        notify(
            [post.author],
            kind="mutual_aid.response",
            title=gettext_lazy("%(name)s can help: %(text)s"),
            params={"name": actor.display_name, "text": _snippet(post.text)},
            link=_link(post),
            subject=subject_of(post),
            path=post.path,
            dedupe_key=f"mutual_aid.response:{response.pk}",
            actor=actor,
        )
        audit.record(
            "mutual_aid.response.created",
            actor=actor,
            obj=post,
            after={"response": response.pk, "household": household.pk, "relation": rel},
        )
    return response


def _minor_needs_guardian(user, household, mode, guardian, r) -> bool:
    return mode == HandoffMode.IN_PERSON and not guardian and selectors.is_minor(user, household, r=r)


def pick(
    actor, post: Post, response: Response, *, contact=ContactKind.RELAY, mode=HandoffMode.DOOR, guardian=""
):
    """The author chooses one response: the post is matched, that helper chosen, the others not chosen
    (each told). Only now do the two see each other's chosen contact. An in-person hand-off with a minor
    (the helper or the author) needs a guardian's name."""
    _check(actor, post, "pick")
    errors: dict = {}
    if response.post_id != post.pk:
        errors["response"] = _("Choose one of the offers of help on this post.")
    elif response.state != ResponseState.OFFERED:
        raise Conflict(_("A helper was already chosen for this post. Reload to see it."))
    _choice(contact, ContactKind, "contact", errors, _("Choose what the helper sees: relay number or door."))
    _choice(mode, HandoffMode, "mode", errors, _("Choose how the thing changes hands."))
    guardian = (guardian or "").strip()
    if len(guardian) > 100:
        errors["guardian"] = _("At most %(n)d characters.") % {"n": 100}
    _raise(errors)
    r = selectors.rules()
    if _minor_needs_guardian(response.helper, response.household, mode, guardian, r):
        raise ValidationError(
            {
                "guardian": _(
                    "The helper is under %(age)d: meeting in person needs a guardian. Give the guardian's "
                    "name, or choose “left at the door” or “delivered”."
                )
                % {"age": r.adult_age}
            }
        )
    if _minor_needs_guardian(actor, post.household, mode, guardian, r):
        raise ValidationError(
            {
                "guardian": _(
                    "You are under %(age)d: meeting in person needs a guardian. Give the guardian's name, "
                    "or choose “left at the door” or “delivered”."
                )
                % {"age": r.adult_age}
            }
        )
    with transaction.atomic():
        now = timezone.now()
        _move(post, "pick", actor, widen_at=None)
        if not Response.objects.filter(pk=response.pk, state=ResponseState.OFFERED).update(
            state=ResponseState.CHOSEN
        ):
            raise Conflict(_("This offer of help was withdrawn meanwhile. Reload to see it."))
        response.state = ResponseState.CHOSEN
        others = list(
            Response.objects.filter(post=post, state=ResponseState.OFFERED)
            .exclude(pk=response.pk)
            .select_related("helper")
        )
        Response.objects.filter(pk__in=[o.pk for o in others]).update(state=ResponseState.NOT_CHOSEN)
        handoff = Handoff.objects.create(
            post=post,
            response=response,
            requester_contact=contact,
            mode=mode,
            guardian=guardian,
            picked_at=now,
        )
        messages = [
            Message(
                users=[response.helper],
                kind="mutual_aid.chosen",
                title=gettext_lazy("You were chosen to help: %(text)s"),
                body=gettext_lazy("Open the post to see how to reach each other and how to hand it over."),
                params={"text": _snippet(post.text)},
                link=_link(post),
                subject=subject_of(post),
                path=post.path,
                dedupe_key=f"mutual_aid.chosen:{post.pk}",
            )
        ]
        if others:
            messages.append(
                Message(
                    users=[o.helper for o in others],
                    kind="mutual_aid.not_chosen",
                    title=gettext_lazy("Thank you: another neighbour is helping with “%(text)s”"),
                    params={"text": _snippet(post.text)},
                    link=_link(post),
                    subject=subject_of(post),
                    path=post.path,
                    dedupe_key=f"mutual_aid.not_chosen:{post.pk}",
                )
            )
        notify_many(messages, actor=actor)
        audit.record(
            "mutual_aid.post.picked",
            actor=actor,
            obj=post,
            before={"state": S.OPEN},
            after={
                "state": S.MATCHED,
                "response": response.pk,
                "helper": response.helper_id,
                "not_chosen": [o.pk for o in others],
                "mode": mode,
                "requester_contact": contact,
                "guardian": bool(guardian),
            },
        )
    return handoff


def _set_contact(actor, handoff: Handoff, *, contact, side: str) -> Handoff:
    errors: dict = {}
    _choice(contact, ContactKind, "contact", errors, _("Choose a relay number or your door number."))
    _raise(errors)
    post = handoff.post
    if post.state not in (S.MATCHED, S.DONE):
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the post is “%(state)s”.")
            % {"action": _("change the contact shown"), "state": S(post.state).label}
        )
    column = "helper_contact" if side == "helper" else "requester_contact"
    before = getattr(handoff, column)
    with transaction.atomic():
        Handoff.objects.filter(pk=handoff.pk).update(**{column: contact})
        setattr(handoff, column, contact)
        audit.record(
            "mutual_aid.handoff.contact",
            actor=actor,
            obj=post,
            before={column: before},
            after={column: contact, "handoff": handoff.pk},
        )
    return handoff


def set_helper_contact(actor, handoff: Handoff, *, contact) -> Handoff:
    """The chosen helper chooses what the author sees: the relay number (default) or their door number."""
    if handoff.response.helper_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the chosen helper chooses this."))
    return _set_contact(actor, handoff, contact=contact, side="helper")


def set_requester_contact(actor, handoff: Handoff, *, contact) -> Handoff:
    """The author changes what the helper sees."""
    if handoff.post.author_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the author chooses this."))
    return _set_contact(actor, handoff, contact=contact, side="requester")


def record_contact_view(actor, post: Post) -> None:
    """A side looked at the other's contact (a door number is personal data): audited."""
    audit.record("mutual_aid.contact.viewed", actor=actor, obj=post, after={"post": post.pk})


def finish(actor, post: Post, *, thanks="") -> Post:
    """The author marks the hand-off done, with optional thanks (the helper is told)."""
    _check(actor, post, "finish")
    thanks = (thanks or "").strip()
    if len(thanks) > 200:
        raise ValidationError({"thanks": _("At most %(n)d characters.") % {"n": 200}})
    handoff = selectors.handoff_of(post)
    with transaction.atomic():
        now = timezone.now()
        _move(post, "finish", actor, done_at=now)
        if handoff is not None:
            Handoff.objects.filter(pk=handoff.pk).update(done_at=now, thanks=thanks)
            notify(
                [handoff.response.helper],
                kind="mutual_aid.thanks",
                title=gettext_lazy("Done, thank you! %(thanks)s"),
                params={"thanks": thanks},
                link=_link(post),
                subject=subject_of(post),
                path=post.path,
                dedupe_key=f"mutual_aid.done:{post.pk}",
                actor=actor,
            )
        audit.record(
            "mutual_aid.post.done",
            actor=actor,
            obj=post,
            before={"state": S.MATCHED},
            after={"state": S.DONE, "thanks": bool(thanks)},
        )
    return post


def withdraw(actor, post: Post, *, reason="") -> Post:
    """The author (or a moderator) withdraws an open or matched post; those who offered help are told."""
    _check(actor, post, "withdraw")
    reason = (reason or "").strip()[:500]
    before = post.state
    with transaction.atomic():
        _move(post, "withdraw", actor, widen_at=None)
        helpers = [
            r.helper
            for r in Response.objects.filter(
                post=post, state__in=[ResponseState.OFFERED, ResponseState.CHOSEN]
            ).select_related("helper")
        ]
        notify(
            helpers,
            kind="mutual_aid.withdrawn",
            title=gettext_lazy("A post you offered help on was withdrawn: %(text)s"),
            params={"text": _snippet(post.text)},
            link=_link(post),
            subject=subject_of(post),
            path=post.path,
            dedupe_key=f"mutual_aid.withdrawn:{post.pk}",
            actor=actor,
        )
        audit.record(
            "mutual_aid.post.withdrawn",
            actor=actor,
            obj=post,
            before={"state": before},
            after={"state": S.WITHDRAWN},
            reason=reason,
        )
    return post


def pass_on(
    actor,
    post: Post,
    *,
    text,
    category=None,
    household=None,
    urgency=Urgency.NORMAL,
    max_reach=Reach.COMMUNITY,
    photo=None,
    expires_in_hours=None,
    client_token="",
) -> Post:
    """Leftovers passed on as a new offer linked to `post` (the chain): by its author or its chosen helper,
    once the post is matched or done. The new offer is a post like any other (same checks)."""
    handoff = selectors.handoff_of(post)
    side = (
        "requester"
        if post.author_id == getattr(actor, "pk", None)
        else selectors.side_of(actor, post, handoff)
    )
    if side is None:
        raise PermissionDenied(_("Only the author or the chosen helper passes leftovers on."))
    if post.state not in (S.MATCHED, S.DONE):
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the post is “%(state)s”.")
            % {"action": _("pass on"), "state": S(post.state).label}
        )
    if household is None:
        household = post.household if side == "requester" else handoff.response.household
    return create_post(
        actor,
        household=household,
        kind=Kind.OFFER,
        category=category or post.category,
        text=text,
        urgency=urgency,
        max_reach=max_reach,
        photo=photo,
        expires_in_hours=expires_in_hours,
        parent=post,
        client_token=client_token,
    )


# --- reports and moderation -------------------------------------------------------------------------------
def _may_report_person(actor, person) -> Place | None:
    """Where a report of `person` is moderated: the household of a post of theirs the reporter sees, or
    theirs on one of the reporter's posts; None when the reporter has had nothing to do with them."""
    post = selectors.visible_posts(actor).filter(author=person).order_by("-created_at").first()
    if post is not None:
        return post.household
    response = Response.objects.filter(helper=person, post__author=actor).select_related("household").first()
    return response.household if response is not None else None


def report(actor, *, post=None, person=None, reason, note="") -> Report:
    """Report a post (one the actor sees) or a person (one they met through a post). At
    `reports_to_hide` reports by different people the post is hidden until a moderator looks at it. The
    moderators there are told. A second report of the same thing by the same person returns the first."""
    if (post is None) == (person is None):
        raise ValidationError({"post": _("Report either a post or a person.")})
    errors: dict = {}
    _choice(reason, ReportReason, "reason", errors, _("Choose a reason."))
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = _("At most %(n)d characters.") % {"n": 500}
    if reason == ReportReason.OTHER and not note:
        errors["note"] = _("Please say what is wrong.")
    _raise(errors)
    if post is not None:
        if not selectors.visible_posts(actor).filter(pk=post.pk).exists():
            raise PermissionDenied(_("You may not report this post."))
        if post.author_id == actor.pk:
            raise PermissionDenied(_("This is your own post."))
        path = post.path
    else:
        if person.pk == actor.pk:
            raise PermissionDenied(_("You cannot report yourself."))
        where = _may_report_person(actor, person)
        if where is None:
            raise PermissionDenied(_("You may report only people you met through a post."))
        path = where.path
    r = selectors.rules()
    with transaction.atomic():
        _lock_user(actor)
        same = Report.objects.filter(reporter=actor, state=ReportState.OPEN)
        same = same.filter(post=post) if post is not None else same.filter(person=person, post__isnull=True)
        existing = same.first()
        if existing is not None:
            existing.replayed = True
            return existing
        now = timezone.now()
        row = Report.objects.create(
            post=post, person=person, path=path, reason=reason, note=note, reporter=actor, created_at=now
        )
        hidden = False
        if post is not None:
            reporters = (
                Report.objects.filter(post=post, state=ReportState.OPEN)
                .values("reporter_id")
                .distinct()
                .count()
            )
            if reporters >= r.reports_to_hide:
                # the reports hide it (no moderator yet): the same compare-and-set as workflow "hide"
                hidden = bool(
                    Post.objects.filter(pk=post.pk, state__in=workflow["hide"].sources).update(
                        state=S.HIDDEN,
                        hidden_reason=_("Hidden after %(n)d reports, until a moderator looks at it.")
                        % {"n": reporters},
                        widen_at=None,
                    )
                )
                if hidden:
                    post.state = S.HIDDEN
                    _settle(post)
        notify(
            _moderators(path),
            kind="mutual_aid.report",
            title=gettext_lazy("Mutual aid: a post was hidden after reports")
            if hidden
            else gettext_lazy("Mutual aid: a new report to look at"),
            path=path,
            link=_moderation_link(),
            dedupe_key=f"mutual_aid.report:{row.pk}",
            actor=actor,
        )
        audit.record(
            "mutual_aid.report.created",
            actor=actor,
            obj=row,
            after={
                "post": getattr(post, "pk", None),
                "person": getattr(person, "pk", None),
                "reason": reason,
                "post_hidden": hidden,
            },
        )
    return row


def _moderation_link() -> str:
    return _reverse("mutual_aid:moderation", fallback="/mutual-aid/moderation/")


def _moderator_only(actor, path: str) -> None:
    if not selectors.may_moderate(actor, path):
        raise PermissionDenied(_("You may not moderate here."))


def moderate(actor, report: Report, *, decision, note="") -> Report:
    """A moderator over the report's place decides: upheld (a reported post is hidden; its other open
    reports are closed with it) or dismissed. Two moderators at once: one decides, the other gets
    Conflict."""
    _moderator_only(actor, report.path)
    if decision not in (ReportState.UPHELD, ReportState.DISMISSED):
        raise ValidationError({"decision": _("Uphold or dismiss the report.")})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": 500}})
    post = Post.objects.filter(pk=report.post_id).first() if report.post_id else None
    with transaction.atomic():
        now = timezone.now()
        decided = Report.objects.filter(pk=report.pk, state=ReportState.OPEN).update(
            state=decision, handled_by=actor, handled_at=now, decision_note=note
        )
        if not decided:
            raise Conflict(_("Another moderator decided this report first. Reload to see it."))
        report.state, report.handled_by, report.handled_at, report.decision_note = decision, actor, now, note
        hidden = False
        if post is not None and decision == ReportState.UPHELD:
            Report.objects.filter(post=post, state=ReportState.OPEN).update(
                state=decision, handled_by=actor, handled_at=now, decision_note=note
            )
            if post.state in workflow["hide"].sources:
                _move(post, "hide", actor, hidden_reason=note or _("Reported and upheld"), widen_at=None)
                hidden = True
            _tell_author_hidden(actor, post, note)
        audit.record(
            "mutual_aid.report.decided",
            actor=actor,
            obj=report,
            before={"state": ReportState.OPEN},
            after={"state": decision, "post": report.post_id, "post_hidden": hidden},
            reason=note,
        )
    return report


def _tell_author_hidden(actor, post: Post, reason: str) -> None:
    notify(
        [post.author],
        kind="mutual_aid.hidden",
        title=gettext_lazy("Your post is not shown for now: %(text)s"),
        body=gettext_lazy(
            "A moderator looked at it: %(reason)s. You may write it again in other words, or ask your "
            "entrance leader (楼门长) for help."
        ),
        params={"text": _snippet(post.text), "reason": reason or "—"},
        link=_link(post),
        subject=subject_of(post),
        path=post.path,
        dedupe_key=f"mutual_aid.hidden:{post.pk}:{timezone.now().isoformat()}",
        actor=actor,
    )


def hide(actor, post: Post, *, reason) -> Post:
    """A moderator hides an open or matched post, with the reason (the author is told)."""
    _check(actor, post, "hide")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please give the reason.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": 500}})
    before = post.state
    with transaction.atomic():
        _move(post, "hide", actor, hidden_reason=reason, widen_at=None)
        _tell_author_hidden(actor, post, reason)
        audit.record(
            "mutual_aid.post.hidden",
            actor=actor,
            obj=post,
            before={"state": before},
            after={"state": S.HIDDEN},
            reason=reason,
        )
    return post


def restore(actor, post: Post) -> Post:
    """A moderator restores a hidden post: open again, or matched again when a helper had been chosen
    before it was hidden (the hand-off stands); its open reports are dismissed with it."""
    transition = "restore_matched" if Handoff.objects.filter(post=post).exists() else "restore"
    _check(actor, post, transition)
    with transaction.atomic():
        now = timezone.now()
        workflow.apply(post, transition, actor, hidden_reason="")
        dismissed = Report.objects.filter(post=post, state=ReportState.OPEN).update(
            state=ReportState.DISMISSED, handled_by=actor, handled_at=now, decision_note=_("restored")
        )
        notify(
            [post.author],
            kind="mutual_aid.restored",
            title=gettext_lazy("Your post is shown again: %(text)s"),
            params={"text": _snippet(post.text)},
            link=_link(post),
            subject=subject_of(post),
            path=post.path,
            dedupe_key=f"mutual_aid.restored:{post.pk}:{now.isoformat()}",
            actor=actor,
        )
        audit.record(
            "mutual_aid.post.restored",
            actor=actor,
            obj=post,
            before={"state": S.HIDDEN},
            after={"state": post.state, "reports_dismissed": dismissed},
        )
    return post


# --- subscriptions ----------------------------------------------------------------------------------------
def subscribe(actor, *, active, reach, categories, quiet_from=None, quiet_until=None) -> Subscription:
    """The actor's opt-in: hear about neighbours' needs at once, how far, which categories (none: all),
    and quiet hours (both or neither; may run past midnight)."""
    if scope_for(actor, "mutual_aid.post").is_empty:
        raise PermissionDenied(_("Only residents and their leaders take part in mutual aid."))
    errors: dict = {}
    try:
        reach = int(reach)
    except (TypeError, ValueError):
        reach = 0
    if reach not in Reach.values:
        errors["reach"] = _("Choose how far.")
    categories = sorted(set(categories or []))
    if any(c not in AidCategory.values for c in categories):
        errors["categories"] = _("Unknown category.")
    if (quiet_from is None) != (quiet_until is None):
        errors["quiet_until" if quiet_until is None else "quiet_from"] = _(
            "Give both the start and the end of the quiet hours, or neither."
        )
    elif quiet_from is not None and quiet_from == quiet_until:
        errors["quiet_until"] = _("The quiet hours end when they start.")
    _raise(errors)
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().filter(user=actor).first()
        before = (
            {
                "active": sub.active,
                "reach": sub.reach,
                "categories": sub.categories,
                "quiet": [str(sub.quiet_from or ""), str(sub.quiet_until or "")],
            }
            if sub
            else {}
        )
        values = {
            "active": bool(active),
            "reach": reach,
            "categories": categories,
            "quiet_from": quiet_from,
            "quiet_until": quiet_until,
        }
        if sub is None:
            sub = Subscription.objects.create(user=actor, **values)
        else:
            for k, v in values.items():
                setattr(sub, k, v)
            sub.save()
        audit.record(
            "mutual_aid.subscription.changed",
            actor=actor,
            obj=sub,
            path=selectors.homes(actor)[0].path if selectors.homes(actor) else "",
            before=before,
            after={
                "active": sub.active,
                "reach": reach,
                "categories": categories,
                "quiet": [str(quiet_from or ""), str(quiet_until or "")],
            },
        )
    return sub


__all__ = [
    "AUDIT_LABELS",
    "AUDIT_PERSONAL",
    "blocked_medicine",
    "check_medicine",
    "create_post",
    "expire",
    "finish",
    "hide",
    "moderate",
    "pass_on",
    "pick",
    "record_contact_view",
    "report",
    "respond",
    "restore",
    "set_helper_contact",
    "set_requester_contact",
    "subscribe",
    "sweep",
    "widen",
    "withdraw",
]
