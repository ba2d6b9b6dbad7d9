"""Similar open requests (issue 4 §3, docs/duplicates.md): reads only; the writes (我也遇到, merge,
unmerge, a co-requester's rating) are in services.py.

Where a resident looks: the shared places of their compound (小区) —

* the **entrances** of the compound (a request filed at a 楼门), the resident's own entrance first;
* the **buildings** of the compound: a building is not a Place, a request about it is filed at the
  entrance's grid with its description starting 【N号楼】 (service_requests/views.py building_target);
* the compound's **public area**: filed at its community, starting 【<compound> public area】.

Households are private and never offered to residents; a dispatcher's candidates for a request also
include the other households' requests of the same entrance. Only open requests submitted within
`DuplicateRules.days` count; the place filter (indexed `place_id` + `submitted_at`, the
`request_place_recent` index) cuts the candidates to at most `DuplicateRules.candidates` rows before
any text is compared.

Similarity (0–100) of the texts after core.text.normalise (NFKC, lower case, phone and ID numbers
removed), the 【…】 prefix and punctuation dropped: the mean of the character-bigram Dice coefficient
and rapidfuzz's partial ratio (the best-aligned window of the shorter text in the longer one, so that
a short text typed on the phone still matches a longer description). Ranked by similarity, then by
nearness (entrance, building, compound), then newest first; below `DuplicateRules.min_similarity`
nothing is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz

from linjialin.core.scope import under
from linjialin.core.text import normalise
from linjialin.places.models import Level, Place

from .models import OPEN_STATES, CoRequester, DuplicateRules, ServiceRequest

NEAR = {"entrance": 0, "building": 1, "compound": 2}
WHERE_LABELS = {
    "entrance": gettext_lazy("your entrance"),
    "building": gettext_lazy("your building"),
    "compound": gettext_lazy("your compound"),
}
_PREFIX_RE = re.compile(r"^【[^】]*】")
_DROP_RE = re.compile(r"[\s\W_]+")


def rules() -> DuplicateRules:
    """The rules row, cached per process (policy_cache: a minute, cleared on save). Read only."""
    from .policy_cache import duplicate_rules

    return duplicate_rules()


# --- text ------------------------------------------------------------------------------------------------
def clean(text: str) -> str:
    """The text compared: normalised, without the 【place】 prefix, punctuation and spaces."""
    text = _PREFIX_RE.sub("", (text or "").strip())
    return _DROP_RE.sub("", normalise(text, placeholders=False))


def _bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def similarity_of_clean(a: str, b: str, a_grams: set[str] | None = None) -> int:
    if not a or not b:
        return 0
    ga, gb = a_grams if a_grams is not None else _bigrams(a), _bigrams(b)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    return round((dice * 100 + fuzz.partial_ratio(a, b)) / 2)


def similarity(a: str, b: str) -> int:
    """How alike two request texts are, 0–100 (module docstring)."""
    return similarity_of_clean(clean(a), clean(b))


def shown_text(text: str, length: int = 80) -> str:
    """What others are shown of a request's text: without the place prefix, phone and ID numbers
    replaced by placeholders (core.text), at most `length` characters."""
    text = normalise(_PREFIX_RE.sub("", (text or "").strip()))
    return text if len(text) <= length else text[: length - 1] + "…"


# --- where to look ---------------------------------------------------------------------------------------
def public_area_prefix(compound) -> str:
    """The 【…】 a request about a compound's public area starts with (the same msgid and site language as
    service_requests/views.public_area_prefix, which files it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(compound)s public area") % {"compound": compound.name}


@dataclass(frozen=True)
class Area:
    """Where similar requests are looked for: (place id, description prefix or "", nearness) triples,
    and, for staff, the entrance whose households count too."""

    spots: tuple[tuple[int, str, str], ...]
    households_of: str = ""  # an entrance path

    def q(self) -> Q:
        """One IN for the places taken whole, one term per prefixed place (few: the compound's grids and
        community), the entrance's households as a path range: cheap to compile, each term indexed."""
        whole = [place_id for place_id, prefix, _near in self.spots if not prefix]
        q = Q(place_id__in=whole)
        for place_id, prefix, _near in self.spots:
            if prefix:
                q |= Q(place_id=place_id, description__startswith=prefix)
        if self.households_of:
            q |= under(self.households_of) & Q(path__gt=self.households_of)
        return q

    def nearness(self, place_id: int, description: str, path: str) -> str | None:
        if self.households_of and path.startswith(self.households_of) and path != self.households_of:
            return "entrance"
        best = None
        for pid, prefix, near in self.spots:
            if pid == place_id and (not prefix or description.startswith(prefix)):
                if best is None or NEAR[near] < NEAR[best]:
                    best = near
        return best


