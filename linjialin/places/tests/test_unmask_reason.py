"""Finding 7: the unmask reason accepted two zero-width spaces or "ab". Every path that shows or
exports full personal numbers applies the one reason rule (core/reasons.py) and writes nothing when it
refuses: the resident's numbers (page and API), the roster export with full numbers, a mediation
party's numbers and the mediation exports with the parties' identity."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from linjialin.core.models import AuditEvent
from linjialin.mediation.models import CaseParty
from linjialin.mediation.services import cases, exports
from linjialin.mediation.tests.test_cases_fixtures import register
from linjialin.places import roster, services

EMPTY_REASONS = ["\u200b\u200b", "ab", " a b ", "\u200b核\u200b", "!!!!"]
GOOD = "核实身份"  # four Chinese characters: a real, short reason


@pytest.mark.parametrize("reason", EMPTY_REASONS)
def test_unmask_reason_of_zero_width_spaces_or_ab_is_refused_by_the_service(tree, grid_worker, reason):
    with pytest.raises(ValidationError) as exc:
        services.unmask_resident(grid_worker, tree.resident_a1, reason=reason)
    assert "reason" in exc.value.message_dict
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()


def test_unmask_with_a_four_character_chinese_reason_shows_the_numbers(tree, grid_worker):
    numbers = services.unmask_resident(grid_worker, tree.resident_a1, reason=f"\u200b{GOOD}\u200b ")
    assert numbers["mobile"] == "13800000001"
    assert AuditEvent.objects.get(action="resident.unmasked").reason == GOOD  # stored without the invisibles


@pytest.mark.parametrize("reason", ["\u200b\u200b", "ab"])
def test_unmask_reason_of_zero_width_spaces_or_ab_is_refused_on_the_page_and_the_api(
    tree, grid_worker, login, reason
):
    client = login(grid_worker)
    page = client.post(reverse("places:unmask", args=[tree.resident_a1.pk]), {"reason": reason})
    assert page.status_code == 422 and b"13800000001" not in page.content
    api = client.post(
        f"/api/v1/residents/{tree.resident_a1.pk}/unmask", {"reason": reason}, content_type="application/json"
    )
    assert api.status_code == 422 and "reason" in api.json()["fields"]
    assert not AuditEvent.objects.filter(action="resident.unmasked").exists()
    ok = client.post(reverse("places:unmask", args=[tree.resident_a1.pk]), {"reason": GOOD})
    assert ok.status_code == 200 and b"13800000001" in ok.content


@pytest.mark.parametrize("reason", ["\u200b\u200b", "ab"])
def test_roster_export_with_full_numbers_refuses_an_empty_reason(tree, community_worker, login, reason):
    with pytest.raises(ValidationError) as exc:
        roster.export_roster(community_worker, tree.community_1, fmt="csv", full=True, reason=reason)
    assert "reason" in exc.value.message_dict
    # the page asks for the reason again instead of exporting
    response = login(community_worker).get(
        reverse("places:export", args=[tree.community_1.pk, "csv"]), {"full": "1", "reason": reason}
    )
    assert response.status_code == 200 and response.get("Content-Disposition") is None
    assert not AuditEvent.objects.filter(action="roster.exported").exists()


@pytest.mark.parametrize("reason", ["\u200b\u200b", "ab"])
def test_mediation_party_unmask_and_identity_exports_refuse_an_empty_reason(
    tree, mediator_a, mediation_manager, reason
):
    case = register(mediator_a, tree)
    party = CaseParty.objects.get(case=case, name="张三")
    with pytest.raises(ValidationError) as exc:
        cases.unmask_party(mediation_manager, party, reason=reason)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        exports.export_filing_pack(mediation_manager, case, reason=reason)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        exports.export_agreement(mediation_manager, case, fmt="pdf", full=True, reason=reason)
    assert "reason" in exc.value.message_dict
    sensitive = ["mediation.party.unmasked", "mediation.filing_pack.exported", "mediation.agreement.exported"]
    assert not AuditEvent.objects.filter(action__in=sensitive).exists()
    assert cases.unmask_party(mediation_manager, party, reason=GOOD)["mobile"] == "13800000001"
