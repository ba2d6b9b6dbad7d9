"""The mutual aid phone pages (issue 6 §1–§4): the open needs and offers in reach (with the live feed),
posting, a post with "我能帮", the pick and the hand-off, my posts and answers, the opt-in, and the
moderation queue.

Reads go through selectors (a post the user may not see is a 404); every write is one call of
services.posts; each action on a post is a POST to its own URL under /mutual-aid/posts/<id>/… that
redirects back with a message, or re-renders the post with the form's errors (422).
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.accounts.roles import Perm, Role
from linjialin.accounts.scope import current_grants
from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.notifications.services import mark_subject_read, subject_of
from linjialin.places import picker
from linjialin.places.models import Level, Place

from . import forms as f
from . import selectors
from .models import (
    AidCategory,
    ContactKind,
    FeedEntry,
    HandoffMode,
    Post,
    PostState,
    Response,
    ResponseState,
    Subscription,
    Urgency,
)
from .services import posts

OPEN_PAGE_SIZE = 50  # the open page shows the newest 50 in reach (urgent and care first)
MINE_LIMIT = 100
QUEUE_LIMIT = 100
CHAIN_DEPTH = 20  # how far up and down a chain of passed-on posts is followed


# --- who acts for which household ---------------------------------------------------------------------
def _households(user):
    """The households the user may post and answer for (mutual_aid.post): a resident their own, a
    楼门长 / 网格员 the households they cover. The user's home household first."""
    home = _home(user)
    qs = Place.objects.visible_to(user, Perm.POST_AID).filter(level=Level.HOUSEHOLD)
    if home is not None:
        qs = qs.annotate(
            home_first=Case(When(pk=home.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("home_first", "path")
    else:
        qs = qs.order_by("path")
    return qs


def _home(user) -> Place | None:
    for grant in current_grants(user):
        if grant.role == Role.RESIDENT and grant.place.level == Level.HOUSEHOLD:
            return grant.place
    return None


def _may_use(user) -> bool:
    return not (scope_for(user, Perm.POST_AID).is_empty and scope_for(user, Perm.MODERATE_AID).is_empty)


def _stream_url() -> str:
    """The live feed's address (Engineer D's endpoint); empty while it is not there."""
    try:
        return reverse("mutual_aid:stream")
    except NoReverseMatch:
        return ""


def _decorate(rows, user):
    """What a card shows beyond the post: the care highlight (only to those caring for that
    household: mutual_aid.care over its place) and whether it is the user's own."""
    care = scope_for(user, Perm.CARE_LIST)
    for post in rows:
        post.highlight_care = bool(post.care) and care.covers(post.path)
        post.is_mine = post.author_id == user.pk
        post.is_medicine = post.category == AidCategory.MEDICINE
    return rows


# --- the open page ------------------------------------------------------------------------------------
@login_required
def open_posts(request):
    """The open needs and offers in reach: urgent first, then (for the 楼门长 / 网格员) care-list
    households, then the newest; the live feed inserts new cards at the top."""
    user = request.user
    if not _may_use(user):
        raise PermissionDenied
    care = scope_for(user, Perm.CARE_LIST)
    care_first = (
        Case(When(Q(care=True) & care.q(), then=Value(1)), default=Value(0), output_field=IntegerField())
        if not care.is_empty
        else Value(0, output_field=IntegerField())
    )
    rows = (
        selectors.visible_posts(user)
        .filter(state=PostState.OPEN)
        .select_related("entrance")
        .annotate(
            urgent_first=Case(
                When(urgency=Urgency.URGENT, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
            care_first=care_first,
            n_responses=Count("responses", filter=~Q(responses__state=ResponseState.WITHDRAWN)),
        )
        .order_by("-urgent_first", "-care_first", "-created_at", "-id")[:OPEN_PAGE_SIZE]
    )
    context = {
        "posts": _decorate(list(rows), user),
        "stream_url": _stream_url(),
        # the live feed starts after the newest entry this page already reflects (no gap, no repeat)
        "last_event_id": FeedEntry.objects.order_by("-id").values_list("id", flat=True).first() or "",
        "may_post": not scope_for(user, Perm.POST_AID).is_empty,
        "may_moderate": not scope_for(user, Perm.MODERATE_AID).is_empty,
    }
    return render(request, "mutual_aid/open.html", context)


@login_required
def post_card(request, post_id):
    """One card alone: what the live feed inserts at the top of the open page."""
    post = selectors.get_post_for_user(request.user, post_id)
    post.n_responses = post.responses.exclude(state=ResponseState.WITHDRAWN).count()
    _decorate([post], request.user)
    return render(request, "mutual_aid/_post_card.html", {"post": post})


@login_required
def post_photo(request, post_id):
    """A post's photo, after the visibility check (media are not served publicly)."""
    post = selectors.get_post_for_user(request.user, post_id)
    if not post.photo:
        raise Http404
    content_type = mimetypes.guess_type(post.photo.name)[0] or "application/octet-stream"
    return FileResponse(post.photo.open("rb"), content_type=content_type)


# --- posting ------------------------------------------------------------------------------------------
@login_required
def new_post(request):
    """A need or an offer: big choices, plain words, the medicine notice; a 楼门长 may post for a
    household of their entrance (the picker lists only the households they cover)."""
    user = request.user
    households = _households(user)
    if not households.exists():
        raise PermissionDenied
    status = 200
    if request.method == "POST" and picker.is_round_trip(request.POST):
        # a search or a pick without JavaScript: the page again, with what was typed, nothing posted
        form = f.PostForm(initial=picker.round_trip_initial(request.POST), households=households)
    elif request.method == "POST":
        form = f.PostForm(request.POST, request.FILES, households=households)
        if form.is_valid():
            data = form.cleaned_data
            kwargs = {}
            if data["expires_in_hours"]:
                kwargs["expires_in_hours"] = data["expires_in_hours"]
            try:
                post = posts.create_post(
                    user,
                    household=data["household"],
                    kind=data["kind"],
                    category=data["category"],
                    text=data["text"],
                    urgency=data["urgency"],
                    max_reach=data["max_reach"],
                    photo=data["photo"],
                    client_token=data["client_token"],
                    **kwargs,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Your post is out: the neighbours of your entrance see it now."))
                return redirect("mutual_aid:post", post_id=post.pk)
        status = 422
    else:
        home = _home(user)
        initial = {"client_token": uuid.uuid4().hex, **({"household": home.pk} if home else {})}
        if request.GET.get("kind") in ("need", "offer"):
            initial["kind"] = request.GET["kind"]
        if request.GET.get("category") in AidCategory.values:
            initial["category"] = request.GET["category"]
        form = f.PostForm(initial=initial, households=households)
    context = {"form": form, "medicine": AidCategory.MEDICINE}
    if form.picks_household:
        data = request.POST if request.method == "POST" else {}
        context["picker"] = picker.picker_context(user, "aid", form, data=data)
    return render(request, "mutual_aid/new.html", context, status=status)


# --- a post ---------------------------------------------------------------------------------------------
def _chain(post, user) -> list:
    """The chain of passed-on posts this one belongs to, oldest first, as far as the user may see it
    (only when there is one)."""
    links = selectors.chain_for_user(user, post)
    if len(links) < 2:
        return []
    for p in links:
        p.is_this = p.pk == post.pk
    return links


def _build(name, post, user, data=None):
    if name == "respond":
        return f.RespondForm(data, households=_households(user), prefix="respond")
    if name == "pick":
        responses = post.responses.filter(state=ResponseState.OFFERED)
        return f.PickForm(data, responses=responses, prefix="pick")
    return {
        "contact": f.ContactForm,
        "finish": f.FinishForm,
        "withdraw": f.WithdrawForm,
        "pass_on": f.PassOnForm,
        "report": f.ReportForm,
        "hide": f.HideForm,
        "restore": f.StyledForm,
    }[name](data, prefix=name)


def _in_reach(user, post) -> bool:
    """May the user answer: their home within the post's current reach (or, without a home, a 楼门长 /
    网格员 acting for a household they cover)."""
    if scope_for(user, Perm.POST_AID).is_empty:
        return False
    home = _home(user)
    if home is None:
        return True
    relation = selectors.household_relation(home, post)
    return relation is not None and relation <= post.reach


def _post_context(request, post, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    _decorate([post], user)
    is_author = post.author_id == user.pk
    handoff = selectors.handoff_of(post)
    chosen = handoff.response if handoff else None
    is_helper = chosen is not None and chosen.helper_id == user.pk
    moderator = scope_for(user, Perm.MODERATE_AID).covers(post.path)
    state = post.state
    my_response = selectors.my_response(user, post)
    responses = selectors.responses_for(user, post) if (is_author or moderator) else []
    show = {
        "respond": state == PostState.OPEN
        and not is_author
        and my_response is None
        and _in_reach(user, post),
        "pick": state == PostState.OPEN and is_author,
        "contact": state == PostState.MATCHED and is_helper,
        "finish": state == PostState.MATCHED and is_author,
        "pass_on": state in (PostState.MATCHED, PostState.DONE) and (is_author or is_helper),
        "withdraw": state in (PostState.OPEN, PostState.MATCHED) and is_author,
        "report": not is_author,
        "hide": state in (PostState.OPEN, PostState.MATCHED) and moderator,
        "restore": state == PostState.HIDDEN and moderator,
    }
    forms = {name: bound.get(name) or _build(name, post, user) for name, shown in show.items() if shown}
    pick_forms = []
    if show["pick"]:
        for response in responses:
            if response.state == ResponseState.OFFERED:
                form = bound.get("pick")
                if form is None or str(form.data.get("pick-response")) != str(response.pk):
                    form = f.PickForm(
                        responses=post.responses.filter(state=ResponseState.OFFERED),
                        prefix="pick",
                        initial={"response": response.pk},
                    )
                pick_forms.append((response, form))
    return {
        "post": post,
        "is_author": is_author,
        "is_helper": is_helper,
        "moderator": moderator,
        "handoff": handoff if (is_author or is_helper) else None,
        "contact": _contact(user, post) if (is_author or is_helper) else None,
        "my_response": my_response,
        "responses": responses,
        "pick_forms": pick_forms,
        "forms": forms,
        "chain": _chain(post, user),
        "states": PostState,
    }


def _contact(user, post) -> dict | None:
    """The other side's chosen contact (selectors.contact_for), with its labels."""
    contact = selectors.contact_for(user, post)
    if contact is None:
        return None
    return {
        **contact,
        "kind_label": ContactKind(contact["kind"]).label,
        "mode_label": HandoffMode(contact["mode"]).label,
    }


@login_required
def post_detail(request, post_id):
    post = selectors.get_post_for_user(request.user, post_id)
    mark_subject_read(request.user, subject_of(post))  # opening it reads the viewer's notices about it
    return render(request, "mutual_aid/post.html", _post_context(request, post))


@dataclass(frozen=True)
class Action:
    run: Callable  # (user, post, cleaned_data) -> object
    done: str


def _require_handoff(post):
    handoff = selectors.handoff_of(post)
    if handoff is None:
        raise Http404
    return handoff


def _report(user, post, d):
    if d["target"] == "person":
        return posts.report(user, person=post.author, reason=d["reason"], note=d["note"])
    return posts.report(user, post=post, reason=d["reason"], note=d["note"])


ACTIONS: dict[str, Action] = {
    "respond": Action(
        lambda user, post, d: posts.respond(user, post, household=d["household"], note=d["note"]),
        gettext_lazy("Thank you: your neighbour is told that you can help."),
    ),
    "pick": Action(
        lambda user, post, d: posts.pick(
            user, post, d["response"], contact=d["contact"], mode=d["mode"], guardian=d["guardian"]
        ),
        gettext_lazy("You chose your helper: you now see each other's contact."),
    ),
    "contact": Action(
        lambda user, post, d: posts.set_helper_contact(user, _require_handoff(post), contact=d["contact"]),
        gettext_lazy("Your contact choice is saved."),
    ),
    "finish": Action(
        lambda user, post, d: posts.finish(user, post, thanks=d["thanks"]),
        gettext_lazy("Marked as done. Thank you both!"),
    ),
    "withdraw": Action(
        lambda user, post, d: posts.withdraw(user, post, reason=d["reason"]),
        gettext_lazy("The post is withdrawn."),
    ),
    "pass_on": Action(
        lambda user, post, d: posts.pass_on(user, post, text=d["text"]),
        gettext_lazy("What is left is offered to your neighbours now."),
    ),
    "report": Action(
        _report, gettext_lazy("Thank you: the report goes to your entrance leader and community.")
    ),
    "hide": Action(
        lambda user, post, d: posts.hide(user, post, reason=d["reason"]), gettext_lazy("The post is hidden.")
    ),
    "restore": Action(
        lambda user, post, d: posts.restore(user, post), gettext_lazy("The post is shown again.")
    ),
}


@login_required
def post_act(request, post_id, action):
    """One action on a post; bad input re-renders the post with the form's errors (422)."""
    if request.method != "POST":
        return redirect("mutual_aid:post", post_id=post_id)
    user = request.user
    post = selectors.get_post_for_user(user, post_id)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    form = _build(action, post, user, request.POST)
    back = reverse("mutual_aid:post", args=[post.pk])
    if action == "restore" and request.POST.get("back") == "moderation":
        back = reverse("mutual_aid:moderation")
    if form.is_valid():
        try:
            result = spec.run(user, post, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except (TransitionNotAllowed, Conflict) as exc:
            messages.error(request, str(exc) or _("This is no longer possible: the post has changed."))
            return redirect(back)
        except PermissionDenied as exc:  # visible, but not this action: 403 with the reason, on the post
            post.refresh_from_db()
            messages.error(request, str(exc) or _("You may not do this."))
            return render(request, "mutual_aid/post.html", _post_context(request, post), status=403)
        else:
            messages.success(request, str(spec.done))
            if action == "pass_on" and isinstance(result, Post):
                return redirect("mutual_aid:post", post_id=result.pk)
            return redirect(back)
    post.refresh_from_db()
    messages.error(request, _("Please correct the marked fields."))
    context = _post_context(request, post, bound={action: form})
    context["error_action"] = action
    return render(request, "mutual_aid/post.html", context, status=422)


# --- mine -----------------------------------------------------------------------------------------------
@login_required
def mine(request):
    """My posts and my answers, with their states."""
    user = request.user
    if not _may_use(user):
        raise PermissionDenied
    my_posts = list(
        Post.objects.filter(author=user)
        .select_related("household")
        .annotate(n_responses=Count("responses", filter=~Q(responses__state=ResponseState.WITHDRAWN)))
        .order_by("-created_at", "-id")[:MINE_LIMIT]
    )
    my_answers = list(
        Response.objects.filter(helper=user)
        .select_related("post")
        .order_by("-created_at", "-id")[:MINE_LIMIT]
    )
    return render(request, "mutual_aid/mine.html", {"my_posts": my_posts, "my_answers": my_answers})


# --- the opt-in -----------------------------------------------------------------------------------------
@login_required
def aid_settings(request):
    """Opt in: on/off, how far, which kinds of need, quiet hours."""
    user = request.user
    if scope_for(user, Perm.POST_AID).is_empty:
        raise PermissionDenied
    current = Subscription.objects.filter(user=user).first()
    status = 200
    if request.method == "POST":
        form = f.SubscriptionForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                posts.subscribe(
                    user,
                    active=d["active"],
                    reach=d["reach"],
                    categories=d["categories"],
                    quiet_from=d["quiet_from"],
                    quiet_until=d["quiet_until"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Your settings are saved."))
                return redirect("mutual_aid:settings")
        status = 422
    else:
        initial = {"active": False}
        if current is not None:
            initial = {
                "active": current.active,
                "reach": current.reach,
                "categories": current.categories,
                "quiet_from": current.quiet_from,
                "quiet_until": current.quiet_until,
            }
        form = f.SubscriptionForm(initial=initial)
    return render(request, "mutual_aid/settings.html", {"form": form, "current": current}, status=status)


# --- moderation -----------------------------------------------------------------------------------------
@login_required
def moderation(request):
    """The queue of open reports here (mutual_aid.moderate) and the hidden posts, with restore."""
    user = request.user
    if scope_for(user, Perm.MODERATE_AID).is_empty:
        raise PermissionDenied
    reports = list(selectors.moderation_queue(user)[:QUEUE_LIMIT])
    for report in reports:
        report.form = f.ModerateForm(prefix=f"r{report.pk}")
    hidden = list(
        selectors.hidden_posts_for_moderator(user)
        .select_related("entrance")
        .order_by("-created_at", "-id")[:QUEUE_LIMIT]
    )
    return render(request, "mutual_aid/moderation.html", {"reports": reports, "hidden": hidden})


@login_required
def moderate_report(request, report_id):
    """Uphold (hide the post) or dismiss one report."""
    user = request.user
    if request.method != "POST":
        return redirect("mutual_aid:moderation")
    report = selectors.get_report_for_user(user, report_id)
    form = f.ModerateForm(request.POST, prefix=f"r{report.pk}")
    if form.is_valid():
        try:
            posts.moderate(
                user, report, decision=form.cleaned_data["decision"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except (TransitionNotAllowed, Conflict) as exc:
            messages.error(request, str(exc) or _("This report was handled already."))
        else:
            messages.success(request, _("The report is handled."))
    else:
        messages.error(request, _("Choose uphold or dismiss."))
    return redirect("mutual_aid:moderation")


urlpatterns = [
    path("", open_posts, name="open"),
    path("new/", new_post, name="new"),
    path("mine/", mine, name="mine"),
    path("settings/", aid_settings, name="settings"),
    path("moderation/", moderation, name="moderation"),
    path("moderation/reports/<int:report_id>/", moderate_report, name="moderate_report"),
    path("posts/<int:post_id>/", post_detail, name="post"),
    path("posts/<int:post_id>/card/", post_card, name="post_card"),
    path("posts/<int:post_id>/photo/", post_photo, name="post_photo"),
    path("posts/<int:post_id>/<slug:action>/", post_act, name="post_act"),
]