def _entrance_and_building(place: Place, text: str) -> tuple[Place | None, int | None, object | None]:
    """(entrance, building id, compound) that a place (and, for a grid or community, the text's 【prefix】)
    stands for."""
    if place.level == Level.HOUSEHOLD:
        place = Place.objects.select_related("compound").get(pk=place.parent_id)
    if place.level == Level.ENTRANCE:
        return place, place.building_id, place.compound
    prefix = _PREFIX_RE.match((text or "").strip())
    if prefix is None:
        return None, None, None
    label = prefix.group(0)[1:-1]
    if place.level == Level.GRID:
        for e in Place.objects.filter(
            parent=place, level=Level.ENTRANCE, building__number=label
        ).select_related("compound", "building")[:1]:
            return None, e.building_id, e.compound
    if place.level == Level.COMMUNITY:
        for compound in place.compounds.all():
            if public_area_prefix(compound) == label:
                return None, None, compound
    return None, None, None


def area_of(place: Place, text: str = "", *, households: bool = False) -> Area:
    """The shared places near `place` (module docstring); with `households`, also the other households
    of the same entrance (the dispatcher's view)."""
    entrance, building_id, compound = _entrance_and_building(place, text)
    if compound is None:
        if entrance is not None:  # an entrance outside any compound
            return Area(((entrance.pk, "", "entrance"),), entrance.path if households else "")
        prefix = _PREFIX_RE.match((text or "").strip())
        return Area(((place.pk, prefix.group(0) if prefix else "", "entrance"),))
    spots: list[tuple[int, str, str]] = []
    grids: dict[tuple[int, str], str] = {}
    entrances = Place.objects.filter(compound_id=compound.pk, level=Level.ENTRANCE).values_list(
        "pk", "parent_id", "building_id", "building__number"
    )
    for pk, grid_id, e_building, number in entrances:
        if entrance is not None and pk == entrance.pk:
            near = "entrance"
        elif building_id is not None and e_building == building_id:
            near = "building"
        else:
            near = "compound"
        spots.append((pk, "", near))
        if e_building:
            key = (grid_id, f"【{number}】")
            near_b = "building" if e_building == building_id else "compound"
            if key not in grids or NEAR[near_b] < NEAR[grids[key]]:
                grids[key] = near_b
    spots += [(grid_id, prefix, near) for (grid_id, prefix), near in grids.items()]
    spots.append((compound.community_id, f"【{public_area_prefix(compound)}】", "compound"))
    return Area(tuple(spots), entrance.path if households and entrance is not None else "")


# --- similar open requests -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Similar:
    request: ServiceRequest
    similarity: int
    near: str  # entrance | building | compound
    voices: int  # the requester and the co-requesters
    joined: bool = False  # the asking user already joined it

    @property
    def where(self) -> str:
        return str(WHERE_LABELS[self.near])

    @property
    def text(self) -> str:
        return shown_text(self.request.description)


def similar_open(
    place: Place,
    text: str,
    *,
    exclude=None,
    days: int | None = None,
    limit: int | None = None,
    households: bool = False,
    user=None,
    now: datetime | None = None,
) -> list[Similar]:
    """Open requests near `place` submitted in the last `days` (default DuplicateRules.days), most
    similar to `text` first, at least DuplicateRules.min_similarity, at most `limit`. `exclude`: a
    request (or id) left out; `user`: their own requests are left out and `joined` says whether they
    already joined one."""
    r = rules()
    days = r.days if days is None else days
    limit = r.shown if limit is None else limit
    query = clean(text)
    if not query or not days or not limit:
        return []
    area = area_of(place, text, households=households)
    since = (now or timezone.now()) - timedelta(days=days)
    qs = ServiceRequest.objects.filter(area.q(), state__in=OPEN_STATES, submitted_at__gte=since)
    if exclude is not None:
        qs = qs.exclude(pk=getattr(exclude, "pk", exclude))
    if user is not None:
        qs = qs.exclude(requester=user)
    rows = list(
        qs.order_by("-submitted_at").values_list("pk", "place_id", "path", "description", "submitted_at")[
            : r.candidates
        ]
    )
    grams = _bigrams(query)
    scored = []
    for pk, place_id, path, description, submitted_at in rows:
        score = similarity_of_clean(query, clean(description), grams)
        near = area.nearness(place_id, description, path)
        if score >= r.min_similarity and near is not None:
            scored.append((-score, NEAR[near], -submitted_at.timestamp(), pk, score, near))
    scored.sort()
    top = scored[:limit]
    if not top:
        return []
    ids = [t[3] for t in top]
    shown = ServiceRequest.objects.filter(pk__in=ids).select_related("place", "category")
    shown = shown.annotate(n_co=Count("co_requesters"))
    if user is not None:  # whether the user joined it: in the same query
        shown = shown.annotate(
            joined=Exists(CoRequester.objects.filter(user=user, request_id=OuterRef("pk")))
        )
    requests = {req.pk: req for req in shown}
    return [
        Similar(requests[pk], score, near, 1 + requests[pk].n_co, getattr(requests[pk], "joined", False))
        for *_rest, pk, score, near in top
    ]


