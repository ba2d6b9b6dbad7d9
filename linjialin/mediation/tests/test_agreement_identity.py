"""The agreement's signing copy: the parties' full identity (ID number, phone, address) so they can sign,
made only with the sensitive-export permission, for a reason, and audited with it (DESIGN §6: who, whose,
when, why); every other copy and the case page stay masked."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.mediation.services import exports

from .test_documents import agreed, pdf_text  # noqa: F401  (the agreed case fixture)

pytestmark = pytest.mark.django_db

FULL = ("11010519491231002X", "110105198506150517", "13800000001", "13800000002")
MASKED = ("1101**********002X", "138****0001", "138****0002")
WHY = "双方当事人今日到场签署"


def _exports():
    return list(AuditEvent.objects.filter(action="mediation.agreement.exported").order_by("seq"))


def test_signing_copy_pdf_prints_full_identity_and_is_audited(agreed, mediation_manager):  # noqa: F811
    name, data, content_type = exports.export_agreement(
        mediation_manager, agreed, fmt="pdf", full=True, reason=WHY
    )
    assert content_type == "application/pdf" and name.endswith("-signing.pdf")
    text = pdf_text(data).replace(" ", "")
    for number in FULL:
        assert number in text, number
    assert "住址：紫荆雅园1号楼1单元101" in text
    assert "138****0001" not in text
    (event,) = _exports()
    assert event.actor == mediation_manager and event.object_id == str(agreed.pk)
    assert event.after["full_identity"] is True
    assert event.after["parties"] == sorted(agreed.parties.values_list("id", flat=True))
    assert event.reason == WHY  # why the numbers left, in the user's words
    assert "张三" not in str(event.after)  # no names in a confidential case's audit row
    assert "mediation.agreement.exported" in exports.AUDIT_PERSONAL


def test_signing_copy_docx_prints_full_identity(agreed, mediation_manager):  # noqa: F811
    from docx import Document

    _, data, _ = exports.export_agreement(mediation_manager, agreed, fmt="docx", full=True, reason=WHY)
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    for number in FULL:
        assert number in text, number


def test_ordinary_copy_stays_masked_and_says_so_in_the_audit(agreed, mediation_manager):  # noqa: F811
    _, data, _ = exports.export_agreement(mediation_manager, agreed, fmt="pdf")
    text = pdf_text(data).replace(" ", "")
    for number in MASKED:
        assert number in text, number
    for number in FULL:
        assert number not in text, number
    (event,) = _exports()
    assert event.after["full_identity"] is False and "parties" not in event.after


def test_signing_copy_refused_to_team_member_and_party_without_the_permission(
    agreed, mediator_a, resident_a  # noqa: F811
):
    agreed.parties.filter(name="张三").update(user=resident_a)
    for who in (mediator_a, resident_a):
        with pytest.raises(PermissionDenied):
            exports.export_agreement(who, agreed, fmt="pdf", full=True, reason=WHY)
    assert not _exports()
    # the party keeps an ordinary (masked) copy
    _, data, _ = exports.export_agreement(resident_a, agreed, fmt="pdf")
    assert "13800000002" not in pdf_text(data).replace(" ", "")


def test_signing_copy_needs_a_reason(agreed, mediation_manager):  # noqa: F811
    for reason in ("", "   "):
        with pytest.raises(ValidationError):
            exports.export_agreement(mediation_manager, agreed, fmt="pdf", full=True, reason=reason)
    assert not _exports()


def test_signing_copy_over_the_web(client, agreed, mediation_manager, mediator_a, outsider):  # noqa: F811
    """A POST with the reason typed, as the filing pack; a GET never prints the full numbers."""
    url = reverse("mediation:agreement_pdf", args=[agreed.pk])
    client.force_login(outsider)
    assert client.post(url, {"reason": WHY}).status_code == 404
    client.force_login(mediator_a)
    assert client.post(url, {"reason": WHY}).status_code == 403
    assert client.get(url + "?identity=full").status_code == 403
    page = client.get(reverse("mediation:case", args=[agreed.pk])).content.decode()
    assert 'id="signing-copy"' not in page  # not offered without the permission
    client.force_login(mediation_manager)
    page = client.get(reverse("mediation:case", args=[agreed.pk])).content.decode()
    assert 'id="signing-copy"' in page and f'<form method="post" action="{url}"' in page
    assert "11010519491231002X" not in page and "13800000001" not in page  # the page stays masked
    asked = client.get(url + "?identity=full")  # an old link: the form asking why, no file
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert client.post(url, {"reason": " "}).status_code == 422
    assert not _exports()
    response = client.post(url, {"reason": WHY})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('-signing.pdf"')
    assert "11010519491231002X" in pdf_text(response.content).replace(" ", "")
    docx = client.post(reverse("mediation:agreement_docx", args=[agreed.pk]), {"reason": WHY})
    assert docx["Content-Disposition"].endswith('-signing.docx"')
    assert [(e.after["full_identity"], e.reason) for e in _exports()] == [(True, WHY), (True, WHY)]
