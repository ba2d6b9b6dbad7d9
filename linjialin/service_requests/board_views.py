"""The entrance board (楼门公告, issue 3 §5): what was solved around a resident's entrance, anonymised.

Shown: resolved, called-back and closed requests whose requester agreed to the board
(`board_consent`), placed at the entrance or one of its households, at its grid (items of its own
building — filed at the grid as 【N号楼】… — or of the whole grid) or at its community (public areas);
the most recent `PageRules.board_items` by resolution time. Each item says category, type, where (this
entrance / building / grid / community — never the household), the problem (the start of the
description) and the result note, both anonymised (`anonymise`), when it was submitted and resolved,
how long it took and the rating if there is one. Never a name, a phone or ID number or a room.

Who sees it: the residents of the entrance (a current resident grant on one of its households) and
staff whose requests.view scope covers it; anyone else gets 404.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linjialin.accounts.roles import Role
from linjialin.accounts.scope import current_grants
from linjialin.core.scope import scope_for, under
from linjialin.places.models import Level, Place

from .models import PageRules, RequestEvent, RequestPhoto, ServiceRequest, State
from .photos import photo_response

BOARD_STATES = (State.RESOLVED, State.CALLED_BACK, State.CLOSED)
PROBLEM_CHARS = 80  # the board shows the problem in short: the start of the description
ENTRANCES_PER_PAGE = 50

# --- anonymising free text ---------------------------------------------------------------------------
_CN_DIGITS = "一二三四五六七八九十百零〇两"
# long numbers: mobiles, landlines, ID numbers (digits with spaces or dashes between groups, X last)
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])\+?\d(?:[\d\s-]{5,}\d)(?:[Xx])?(?![0-9A-Za-z])")
_ID_WITH_X = re.compile(r"(?<![0-9A-Za-z])\d{17}[Xx](?![0-9A-Za-z])")
# where someone lives: 3号楼2单元502室, 5栋, 3单元502, 502室, 5楼, 5-2-502, 三单元五零二
_ADDRESS = re.compile(
    rf"(?:(?:\d+|[{_CN_DIGITS}]+)\s*(?:号楼|栋|幢|座|单元|室|户|层|楼(?![道梯下上顶内外])|号)\s*)+(?:\d+|[{_CN_DIGITS}]+)?"
)
_DASHED = re.compile(r"\d+(?:\s*[-—–]\s*\d+){1,3}")
_THREE_DIGITS = re.compile(r"(?<!\d)(?!(?:19|20)\d\d年)\d{3,}")  # not a year (2026年)
_CN_ROOM = re.compile(r"[一二三四五六七八九零〇]{3,}")  # 五零二
_HIDDEN = "**"
_NOT_SURNAME = "的位名个和与跟及请让给向对找这那是了在"  # word parts seen before 师傅, 老师 …: not a surname


def anonymise(text: str, *, names: Iterable[str] = (), honorifics: Iterable[str] = ()) -> str:
    """`text` without the names given, surnames before a form of address (张阿姨 → *阿姨, 老张 → 老*
    for a known surname), phone and ID numbers, and household / room / building numbers (runs of three
    or more digits, 3单元502, 502室, 5-2-502 …). Full-width characters are normalised first (NFKC), so
    ５０２ is caught like 502."""
    text = _ascii_digits(text or "")
    names = sorted({_ascii_digits(n).strip() for n in names if n and len(n.strip()) >= 2})
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, _HIDDEN)
    surnames = {n[0] for n in names if "\u4e00" <= n[0] <= "\u9fff"}
    if surnames:
        text = re.sub(rf"([老小])[{''.join(sorted(surnames))}]", r"\1*", text)
    titles = sorted({t.strip() for t in honorifics if t.strip()}, key=len, reverse=True)
    if titles:
        # the character before a form of address is a surname, unless it is a common word part
        pattern = rf"(?![{_NOT_SURNAME}])[\u4e00-\u9fff]({'|'.join(map(re.escape, titles))})"
        text = re.sub(pattern, r"*\1", text)
    text = _ID_WITH_X.sub(_HIDDEN, text)
    text = _LONG_NUMBER.sub(_HIDDEN, text)
    text = _ADDRESS.sub(_HIDDEN, text)
    text = _DASHED.sub(_HIDDEN, text)
    text = _CN_ROOM.sub(_HIDDEN, text)
    return _THREE_DIGITS.sub(_HIDDEN, text)


def _ascii_digits(text: str) -> str:
    """Full-width digits, letters and dashes as ASCII (１２３ → 123), Chinese punctuation left alone."""
    out = []
    for c in text:
        n = unicodedata.normalize("NFKC", c)
        out.append(n if len(n) == 1 and n.isascii() and (n.isalnum() or n in "-+") else c)
    return "".join(out)


# --- who may see which board -------------------------------------------------------------------------
def _home_entrance_ids(user) -> set[int]:
    """The entrances of the households the user currently lives in (resident grants) and of the floors
    they lead (a 层长's requests.view reaches only the floor's households, not the entrance)."""
    ids = set()
    for g in current_grants(user):
        if g.role == Role.RESIDENT and g.place.level == Level.HOUSEHOLD and g.place.parent_id:
            ids.add(g.place.parent_id)
        elif g.role == Role.FLOOR_LEADER and g.place.level == Level.ENTRANCE:
            ids.add(g.place_id)
    return ids


def may_view_board(user, entrance: Place) -> bool:
    return entrance.pk in _home_entrance_ids(user) or scope_for(user, "requests.view").covers(entrance.path)


def get_entrance_for_board(user, entrance_id) -> Place:
    """The entrance, or 404 when it is missing, not an entrance, or not the user's to see."""
    try:
        entrance = Place.objects.select_related("building").get(pk=entrance_id, level=Level.ENTRANCE)
    except (Place.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_view_board(user, entrance):
        raise Http404
    return entrance


# --- what is on it --------------------------------------------------------------------------------------
def _building_label(entrance: Place) -> str:
    """How the submit page names the entrance's building in a grid-level request (【1号楼】…)."""
    return entrance.building.number if entrance.building_id else entrance.name


def _on_board(entrance: Place):
    """The requests that may appear on the entrance's board (consented, resolved, around it)."""
    community_path, grid_path = entrance.ancestor_paths[1], entrance.ancestor_paths[2]
    building = f"【{_building_label(entrance)}】"
    where = (
        under(entrance.path)
        | (Q(path=grid_path) & (~Q(description__startswith="【") | Q(description__startswith=building)))
        | Q(path=community_path)
    )
    return ServiceRequest.objects.filter(
        where, board_consent=True, state__in=BOARD_STATES, resolved_at__isnull=False
    )


def board_items(entrance: Place, rules: PageRules) -> list[dict]:
    """The most recent resolved, consented items around the entrance, anonymised (three queries)."""
    community_path, grid_path = entrance.ancestor_paths[1], entrance.ancestor_paths[2]
    building = f"【{_building_label(entrance)}】"
    reqs = list(
        _on_board(entrance)
        .select_related("category", "requester", "submitted_by", "handler")
        .order_by("-resolved_at", "-pk")[: rules.board_items]
    )
    after_photos: dict[int, list[int]] = {}  # the handler's "after" photos, next to the result
    for photo_id, request_id in RequestPhoto.objects.filter(request__in=reqs, after=True).values_list(
        "pk", "request_id"
    ):
        after_photos.setdefault(request_id, []).append(photo_id)
    actors: dict[int, set[str]] = {}
    for request_id, name in RequestEvent.objects.filter(request__in=reqs).values_list(
        "request_id", "actor_name"
    ):
        actors.setdefault(request_id, set()).add(name)
    honorifics = rules.board_honorifics.splitlines()
    items = []
    for r in reqs:
        names = {r.contact_name, *actors.get(r.pk, ())}
        names |= {u.display_name for u in (r.requester, r.submitted_by, r.handler) if u is not None}
        if r.path == grid_path:
            place = _("this building") if r.description.startswith(building) else _("this grid")
        elif r.path == community_path:
            place = _("this community")
        else:
            place = _("this entrance")
        items.append(
            {
                "pk": r.pk,
                "category": r.category.label if r.category_id else "",
                "problem": problem(r.description, names=names, honorifics=honorifics),
                "type": r.get_request_type_display(),
                "where": place,
                "submitted": r.submitted_at,
                "resolved": r.resolved_at,
                "took": took(r.resolved_at - r.submitted_at),
                "result": anonymise(r.result, names=names, honorifics=honorifics),
                "satisfaction": r.get_satisfaction_display() if r.satisfaction else "",
                "satisfied": r.satisfaction,
                "after_photos": after_photos.get(r.pk, []),
            }
        )
    return items


def problem(description: str, *, names: Iterable[str] = (), honorifics: Iterable[str] = ()) -> str:
    """The problem in short for the board: the description without the building tag of a grid-level
    request (【3号楼】), anonymised, cut at PROBLEM_CHARS (after anonymising, so no number is cut in two
    and left half visible)."""
    text = re.sub(r"^【[^】]*】\s*", "", (description or "").strip())
    text = " ".join(anonymise(text, names=names, honorifics=honorifics).split())
    return text if len(text) <= PROBLEM_CHARS else text[: PROBLEM_CHARS - 1].rstrip() + "…"


def took(delta) -> str:
    """How long it took, in words read at a glance: "under an hour", "5 hours", "2 days 3 hours"."""
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return _("under an hour")
    days, hours = divmod(hours, 24)
    day_text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    hour_text = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    if days and hours:
        return _("%(days)s %(hours)s") % {"days": day_text, "hours": hour_text}
    return day_text if days else hour_text


def _rules() -> PageRules:
    return PageRules.objects.first() or PageRules()


# --- pages ------------------------------------------------------------------------------------------
@login_required
def board(request, entrance_id):
    entrance = get_entrance_for_board(request.user, entrance_id)
    rules = _rules()
    context = {"entrance": entrance, "items": board_items(entrance, rules), "limit": rules.board_items}
    return render(request, "service_requests/board.html", context)


@login_required
def board_photo(request, entrance_id, photo_id):
    """An "after" photo of an item on the board, to those who may see the board (nothing else of the
    request: the photo must be an after photo of a request that is on this board)."""
    entrance = get_entrance_for_board(request.user, entrance_id)
    item = get_object_or_404(RequestPhoto, pk=photo_id, after=True, request__in=_on_board(entrance))
    return photo_response(item)


@login_required
def board_index(request):
    """The user's board: straight to it when there is one (a resident's entrance, a 楼门长's), else a
    list of the entrances the user may see (their home and their requests.view scope); none → 404."""
    user = request.user
    scope = scope_for(user, "requests.view")
    where = Q(pk__in=_home_entrance_ids(user))
    if not scope.is_empty:
        where |= scope.q()
    entrances = Place.objects.filter(where, level=Level.ENTRANCE).order_by("path")
    page = Paginator(entrances, ENTRANCES_PER_PAGE).get_page(request.GET.get("page"))
    if page.paginator.count == 1:
        return redirect("requests:board_entrance", entrance_id=page[0].pk)
    if not page.paginator.count:
        raise Http404
    return render(request, "service_requests/board_index.html", {"page": page})
