"""Roles and what each may do: the one place in code where this is declared.

A `RoleGrant(user, role, place)` gives the role's permissions on that place and everything below it.
`docs/roles.md` is generated from this table (`linjialin docs`); tests read it too.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from linjialin.places.models import Level


class Perm(StrEnum):
    VIEW_PLACE = "places.view_place"  # the tree, counts and entrance profiles
    VIEW_HOUSEHOLD = "places.view_household"  # households and residents, numbers masked
    VIEW_SENSITIVE = "places.view_sensitive"  # sensitive resident tags (health, living alone, minors …)
    UNMASK = "places.unmask"  # show a full mobile / ID number, with a reason, audited
    EDIT_ROSTER = "places.edit_roster"  # entrance profile entries, tags
    IMPORT_ROSTER = "places.import_roster"
    EXPORT_ROSTER = "places.export_roster"
    # full numbers in an export need UNMASK and a reason; this one is for sensitive tags and consent
    EXPORT_SENSITIVE = "places.export_sensitive"  # include sensitive tags (and consent) in exports
    MANAGE_COVERAGE = "accounts.manage_coverage"  # assign / replace / end 楼门长, 楼长, 层长
    MANAGE_GRANTS = "accounts.manage_grants"  # any role
    VIEW_AUDIT = "audit.view"
    SUBMIT_REQUEST = "requests.submit"  # submit a 微诉求 here (a resident for their household; leaders 代报)
    VIEW_REQUESTS = "requests.view"  # see the requests in scope (requester identity masked)
    HANDLE_REQUESTS = "requests.handle"  # accept, contact, resolve, escalate requests at the grant's level
    DISPATCH_REQUESTS = "requests.dispatch"  # dispatch, review returns, refuse, merge (the dispatcher desk)
    SUPERVISE_REQUESTS = "requests.supervise"  # approve extensions, 督办
    CALL_BACK = "requests.callback"  # phone call-backs (回访) of requests one did not handle
    APPLY_MEDIATION = "mediation.apply"  # apply for mediation of one's own dispute (a resident)
    MEDIATION_WORK = "mediation.work"  # serve on case teams; log screenings and legal consultations here
    MEDIATION_MANAGE = "mediation.manage"  # the centre's managers: every case here, teams, acceptance
    MEDIATION_FIGURES = "mediation.view_figures"  # the centre's counts and reports (no case contents)
    MEDIATION_EXPORT = "mediation.export_sensitive"  # the court filing pack with parties' identity, audited
    POST_AID = "mutual_aid.post"  # post needs and offers, answer neighbours (a 楼门长 for a household)
    MODERATE_AID = "mutual_aid.moderate"  # the moderation queue: reported posts and people here
    CARE_LIST = "mutual_aid.care"  # the care list here (consented sensitive tags), plan and record visits
    RUN_EMERGENCY = "mutual_aid.emergency"  # switch emergency mode on and off, form the team, set tasks
    AID_FIGURES = "mutual_aid.view_figures"  # mutual aid figures (counts)


class Role(models.TextChoices):
    RESIDENT = "resident", _("resident")
    FLOOR_LEADER = "floor_leader", _("floor leader (层长)")
    ENTRANCE_LEADER = "entrance_leader", _("entrance leader (楼门长)")
    BUILDING_LEADER = "building_leader", _("building leader (楼长)")
    GRID_WORKER = "grid_worker", _("grid worker (网格员)")
    COMMUNITY_WORKER = "community_worker", _("community worker")
    COMMUNITY_SECRETARY = "community_secretary", _("community party secretary")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("subdistrict staff")
    SUBDISTRICT_DISPATCHER = "subdistrict_dispatcher", _("subdistrict dispatcher")
    DEPARTMENT_HANDLER = "department_handler", _("department handler")
    LAWYER = "lawyer", _("lawyer")
    SOCIAL_WORKER = "social_worker", _("social worker")
    COUNSELLOR = "counsellor", _("psychological counsellor")
    MEDIATOR = "mediator", _("mediator")
    POLICE_OFFICER = "police_officer", _("community police officer")
    JUDGE = "judge", _("rotating judge")
    RESPECTED_RESIDENT = "respected_resident", _("respected resident (社区贤达)")
    VOLUNTEER = "volunteer", _("volunteer")
    MEDIATION_MANAGER = "mediation_manager", _("mediation centre manager")
    AUDITOR = "auditor", _("auditor")
    SYSTEM_ADMIN = "system_admin", _("system administrator")


@dataclass(frozen=True)
class RoleSpec:
    level: Level  # the level of place a grant of this role is made on
    perms: frozenset[Perm]
    staff: bool = False  # works at a desk: denser pages, staff home


P = Perm
_LEADER = frozenset({P.VIEW_PLACE, P.VIEW_HOUSEHOLD, P.SUBMIT_REQUEST, P.VIEW_REQUESTS, P.POST_AID})
_HANDLER = frozenset({P.VIEW_REQUESTS, P.HANDLE_REQUESTS})
_MEDIATION = frozenset({P.VIEW_PLACE, P.MEDIATION_WORK})
_COMMUNITY = frozenset(
    {
        P.VIEW_PLACE,
        P.VIEW_HOUSEHOLD,
        P.VIEW_SENSITIVE,
        P.UNMASK,
        P.EDIT_ROSTER,
        P.IMPORT_ROSTER,
        P.EXPORT_ROSTER,
        P.MANAGE_COVERAGE,
        P.SUBMIT_REQUEST,
        P.VIEW_REQUESTS,
        P.HANDLE_REQUESTS,
        P.CALL_BACK,
        P.MODERATE_AID,
        P.CARE_LIST,
        P.RUN_EMERGENCY,
    }
)

_CONFIDENTIAL = frozenset({P.APPLY_MEDIATION, P.MEDIATION_WORK, P.MEDIATION_MANAGE, P.MEDIATION_EXPORT})

ROLES: dict[Role, RoleSpec] = {
    Role.RESIDENT: RoleSpec(
        Level.HOUSEHOLD,
        frozenset({P.VIEW_PLACE, P.VIEW_HOUSEHOLD, P.SUBMIT_REQUEST, P.APPLY_MEDIATION, P.POST_AID}),
    ),
    Role.FLOOR_LEADER: RoleSpec(Level.ENTRANCE, _LEADER),
    Role.ENTRANCE_LEADER: RoleSpec(
        Level.ENTRANCE,
        _LEADER | _HANDLER | {P.VIEW_SENSITIVE, P.UNMASK, P.EDIT_ROSTER, P.MODERATE_AID, P.CARE_LIST},
    ),
    Role.BUILDING_LEADER: RoleSpec(Level.COMMUNITY, _LEADER),
    Role.GRID_WORKER: RoleSpec(
        Level.GRID,
        _LEADER | _HANDLER | {P.VIEW_SENSITIVE, P.UNMASK, P.EDIT_ROSTER, P.MODERATE_AID, P.CARE_LIST},
        staff=True,
    ),
    Role.COMMUNITY_WORKER: RoleSpec(Level.COMMUNITY, _COMMUNITY, staff=True),
    Role.COMMUNITY_SECRETARY: RoleSpec(
        Level.COMMUNITY,
        _COMMUNITY
        | {P.EXPORT_SENSITIVE, P.VIEW_AUDIT, P.SUPERVISE_REQUESTS, P.MEDIATION_FIGURES, P.AID_FIGURES},
        staff=True,
    ),
    Role.SUBDISTRICT_STAFF: RoleSpec(
        Level.SUBDISTRICT,
        frozenset(
            {
                P.VIEW_PLACE,
                P.VIEW_HOUSEHOLD,
                P.EXPORT_ROSTER,
                P.MANAGE_COVERAGE,
                P.SUPERVISE_REQUESTS,
                P.MEDIATION_FIGURES,
                P.AID_FIGURES,
            }
        )
        | _HANDLER,
        staff=True,
    ),
    Role.SUBDISTRICT_DISPATCHER: RoleSpec(
        Level.SUBDISTRICT,
        frozenset({P.VIEW_PLACE, P.VIEW_REQUESTS, P.DISPATCH_REQUESTS, P.SUPERVISE_REQUESTS, P.CALL_BACK}),
        staff=True,
    ),
    Role.DEPARTMENT_HANDLER: RoleSpec(Level.SUBDISTRICT, frozenset({P.VIEW_PLACE}) | _HANDLER, staff=True),
    Role.LAWYER: RoleSpec(Level.SUBDISTRICT, _MEDIATION, staff=True),
    Role.SOCIAL_WORKER: RoleSpec(Level.COMMUNITY, _MEDIATION, staff=True),
    Role.COUNSELLOR: RoleSpec(Level.SUBDISTRICT, _MEDIATION, staff=True),
    Role.MEDIATOR: RoleSpec(Level.COMMUNITY, _MEDIATION, staff=True),
    Role.POLICE_OFFICER: RoleSpec(Level.COMMUNITY, _MEDIATION, staff=True),
    Role.JUDGE: RoleSpec(Level.SUBDISTRICT, _MEDIATION, staff=True),
    Role.RESPECTED_RESIDENT: RoleSpec(Level.COMMUNITY, _MEDIATION),
    Role.VOLUNTEER: RoleSpec(Level.COMMUNITY, frozenset({P.VIEW_PLACE})),
    Role.MEDIATION_MANAGER: RoleSpec(
        Level.SUBDISTRICT,
        _MEDIATION | {P.MEDIATION_MANAGE, P.MEDIATION_FIGURES, P.MEDIATION_EXPORT, P.VIEW_HOUSEHOLD},
        staff=True,
    ),
    Role.AUDITOR: RoleSpec(Level.SUBDISTRICT, frozenset({P.VIEW_PLACE, P.VIEW_AUDIT}), staff=True),
    # everything but the contents of mediation cases (confidential: the team, the managers, the parties)
    Role.SYSTEM_ADMIN: RoleSpec(Level.SUBDISTRICT, frozenset(Perm) - _CONFIDENTIAL, staff=True),
}

# Roles a coverage manager assigns per entrance/building/floor (楼门长 coverage page).
LEADER_ROLES = (Role.ENTRANCE_LEADER, Role.BUILDING_LEADER, Role.FLOOR_LEADER)


def role_perms(role: str) -> frozenset[Perm]:
    return ROLES[Role(role)].perms
