"""The documents and reports leaving the system, each checked and audited (DESIGN.md §3, §6):

- `export_agreement(actor, case, *, fmt, full=False)`: the agreement (调解协议书, or the oral agreement's
  record) as PDF or .docx, for the case's team, its parties and the centre's managers; numbers masked in
  it. `full=True` is the signing copy with the parties' full identity: it needs
  `mediation.export_sensitive` over the case's place and a reason, and is audited as a personal-data
  export (whose identity: the parties' ids; why: the reason).
- `export_filing_pack(actor, case, *, reason)`: the court filing pack for 司法确认 with the parties' full
  identity and contact; needs `mediation.export_sensitive` over the case's place and the case visible,
  and a reason; audited as a personal-data export, and noted on the case's timeline.
- `export_report(actor, place, *, period, fmt)`: the monthly or yearly figures (counts only) as xlsx or
  PDF; needs `mediation.view_figures` or `mediation.manage` over the place.

Each returns (file name, bytes, content type). The file is made first, then the audit event is written
in its own transaction (nothing is recorded when making the file fails).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.reasons import clean_reason
from linjialin.core.scope import scope_for

from .. import documents, report, selectors, workflow
from ..models import Case, CaseEvent

AUDIT_LABELS = {
    "mediation.agreement.exported": gettext_lazy("Mediation agreement exported"),
    "mediation.filing_pack.exported": gettext_lazy("Court filing pack exported (parties' identity)"),
    "mediation.report.exported": gettext_lazy("Mediation figures report exported"),
}
AUDIT_PERSONAL = ("mediation.agreement.exported", "mediation.filing_pack.exported")

AGREEMENT_FORMATS = {"pdf": documents.PDF, "docx": documents.DOCX}


def _slug(case: Case) -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in case.number) or str(case.pk)


def may_export_agreement(actor, case: Case) -> bool:
    """An active member of the case's team, a centre manager over its place, or a party to the case
    (each party keeps a copy of the agreement; numbers are masked in it)."""
    if workflow.member_or_manager(actor, case):
        return True
    return actor is not None and case.parties.filter(user_id=actor.pk).exists()


def may_export_filing_pack(actor, case: Case) -> bool:
    return scope_for(actor, "mediation.export_sensitive").covers(case.path) and (
        selectors.visible_cases(actor).filter(pk=case.pk).exists()
    )


def may_export_signing_copy(actor, case: Case) -> bool:
    """The signing copy prints the parties' full identity: the same sensitive permission as the filing
    pack (the centre's managers), and the case visible to the actor."""
    return may_export_filing_pack(actor, case)


def export_agreement(
    actor, case: Case, *, fmt: str, full: bool = False, reason: str = ""
) -> tuple[str, bytes, str]:
    """The agreement as "pdf" or "docx" → (file name, bytes, content type). Audited as
    mediation.agreement.exported; `full` (the signing copy with the parties' full ID number, phone and
    address) needs the sensitive-export permission and a reason, and records whose identity left and why."""
    reason = (reason or "").strip()
    if fmt not in AGREEMENT_FORMATS:
        raise ValidationError({"format": _("Choose PDF or Word (.docx).")})
    if not may_export_agreement(actor, case):
        raise PermissionDenied(
            _("Only the case's team, its parties and the centre's managers export the agreement.")
        )
    if full and not may_export_signing_copy(actor, case):
        raise PermissionDenied(
            _("The signing copy with the parties' full identity needs the sensitive-export permission.")
        )
    if full:
        reason = clean_reason(reason, message=_("Give the reason for exporting the parties' identity."))
    try:
        make = documents.agreement_pdf if fmt == "pdf" else documents.agreement_docx
        data = make(case, full=full)
    except documents.NoAgreement as exc:
        raise ValidationError(str(exc)) from None
    after = {"format": fmt, "written": case.agreement.written, "full_identity": full}
    if full:  # whose identity was printed (ids only: no names in a confidential case's audit row)
        after["parties"] = list(case.parties.order_by("id").values_list("id", flat=True))
    with transaction.atomic():
        audit.record(
            "mediation.agreement.exported",
            actor=actor,
            obj=case,
            reason=reason if full else "",
            after=after,
        )
    suffix = "-signing" if full else ""
    return f"agreement-{_slug(case)}{suffix}.{fmt}", data, AGREEMENT_FORMATS[fmt]


def export_filing_pack(actor, case: Case, *, reason: str) -> tuple[str, bytes, str]:
    """The court filing pack (zip) → (file name, bytes, content type). Needs mediation.export_sensitive
    over the case's place and the case visible to the actor, and a reason. Audited as
    mediation.filing_pack.exported (a personal-data export) with the reason; noted on the timeline."""
    reason = (reason or "").strip()
    if not may_export_filing_pack(actor, case):
        raise PermissionDenied(_("Exporting the parties' identity needs the sensitive-export permission."))
    reason = clean_reason(reason, message=_("Give the reason for exporting the parties' identity."))
    try:
        data = documents.filing_pack(case)
    except documents.NoAgreement as exc:
        raise ValidationError(str(exc)) from None
    parties = case.parties.count()
    with transaction.atomic():
        CaseEvent.objects.create(
            case=case,
            kind="filing_pack_exported",
            at=timezone.now(),
            actor=actor,
            actor_name=actor.display_name or "",
            note=reason[:500],
            public=False,
            data={"parties": parties},
        )
        audit.record(
            "mediation.filing_pack.exported",
            actor=actor,
            obj=case,
            reason=reason,
            after={"parties": parties, "members": list(documents.FILING_PACK_MEMBERS)},
        )
    return f"filing-pack-{_slug(case)}.zip", data, documents.ZIP


def may_see_figures(actor, place) -> bool:
    return scope_for(actor, "mediation.view_figures").covers(place.path) or scope_for(
        actor, "mediation.manage"
    ).covers(place.path)


def export_report(actor, place, *, period: str, fmt: str) -> tuple[str, bytes, str]:
    """The monthly ("2026-11") or yearly ("2026") report for the place → (file name, bytes, content
    type), "xlsx" or "pdf". Counts only. Audited as mediation.report.exported."""
    if fmt not in report.FORMATS:
        raise ValidationError({"format": _("Choose xlsx or PDF.")})
    try:
        p = report.Period.parse(period)
    except ValueError:
        raise ValidationError({"period": _("Enter a month like 2026-11 or a year like 2026.")}) from None
    if not may_see_figures(actor, place):
        raise PermissionDenied(_("You may not see the centre's figures for this place."))
    data = report.build(place, p)
    body = report.xlsx(data) if fmt == "xlsx" else report.pdf(data)
    with transaction.atomic():
        audit.record(
            "mediation.report.exported",
            actor=actor,
            obj=place,
            path=place.path,
            after={"period": p.key, "format": fmt},
        )
    return f"mediation-report-{p.key}.{fmt}", body, report.FORMATS[fmt]
