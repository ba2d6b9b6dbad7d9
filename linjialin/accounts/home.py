"""What each role's home page shows: the work waiting, one tap from each task.

Counts come from each app's selectors (`home_counts_for_user`): accounts reads no other app's models.
A section is a title and a list of links, each with an optional count and hint; the template draws
them all alike, so a role's home is the list of sections its grants and permissions give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import audit_checkpoints
from linjialin.core.scope import scope_for
from linjialin.hotspots import selectors as hotspot_selectors
from linjialin.mediation import selectors as mediation_selectors
from linjialin.mutual_aid import selectors as aid_selectors
from linjialin.places.models import Level
from linjialin.service_requests import callbacks as request_callbacks
from linjialin.service_requests import metrics
from linjialin.service_requests import selectors as request_selectors

from . import selectors
from .audit_views import PERSONAL_DATA
from .roles import ROLES, Perm, Role

COMMUNITY_STAFF = {Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY}


@dataclass
class Link:
    label: str
    url: str
    count: int | None = None
    hint: str = ""
    alert: bool = False  # a count that needs action now (overdue): drawn in red


@dataclass
class Section:
    key: str
    title: str
    links: list[Link] = field(default_factory=list)
    rates: list[dict] | None = None  # this month's rates: label, percent, detail
    rates_url: str = ""
    chain: dict | None = None  # the audit section: the last check of the audit chain (_chain_state)


def _url(name: str, *args, **query) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _has(user, perm: str) -> bool:
    return not scope_for(user, perm).is_empty


def home_sections(user, grants) -> tuple[dict | None, list[Section]]:
    """(the resident's submit button and emergency numbers, or None; the work sections, most urgent
    first). `grants` are the user's current grants (accounts.selectors.home_roles)."""
    roles = {Role(g.role) for g in grants}
    now = timezone.now()
    requests_home = request_selectors.home_counts_for_user(user, now)
    aid = aid_selectors.home_counts_for_user(user)
    mediation = mediation_selectors.home_counts_for_user(user)
    sections: list[Section] = []
    resident = None
    resident_grant = next((g for g in grants if g.role == Role.RESIDENT), None)
    if resident_grant is not None:
        resident = {"submit_url": reverse("requests:submit")}
        sections.append(_resident_section(user, resident_grant, requests_home, aid, mediation))
    if requests_home.queue is not None:
        queue = _queue_section(requests_home, roles)
        # 代报 for the staff and leaders who may submit (a resident's own button is above)
        if any(r != Role.RESIDENT and Perm.SUBMIT_REQUEST in ROLES[r].perms for r in roles):
            queue.links.append(Link(_("Submit for a resident (代报)"), reverse("requests:behalf")))
        sections.append(queue)
    if aid.care_due is not None or aid.at_entrances is not None:
        sections.append(_aid_section(aid))
    if requests_home.desk is not None:
        sections.append(_desk_section(requests_home))
    staff_places = [g.place for g in grants if Role(g.role) in COMMUNITY_STAFF]
    if staff_places:
        sections.append(_community_section(user, staff_places[0], now))
    _add_callbacks(user, sections, now)
    mediation_section = _mediation_section(user, mediation)
    if mediation_section is not None:
        sections.append(mediation_section)
    if _has(user, Perm.VIEW_AUDIT):
        sections.append(_audit_section(user, now))
    if Role.SYSTEM_ADMIN in roles:
        sections.append(_admin_section(user))
    return resident, sections


def _resident_section(user, grant, requests_home, aid, mediation) -> Section:
    open_hint = _("%(open)d open · %(rate)d to rate") % {
        "open": requests_home.my_open,
        "rate": requests_home.my_to_rate,
    }
    links = [
        Link(
            _("My requests"),
            reverse("requests:mine"),
            requests_home.my_open + requests_home.my_to_rate,
            open_hint,
        ),
        Link(_("My mediation cases"), reverse("mediation:my_cases"), mediation.my_cases),
    ]
    if _has(user, Perm.POST_AID):
        links += [
            Link(_("My mutual-aid posts"), reverse("mutual_aid:mine"), aid.my_posts),
            Link(_("Help nearby"), reverse("mutual_aid:open"), aid.nearby, _("open posts near my home")),
        ]
    if grant.place.parent_id:
        links.append(
            Link(_("My entrance board"), reverse("requests:board_entrance", args=[grant.place.parent_id]))
        )
    links.append(
        Link(_("My personal data"), reverse("accounts:my_data"), hint=_("download it, ask for corrections"))
    )
    return Section("resident", _("My neighbourhood"), links)