def queue_hints(rows: list[ServiceRequest], among: list[ServiceRequest]) -> dict[int, ServiceRequest]:
    """For the queue: each row's possible duplicate — another open request of `among` (the queue's open
    requests, already read) at the same entrance (or the same shared place), submitted within
    DuplicateRules.days of it and at least DuplicateRules.min_similarity alike; the most alike, else the
    oldest. No query: the rows are compared in memory, only within their place group."""
    r = rules()
    if not r.days:
        return {}
    window = timedelta(days=r.days)

    def group(req):  # the entrance of a household's request, else the shared place itself
        return req.path if req.path.count(".") < 5 else req.path.rsplit(".", 2)[0] + "."

    groups: dict[str, list] = {}
    for other in among:
        groups.setdefault(group(other), []).append(other)
    cleaned: dict[int, str] = {}
    hints = {}
    for req in rows:
        best = None
        for other in groups.get(group(req), []):
            if other.pk == req.pk or abs(other.submitted_at - req.submitted_at) > window:
                continue
            a = cleaned.setdefault(req.pk, clean(req.description))
            b = cleaned.setdefault(other.pk, clean(other.description))
            score = similarity_of_clean(a, b)
            if score >= r.min_similarity and (best is None or (-score, other.submitted_at) < best[0]):
                best = ((-score, other.submitted_at), other)
        if best is not None:
            hints[req.pk] = best[1]
    return hints


def candidates_for(req: ServiceRequest, *, limit: int | None = None) -> list[Similar]:
    """The dispatcher's duplicate candidates for a request: similar open requests near it (households of
    its entrance included), itself and the requests already merged into it left out."""
    return similar_open(req.place, req.description, exclude=req, limit=limit, households=True)


# --- residents: home and joining ---------------------------------------------------------------------------
def home_household(user) -> Place | None:
    """The household of the user's current resident grant (the first), or None."""
    from linjialin.accounts.roles import Role
    from linjialin.accounts.scope import current_grants

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    for grant in current_grants(user):
        if grant.role == Role.RESIDENT and grant.place.level == Level.HOUSEHOLD:
            return grant.place
    return None


def may_see_for_joining(user, req: ServiceRequest) -> bool:
    """A resident sees a request to join when it stands at a shared place of their compound."""
    household = home_household(user)
    if household is None:
        return False
    return ServiceRequest.objects.filter(area_of(household).q(), pk=req.pk).exists()


def get_joinable(user, request_id) -> ServiceRequest:
    """The request a resident may join (or be told why not), or 404 when it is not near their home."""
    try:
        req = ServiceRequest.objects.select_related("place").get(pk=request_id)
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_see_for_joining(user, req):
        raise Http404
    return req


def co_requester_of(user, req: ServiceRequest) -> CoRequester | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return CoRequester.objects.filter(request=req, user=user).first()


def followed(req: ServiceRequest) -> ServiceRequest:
    """The request a merged request follows (its state is the parent's); itself otherwise."""
    seen = {req.pk}
    while req.merged_into_id and req.merged_into_id not in seen:
        seen.add(req.merged_into_id)
        req = req.merged_into
    return req


def co_requester_row(user, request_id) -> CoRequester | None:
    """The user's co-requester row on a request (with the request), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return (
            CoRequester.objects.select_related("request")
            .filter(request_id=int(request_id), user=user)
            .first()
        )
    except (ValueError, TypeError):
        return None
