"""/api/v1/mediation/…: the centre over the same selectors and services as the pages.

A case is seen by the centre's managers, its team and its parties (selectors.visible_cases); anyone
else gets 404, as for a missing case. Reading a case file is audited (mediation.case.viewed). Parties'
numbers are masked. A resident applies for mediation with POST /apply (201; the same client_token
again answers 200 with the first case).
"""

from __future__ import annotations

from django.utils import timezone
from ninja import Query, Router, Status

from linjialin.core.api import BODY_ERRORS, Error, path_id
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.places.selectors import get_place_for_user

from . import selectors
from .models import Case
from .schemas import ApplyIn, CaseDetailOut, CaseFilters, CaseOut, CasePage, MyCaseOut
from .services import cases as services

router = Router(tags=["mediation"])

Id = path_id("case id")
LIST = {401: Error, 422: Error}
READ = {401: Error, 404: Error, 422: Error}
APPLY = {**BODY_ERRORS, 401: Error, 403: Error, 404: Error, 422: Error}


def _out(case: Case, today=None, rules=None) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "dispute_type": case.dispute_type,
        "source": case.source,
        "state": case.state,
        "place_id": case.place_id,
        "place_name": case.place.name,
        "registered_at": case.registered_at,
        "accepted_at": case.accepted_at,
        "due_on": case.due_on,
        "due_status": selectors.due_status(case, today, rules),
        "risk_flag": case.risk_flag,
    }


def _event_out(e) -> dict:
    return {
        "kind": e.kind,
        "at": e.at,
        "actor_name": e.actor_name,
        "note": e.note,
        "public": e.public,
        "data": e.data,
    }


@router.get("/cases", response={200: CasePage, **LIST}, summary="Cases you may see (newest first)")
def list_cases(request, filters: Query[CaseFilters]):
    """The centre's managers see the cases at their places, team members their cases, parties their
    own; everyone else an empty list."""
    qs = selectors.list_cases_for_user(request.auth, state=filters.state, dispute_type=filters.type)
    page = list(qs[filters.offset : filters.offset + filters.limit])
    count = qs.count() if len(page) == filters.limit or filters.offset else len(page)
    today, rules = timezone.localdate(), selectors.rules()
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_out(c, today, rules) for c in page],
    }


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **READ}, summary="One case file (summary)")
def get_case(request, case_id: Id):
    """The case file's summary: parties (numbers masked), team, timeline (a party sees its public
    steps only), the court clocks. Each read is audited."""
    user = request.auth
    case = selectors.get_case_for_user(user, case_id)
    roles = selectors.case_roles(user, case)
    services.record_case_view(user, case)
    clocks = selectors.court_clocks(case)
    return {
        **_out(case),
        "facts": case.facts,
        "dispute_items": case.dispute_items,
        "outcome": case.outcome,
        "roles": sorted(roles),
        "parties": [
            {
                "id": p.pk,
                "side": p.side,
                "kind": p.kind,
                "name": p.name,
                "mobile": mask_mobile(p.mobile),
                "id_number": mask_id_number(p.id_number),
                "representative": p.representative,
                "consent": p.consent,
                "rights_told": p.rights_told_at is not None,
            }
            for p in case.parties.all()
        ],
        "team": [
            {"user_id": m.user_id, "name": m.user.display_name, "role": m.role, "lead": m.lead}
            for m in selectors.team(case)
        ],
        "events": [_event_out(e) for e in selectors.timeline(user, case)],
        "court": {name: clock.as_dict() if clock else None for name, clock in clocks.items()},
    }


@router.post("/apply", response={201: CaseOut, 200: CaseOut, **APPLY}, summary="Apply for mediation")
def apply(request, payload: ApplyIn):
    """A resident applies for mediation of their dispute (mediation.apply over the household; another
    household answers 404). They become the applicant, the other party the respondent; the centre's
    managers are told. The same `client_token` again answers 200 with the first case."""
    user = request.auth
    household = get_place_for_user(user, payload.household_id, "mediation.apply")
    case = services.apply_for_mediation(
        user,
        household=household,
        dispute_type=payload.dispute_type,
        title=payload.title,
        facts=payload.facts,
        other_party_name=payload.other_party_name,
        other_party_mobile=payload.other_party_mobile,
        client_token=payload.client_token,
    )
    return Status(200 if getattr(case, "replayed", False) else 201, _out(case))


@router.get("/mine", response={200: list[MyCaseOut], 401: Error}, summary="My cases (as a party)")
def mine(request):
    """The cases you are a party to, with their public steps."""
    items = list(selectors.my_cases(request.auth).prefetch_related("events"))
    return [
        {
            "id": c.pk,
            "number": c.number,
            "title": c.title,
            "dispute_type": c.dispute_type,
            "state": c.state,
            "registered_at": c.registered_at,
            "events": [_event_out(e) for e in c.events.all() if e.public],
        }
        for c in items
    ]