def _queue_section(requests_home, roles: set[Role]) -> Section:
    q = requests_home.queue
    links = [
        Link(_("New"), _url("requests:queue", tab="new"), q["new"], _("waiting to be accepted")),
        Link(_("Mine"), _url("requests:queue", tab="mine"), q["mine"], _("I am handling them")),
        Link(_("Due soon"), _url("requests:queue", tab="due"), q["due"]),
        Link(_("Overdue"), _url("requests:queue", tab="overdue"), q["overdue"], alert=q["overdue"] > 0),
    ]
    first = requests_home.first_overdue
    if first is not None:
        links.append(
            Link(
                _("Open the oldest overdue request %(number)s") % {"number": first.number},
                reverse("requests:detail", args=[first.pk]),
                alert=True,
            )
        )
    if roles & {Role.ENTRANCE_LEADER, Role.FLOOR_LEADER}:
        title = _("Requests at my entrance")
    elif Role.BUILDING_LEADER in roles:
        title = _("Requests in my building")
    else:
        title = _("My request queue")
    return Section("queue", title, links)


def _aid_section(aid) -> Section:
    links = []
    if aid.care_due is not None:
        links.append(
            Link(_("Care visits due"), reverse("mutual_aid:care"), aid.care_due, alert=aid.care_due > 0)
        )
    if aid.at_entrances is not None:
        links.append(
            Link(_("Open mutual-aid posts in my area"), reverse("mutual_aid:open"), aid.at_entrances)
        )
    return Section("aid", _("Neighbours and care"), links)


def _desk_section(requests_home) -> Section:
    d = requests_home.desk
    links = [
        Link(_("To dispatch"), _url("requests:desk", tab="incoming"), d["incoming"]),
        Link(_("Returned (退单) to review"), _url("requests:desk", tab="returned"), d["returned"]),
        Link(_("Overdue"), _url("requests:desk", tab="overdue"), d["overdue"], alert=d["overdue"] > 0),
        Link(_("Under supervision (督办)"), _url("requests:desk", tab="supervised"), d["supervised"]),
        Link(_("12345 import"), reverse("requests:hotline_import")),
        Link(_("Rates"), reverse("requests:rates")),
        Link(_("Hotspots"), reverse("hotspots:index")),
    ]
    return Section("desk", _("Dispatcher desk"), links)


def _add_callbacks(user, sections: list[Section], now) -> None:
    """Phone call-backs (回访) due, on the desk (or else the community) section of those who call back."""
    due = request_callbacks.count_due_for_user(user, now)
    if due is None:
        return
    home = next((s for s in sections if s.key == "desk"), None) or next(
        (s for s in sections if s.key == "community"), None
    )
    if home is None:
        home = Section("callbacks", _("Call-backs"))
        sections.append(home)
    home.links.insert(
        min(len(home.links), 4), Link(_("Call-backs due (回访)"), reverse("requests:callbacks"), due)
    )


