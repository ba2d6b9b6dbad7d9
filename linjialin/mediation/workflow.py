"""The case's states and transitions, one table read by services, pages, the API and docs/mediation.md.

    registered ──accept──▶ accepted ──agree──▶ agreed ──close──▶ closed
        │                      ├──fail────▶ failed ──close──▶ closed
        ├──refuse──▶ not_accepted
        └──withdraw──▶ withdrawn ◀──withdraw── accepted

`accept` needs every party's consent (checked by services.cases.accept_case); a party's refusal ends
the case as not accepted (services.cases.record_consent applies `refuse`). The team's lead mediator or
a centre manager (mediation.manage over the case's place) accepts and closes; any active team member
records an agreement, a failure or a withdrawal.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, Workflow

from .models import Case, CaseMember, CaseState, ScreeningSession, ScreeningState

S = CaseState


def manager(actor, case) -> bool:
    return actor is not None and scope_for(actor, "mediation.manage").covers(case.path)


def member(actor, case) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return CaseMember.objects.filter(case_id=case.pk, user_id=actor.pk, ended_at__isnull=True).exists()


def lead(actor, case) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return CaseMember.objects.filter(
        case_id=case.pk, user_id=actor.pk, ended_at__isnull=True, lead=True
    ).exists()


def lead_or_manager(actor, case) -> bool:
    return manager(actor, case) or lead(actor, case)


def member_or_manager(actor, case) -> bool:
    return manager(actor, case) or member(actor, case)


workflow = Workflow(
    model=Case,
    states=CaseState,
    transitions=[
        Transition(
            "accept",
            {S.REGISTERED},
            S.ACCEPTED,
            lead_or_manager,
            _("accept the case"),
            "lead mediator or centre manager, once every party has consented",
        ),
        Transition(
            "refuse",
            {S.REGISTERED},
            S.NOT_ACCEPTED,
            member_or_manager,
            _("not accept"),
            "team member or centre manager, with the reason (also when a party refuses)",
        ),
        Transition(
            "agree",
            {S.ACCEPTED},
            S.AGREED,
            member_or_manager,
            _("record the agreement"),
            "team member or centre manager",
        ),
        Transition(
            "fail",
            {S.ACCEPTED},
            S.FAILED,
            member_or_manager,
            _("record no agreement"),
            "team member or centre manager, with where the parties were referred",
        ),
        Transition(
            "withdraw",
            {S.REGISTERED, S.ACCEPTED},
            S.WITHDRAWN,
            member_or_manager,
            _("record the withdrawal"),
            "team member or centre manager, with the reason",
        ),
        Transition(
            "close",
            {S.AGREED, S.FAILED},
            S.CLOSED,
            lead_or_manager,
            _("close the case"),
            "lead mediator or centre manager, with the lesson",
        ),
    ],
)

OPEN_STATES = (S.REGISTERED, S.ACCEPTED)  # mediation still going on: the one-month limit applies
ENDED_STATES = (S.AGREED, S.FAILED, S.WITHDRAWN, S.NOT_ACCEPTED, S.CLOSED)


# --- a screening session (矛盾纠纷排查): planned → held or cancelled ---------------------------------------
def screening_staff(actor, session) -> bool:
    """mediation.work or mediation.manage over the session's place."""
    if actor is None:
        return False
    return (scope_for(actor, "mediation.work") | scope_for(actor, "mediation.manage")).covers(session.path)


screening_workflow = Workflow(
    model=ScreeningSession,
    states=ScreeningState,
    transitions=[
        Transition(
            "hold",
            {ScreeningState.PLANNED},
            ScreeningState.HELD,
            screening_staff,
            pgettext_lazy("screening", "record as held"),
            "mediation.work or mediation.manage over the place",
        ),
        Transition(
            "cancel",
            {ScreeningState.PLANNED},
            ScreeningState.CANCELLED,
            screening_staff,
            pgettext_lazy("screening", "cancel the session"),
            "mediation.work or mediation.manage over the place, with the reason",
        ),
    ],
)
