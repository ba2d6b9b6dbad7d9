"""PIPL rights of the signed-in person about themselves: everything held about them (art. 45) as a zip
of JSON plus a readable PDF, and the list of their correction requests (art. 46; places.corrections).

Only what the person may see: their own account, their resident records and households, the tags on
their own records, the requests they made (with the timeline they see on the request page), their
mutual-aid posts and offers, their notices, the mediation cases where they are a party (the party's
view: the public events and their own party row, never the other party's numbers or the team's notes),
and from the audit trail who viewed or changed their personal data, when and why. Built in one go
(well under a second for one person); the download itself is audited.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import audit, audit_labels
from linjialin.core.models import AuditEvent
from linjialin.places.models import CorrectionRequest, Resident, ResidentTag


@dataclass
class Section:
    key: str  # the JSON file name in the zip
    title: str
    rows: list[dict]


def _resident_rows(user) -> list[Resident]:
    return list(
        Resident.objects.filter(user=user, moved_out_at__isnull=True)
        .select_related("household")
        .order_by("id")
    )


def sections(user) -> list[Section]:
    from linjialin.mediation import selectors as mediation_selectors
    from linjialin.mediation.models import CaseParty
    from linjialin.mutual_aid.models import Post, Response
    from linjialin.notifications.models import Notification
    from linjialin.service_requests.labels import event_label
    from linjialin.service_requests.models import RequestEvent, ServiceRequest

    residents = _resident_rows(user)
    account = {
        "mobile": user.mobile,
        "display_name": user.display_name,
        "language": user.language,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "roles": [
            {"role": g.get_role_display(), "place": str(g.place), "from": g.valid_from, "to": g.valid_to}
            for g in user.grants.select_related("place").order_by("valid_from", "id")
        ],
    }
    resident_rows = [
        {
            "id": r.pk,
            "name": r.name,
            "mobile": r.mobile,
            "id_number": r.id_number,
            "birth_year": r.birth_year,
            "relation": r.get_relation_display(),
            "household": r.household_id,
            "recorded": r.created_at,
            "updated": r.updated_at,
        }
        for r in residents
    ]
    households = {r.household_id: r.household for r in residents}
    household_rows = [
        {
            "id": h.pk,
            "place": h.path,
            "name": str(h),
            "room": h.room,
            "floor": h.floor,
            "area_m2": h.area_m2,
            "tenure": h.get_tenure_display() if h.tenure else "",
            "lives_here": h.is_occupied,
        }
        for h in households.values()
    ]
    tag_rows = [
        {
            "resident": t.resident_id,
            "tag": t.tag.name_zh,
            "sensitive": t.tag.sensitive,
            "consent_source": t.consent_source,
        }
        for t in ResidentTag.objects.filter(resident__in=residents).select_related("tag").order_by("id")
    ]
    requests = list(ServiceRequest.objects.filter(requester=user).select_related("category", "place"))
    events: dict[int, list] = {}
    for e in RequestEvent.objects.filter(request__in=requests).order_by("at", "id"):
        events.setdefault(e.request_id, []).append(
            {"at": e.at, "event": event_label(e.kind, e.data), "by": e.actor_name, "note": e.note}
        )
    request_rows = [
        {
            "number": r.number,
            "type": r.get_request_type_display(),
            "category": str(r.category) if r.category else "",
            "place": str(r.place),
            "description": r.description,
            "contact_name": r.contact_name,
            "contact_mobile": r.contact_mobile,
            "state": r.get_state_display(),
            "submitted_at": r.submitted_at,
            "closed_at": r.closed_at,
            "result": r.result,
            "satisfaction": r.get_satisfaction_display() if r.satisfaction else "",
            "timeline": events.get(r.pk, []),
        }
        for r in requests
    ]
    post_rows = [
        {
            "kind": p.get_kind_display(),
            "category": p.get_category_display(),
            "text": p.text,
            "state": p.get_state_display(),
            "created_at": p.created_at,
            "done_at": p.done_at,
        }
        for p in Post.objects.filter(author=user).order_by("created_at", "id")
    ]
    post_rows += [
        {
            "kind": _("my offer of help"),
            "category": r.post.get_category_display(),
            "text": r.note,
            "state": r.get_state_display(),
            "created_at": r.created_at,
            "done_at": None,
        }
        for r in Response.objects.filter(helper=user).select_related("post").order_by("created_at", "id")
    ]
    notice_rows = [
        {"at": n.created_at, "title": n.title, "message": n.body, "read_at": n.read_at}
        for n in Notification.objects.filter(user=user).order_by("created_at", "id")
    ]
    case_rows = []
    for party in CaseParty.objects.filter(user=user).select_related("case").order_by("case_id", "id"):
        case = party.case
        case_rows.append(
            {
                "number": case.number,
                "type": case.get_dispute_type_display(),
                "state": case.get_state_display(),
                "my_party_record": {"name": party.name, "mobile": party.mobile, "id_number": party.id_number},
                "events": [
                    {"at": e.at, "note": e.note, "by": e.actor_name}
                    for e in mediation_selectors.timeline(user, case).order_by("at", "id")
                ],
            }
        )
    correction_rows = [
        {
            "asked_at": c.created_at,
            "field": c.get_field_display(),
            "value": c.value,
            "state": c.get_state_display(),
            "decided_at": c.decided_at,
            "reason": c.refusal_reason,
        }
        for c in my_corrections(user)
    ]
    return [
        Section("account", _("My account"), [account]),
        Section("resident_records", _("My resident records"), resident_rows),
        Section("households", _("My households"), household_rows),
        Section("tags", _("Tags on my records"), tag_rows),
        Section("requests", _("My requests and their timelines"), request_rows),
        Section("mutual_aid", _("My mutual-aid posts and offers"), post_rows),
        Section("notifications", _("My notices"), notice_rows),
        Section("mediation", _("Mediation cases where I am a party"), case_rows),
        Section("corrections", _("My correction requests"), correction_rows),
        Section("audit", _("Who viewed or changed my personal data"), audit_rows(user, residents, requests)),
    ]


def audit_rows(user, residents: list[Resident], requests) -> list[dict]:
    """Events about the person's own records: who, when, what and why. Events about the requests are
    the views of their contact (the personal-data reads), not every step of the work."""
    from linjialin.service_requests.models import ServiceRequest

    about = Q(object_type="accounts.user", object_id=str(user.pk))
    if residents:
        about |= Q(object_type=Resident._meta.label_lower, object_id__in=[str(r.pk) for r in residents])
    if requests:
        about |= Q(
            object_type=ServiceRequest._meta.label_lower,
            object_id__in=[str(r.pk) for r in requests],
            action__in=sorted(audit_labels._PERSONAL),
        )
    return [
        {"at": e.at, "who": e.actor_name, "what": audit_labels.label(e.action), "why": e.reason}
        for e in AuditEvent.objects.filter(about).order_by("seq")
    ]


def my_corrections(user):
    return CorrectionRequest.objects.filter(requested_by=user).order_by("-created_at", "-id")


def my_records(user) -> list[Resident]:
    return _resident_rows(user)


def _json(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")


def _readable(value) -> str:
    """A JSON value as text for the PDF: times in local time, nested rows one per line."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict):
        return " · ".join(_readable(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return "\n".join(_readable(v) for v in value) or "—"
    return str(value)


def render_html(user, parts: list[Section], made_at) -> str:
    readable = [
        (p.title, [[(key, _readable(value)) for key, value in row.items()] for row in p.rows]) for p in parts
    ]
    return render_to_string(
        "accounts/my_data_pdf.html", {"person": user, "sections": readable, "made_at": made_at}
    )


def download(user) -> tuple[bytes, str]:
    """(the zip, its file name): one JSON file per section, all of it in one JSON, and a PDF."""
    from weasyprint import HTML

    made_at = timezone.now()
    parts = sections(user)
    pdf = HTML(string=render_html(user, parts, made_at)).write_pdf()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("my-data.json", _json({p.key: p.rows for p in parts} | {"made_at": made_at}))
        for p in parts:
            z.writestr(f"json/{p.key}.json", _json(p.rows))
        z.writestr("my-data.pdf", pdf)
    with transaction.atomic():
        audit.record(
            "privacy.data_downloaded",
            actor=user,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.display_name,
            after={p.key: len(p.rows) for p in parts},
        )
    return out.getvalue(), f"my-data-{timezone.localtime(made_at):%Y%m%d-%H%M}.zip"