def _community_section(user, place, now) -> Section:
    """This month's three rates at the worker's place, hotspots and proactive tasks, 楼门长 coverage."""
    first, last = metrics.period_days("this_month", timezone.localdate(now))
    table = metrics.rates_table(user, place, metrics.period_instants(first, last))
    total = table.total
    names = metrics.rate_names(table.rules)
    rates = [
        {"label": names[key], "percent": rate.percent, "detail": f"{rate.numerator_text}/{rate.denominator}"}
        for key, rate in (
            ("response", total.response),
            ("resolution", total.resolution),
            ("satisfaction", total.satisfaction),
        )
    ]
    hot = hotspot_selectors.home_counts_for_user(user) or {"hotspots": 0, "tasks": 0}
    links = [
        Link(_("Hotspots"), reverse("hotspots:index"), hot["hotspots"]),
        Link(_("Proactive tasks under way"), reverse("hotspots:index"), hot["tasks"]),
    ]
    if place.level <= Level.COMMUNITY and scope_for(user, Perm.MANAGE_COVERAGE).covers(place.path):
        coverage = selectors.coverage_by_community(place)
        row = coverage[0] if coverage else None
        if row is not None:
            links.append(
                Link(
                    _("Entrance leader coverage"),
                    reverse("accounts:coverage_community", args=[row.community.pk]),
                    hint=_("%(covered)d of %(entrances)d entrances")
                    % {"covered": row.covered, "entrances": row.entrances},
                )
            )
    section = Section("community", _("This month at %(place)s") % {"place": place.name}, links)
    section.rates = rates
    section.rates_url = _url("requests:rates", place=place.pk, period="this_month")
    return section


def _mediation_section(user, mediation) -> Section | None:
    figures = _has(user, Perm.MEDIATION_FIGURES)
    if mediation.desk is None and not figures:
        return None
    links = []
    if mediation.desk is not None:
        d = mediation.desk
        links += [
            Link(_("waiting for consent"), _url("mediation:desk", tab="consent"), d["consent"]),
            Link(_("in mediation"), _url("mediation:desk", tab="mediation"), d["mediation"]),
            Link(
                _("Overdue cases"),
                _url("mediation:desk", tab="overdue"),
                d["overdue"],
                alert=d["overdue"] > 0,
            ),
            Link(_("follow-ups due"), _url("mediation:desk", tab="followups"), d["followups"]),
            Link(_("Screening"), reverse("mediation:screenings")),
            Link(_("Legal consultations"), reverse("mediation:consultations")),
            Link(_("Prevention tasks"), reverse("mediation:tasks"), d["tasks"]),
        ]
    if figures:
        links.append(Link(_("Mediation figures"), reverse("mediation:reports")))
    return Section("mediation", _("Mediation centre"), links)


def _audit_section(user, now) -> Section:
    week = selectors.personal_data_events(user, since=now - timedelta(days=7))
    links = [
        Link(
            _("Personal data seen or exported this week"),
            _url("audit:list", action=PERSONAL_DATA),
            week,
        ),
        Link(_("Audit trail"), reverse("audit:list")),
    ]
    return Section("audit", _("Audit"), links, chain=_chain_state())


def _chain_state() -> dict:
    """The last check of the audit chain as the hourly and nightly jobs (and `linjialin audit verify`)
    recorded it: no walk of the chain per page view."""
    check = audit_checkpoints.latest()
    if check is None:
        return {"state": "none"}
    where = ""
    if not check.ok:
        if check.checkpoint_line is not None:
            where = _("checkpoint line %(n)d") % {"n": check.checkpoint_line}
        elif check.broken_seq is not None:
            where = _("event #%(n)d") % {"n": check.broken_seq}
    return {
        "state": "ok" if check.ok else "broken",
        "at": check.at,
        "seq": check.head_seq,
        "where": where,
        "problem": check.problem,
        "line": check.checkpoint,
    }


def _admin_section(user) -> Section:
    links = [
        Link(_("All requests (dispatcher desk)"), reverse("requests:desk")),
        Link(_("Places"), reverse("places:browse")),
        Link(_("Entrance leader coverage"), reverse("accounts:coverage")),
        Link(_("Import roster"), reverse("places:import")),
        Link(_("Mutual aid figures"), reverse("mutual_aid:figures")),
        Link(_("API tokens"), reverse("accounts:tokens")),
    ]
    if user.is_staff:  # the Django admin opens for Django staff accounts only (no link one cannot open)
        links.append(Link(_("Site administration"), reverse("admin:index")))
    return Section("admin", _("Administration"), links)
