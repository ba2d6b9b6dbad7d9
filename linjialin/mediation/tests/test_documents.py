"""The agreement document (调解协议书, PDF and .docx), the oral agreement's record, and the court filing
pack: contents the law requires (人民调解法 第二十九条 …), typesetting, masking, and the exports'
permissions and audit rows."""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linjialin.core.models import AuditEvent
from linjialin.mediation import documents, selectors
from linjialin.mediation.models import (
    Agreement,
    AgreementItem,
    Case,
    CaseEvent,
    CaseMember,
    CaseParty,
    CaseState,
    CourtConfirmation,
    Outcome,
    PartyKind,
    PartySide,
    TeamRole,
)
from linjialin.mediation.services import exports

pytestmark = pytest.mark.django_db

FACTS = "双方系上下楼邻居。2026年10月起,楼上卫生间漏水,致楼下天花板受损;双方对维修费用发生争议."
TERMS = "一、楼上住户负责修复漏水并赔偿楼下住户损失。\n二、双方今后互相谅解，和睦相处。"
PERFORMANCE = "赔偿款以银行转账方式一次付清；维修在楼上住户家中进行。"


# --- a small PDF text extractor (WeasyPrint output: Flate streams, CID fonts with ToUnicode maps) -------
def pdf_streams(data: bytes) -> list[bytes]:
    """Every stream of the PDF, inflated (content, fonts' ToUnicode maps, object streams)."""
    streams = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(m.group(1)))
        except zlib.error:
            streams.append(m.group(1))
    return streams


def pdf_objects(data: bytes) -> bytes:
    """The PDF's objects, those packed in compressed object streams too."""
    return data + b"\n".join(pdf_streams(data))


def pdf_text(data: bytes) -> str:
    """The text drawn in a WeasyPrint PDF, in drawing order (enough to check what a document says)."""
    streams = pdf_streams(data)
    glyphs: dict[int, str] = {}
    for s in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", s, re.S):
            for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                glyphs[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", s, re.S):
            for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                start = int(dst, 16)
                for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    glyphs[code] = chr(start + i)
    out = []
    for s in streams:
        if b"TJ" not in s and b"Tj" not in s:
            continue
        for array in re.findall(rb"\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj", s, re.S):
            for hexstr in re.findall(rb"<([0-9a-fA-F]*)>", array[0] or b"<" + array[1] + b">"):
                h = hexstr.decode()
                out.append("".join(glyphs.get(int(h[i : i + 4], 16), "") for i in range(0, len(h), 4)))
    return "".join(out)


def embedded_fonts(data: bytes) -> list[str]:
    return [m.decode() for m in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", pdf_objects(data))]


# --- fixtures ------------------------------------------------------------------------------------------
def make_case(tree, *, number="T2026-00042", place=None, state=CaseState.AGREED, accepted=True, **kw) -> Case:
    now = timezone.now()
    place = place or tree.entrance_a
    return Case.objects.create(
        number=number,
        title=kw.pop("title", "楼上漏水"),
        dispute_type=kw.pop("dispute_type", "neighbour"),
        source=kw.pop("source", "application"),
        place=place,
        path=place.path,
        facts=FACTS,
        state=state,
        registered_at=kw.pop("registered_at", now - timedelta(days=20)),
        accepted_at=kw.pop("accepted_at", now - timedelta(days=18) if accepted else None),
        **kw,
    )


def add_parties(case, tree, org=False):
    a = CaseParty.objects.create(
        case=case,
        side=PartySide.APPLICANT,
        name="张三",
        resident=tree.resident_a1,
        mobile="13800000001",
        id_number="11010519491231002X",
        address="紫荆雅园1号楼1单元101",
    )
    if org:
        b = CaseParty.objects.create(
            case=case,
            side=PartySide.RESPONDENT,
            kind=PartyKind.ORGANISATION,
            name="紫荆物业服务有限公司",
            mobile="13800000009",
            id_number="91110112MA01ABCD2X",
            address="通州区运河西大街1号",
            representative="钱七",
            representative_mobile="13800000010",
        )
    else:
        b = CaseParty.objects.create(
            case=case,
            side=PartySide.RESPONDENT,
            name="李四",
            resident=tree.resident_a2,
            mobile="13800000002",
            id_number="110105198506150517",
            address="紫荆雅园1号楼1单元201",
        )
    return a, b


def add_agreement(case, payer, *, written=True, copies=3, signed_on=date(2026, 11, 28)):
    agreement = Agreement.objects.create(
        case=case,
        written=written,
        facts=FACTS,
        terms=TERMS,
        performance=PERFORMANCE,
        signed_on=signed_on,
        effective_on=signed_on,
        copies=copies,
        recorded_at=timezone.now(),
    )
    AgreementItem.objects.create(
        agreement=agreement,
        party=payer,
        duty="赔偿楼下住户天花板修复费用人民币3,000元",
        how="银行转账",
        where="通运街道全环节多元化解中心",
        due_on=date(2026, 12, 10),
    )
    AgreementItem.objects.create(
        agreement=agreement, party=payer, duty="修复卫生间防水层", due_on=date(2026, 12, 20)
    )
    return agreement


@pytest.fixture
def agreed(tree, mediator_a):
    case = make_case(tree)
    a, b = add_parties(case, tree)
    CaseMember.objects.create(
        case=case, user=mediator_a, role=TeamRole.MEDIATOR, lead=True, added_at=timezone.now()
    )
    add_agreement(case, b)
    return case


# --- the agreement's contents ---------------------------------------------------------------------------
REQUIRED = [
    "通运街道人民调解委员会",  # the committee, from the place's ancestors
    "人民调解协议书",
    "（2026）通运调字第42号",  # the number
    "申请人：张三，女，1949年12月31日出生",  # basic facts of each party (sex and birth from the ID number)
    "被申请人：李四，男，1985年6月15日出生",
    "住址：紫荆雅园1号楼1单元101",
    "纠纷的主要事实、争议事项及各方责任",
    "致楼下天花板受损；双方对维修费用发生争议。",  # full-width punctuation from the parties' text
    "经调解，当事人自愿达成如下协议",
    "楼上住户负责修复漏水并赔偿楼下住户损失",
    "（一）李四：赔偿楼下住户天花板修复费用人民币3,000元；履行方式：银行转账；"
    "履行地点：通运街道全环节多元化解中心；履行期限：2026年12月10日前。",
    "（二）李四：修复卫生间防水层；履行期限：2026年12月20日前。",
    "履行方式、地点和期限",
    "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。",
    "督促当事人履行约定的义务",
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
    "可以自本协议生效之日起三十日内共同向人民法院申请司法确认",
    "本协议一式三份，双方当事人、人民调解委员会各执一份。",
    "申请人（签名或者盖章）：张三",
    "被申请人（签名或者盖章）：李四",
    "捺印",
    "人民调解员（签名）：调解员甲",  # the lead mediator
    "通运街道人民调解委员会（盖章）",
    "2026年11月28日",
]


def test_agreement_document_has_every_part_the_law_requires(agreed):
    text = documents.agreement_document(agreed).text()
    for part in REQUIRED:
        assert part in text, part


def test_agreement_masks_id_and_phone_numbers(agreed):
    text = documents.agreement_document(agreed).text()
    assert "11010519491231002X" not in text and "1101**********002X" in text
    assert "13800000001" not in text and "138****0001" in text


def test_agreement_has_no_latin_text_of_ours(agreed):
    text = documents.agreement_document(agreed).text()
    # the only Latin letters are the masked ID number's check letter
    assert re.findall(r"[A-Za-z]", text) == ["X"]
    assert "T2026" not in text


def test_agreement_pdf_text_contains_every_required_part(agreed):
    data = documents.agreement_pdf(agreed)
    assert data.startswith(b"%PDF")
    assert any("WenQuanYi" in f or "CJK" in f or "FangSong" in f for f in embedded_fonts(data))
    objects = pdf_objects(data)
    assert b"/FontFile2" in objects or b"/FontFile3" in objects  # embedded, not referenced
    text = pdf_text(data).replace(" ", "")
    for part in REQUIRED:
        assert part in text, part
    assert b"/MediaBox [0 0 595.2" in objects  # A4 portrait (595 × 842 pt)


def test_agreement_html_is_chinese_and_centres_the_title(agreed):
    html = documents.render_html(documents.agreement_document(agreed))
    assert '<html lang="zh-Hans">' in html
    assert "<h1>人民调解协议书</h1>" in html
    assert "size: A4" in html and "text-align: center" in html


def test_agreement_docx_has_the_same_parts(agreed):
    from docx import Document

    word = Document(io.BytesIO(documents.agreement_docx(agreed)))
    text = "\n".join(p.text for p in word.paragraphs)
    for part in REQUIRED:
        assert part in text, part
    title = next(p for p in word.paragraphs if p.text == "人民调解协议书")
    assert title.alignment == 1  # centred
    section = word.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)


def test_oral_agreement_yields_a_record_of_the_oral_agreement(agreed):
    agreed.agreement.written = False
    agreed.agreement.save()
    text = documents.agreement_document(agreed).text()
    assert "口头调解协议登记表" in text and "人民调解协议书" not in text
    assert "达成口头调解协议，由人民调解员记录如下" in text
    assert "本口头调解协议自各方当事人达成协议之日即2026年11月28日起生效" in text
    assert "一式" not in text  # no copies of an oral agreement
    assert "记录人（人民调解员签名）：调解员甲" in text
    assert "（一）李四：赔偿" in text


def test_copies_and_organisation_party(tree, mediator_a):
    case = make_case(tree, number="T2026-00007")
    a, b = add_parties(case, tree, org=True)
    add_agreement(case, b, copies=4)
    text = documents.agreement_document(case).text()
    assert "本协议一式四份，双方当事人各执一份，人民调解委员会留存二份。" in text
    assert (
        "被申请人：紫荆物业服务有限公司，统一社会信用代码：91110112MA01ABCD2X"
    )  # public: not masked in text
    assert "委托代理人：钱七" in text
    assert "（2026）通运调字第7号" in text
    assert "人民调解员（签名）：　" in text  # no team yet: a blank for the mediator's name


def test_a_case_without_an_agreement_has_no_document(tree):
    case = make_case(tree, state=CaseState.ACCEPTED)
    add_parties(case, tree)
    with pytest.raises(documents.NoAgreement):
        documents.agreement_pdf(case)
    with pytest.raises(documents.NoAgreement):
        documents.filing_pack(case)


def test_chinese_helpers():
    assert [documents.cn_number(n) for n in (0, 3, 10, 15, 30, 205, 1010)] == [
        "零",
        "三",
        "十",
        "十五",
        "三十",
        "二百零五",
        "一千零一十",
    ]
    assert documents.cn_date(date(2026, 11, 8)) == "2026年11月8日"
    assert documents.zh("同意,明天付款.金额1,000.50元(含税)") == "同意，明天付款。金额1,000.50元（含税）"
    assert documents.zh("see: http://x.y") == "see: http://x.y"


# --- the filing pack -----------------------------------------------------------------------------------
def test_filing_pack_members_full_numbers_and_bom_csv(agreed):
    CourtConfirmation.objects.create(
        case=agreed, court="北京市通州区人民法院", applied_on=date(2026, 12, 1), updated_at=timezone.now()
    )
    z = zipfile.ZipFile(io.BytesIO(documents.filing_pack(agreed)))
    assert z.namelist() == list(documents.FILING_PACK_MEMBERS)
    for name in z.namelist():
        if name.endswith(".pdf"):
            assert z.read(name).startswith(b"%PDF")
    application = pdf_text(z.read("1-司法确认申请书.pdf")).replace(" ", "")
    for part in (
        "人民调解协议司法确认申请书",
        "申请人：张三",
        "申请人：李四",  # (被申请人 in the agreement; both apply jointly)
        "公民身份号码：11010519491231002X",  # full numbers for the court
        "联系电话：13800000001",
        "请求事项",
        "2026年11月28日经通运街道人民调解委员会主持调解达成的调解协议（（2026）通运调字第42号）有效",
        "北京市通州区人民法院",
        "2026年12月1日",
        "没有恶意串通、规避法律的行为",
    ):
        assert part in application, part
    agreement_text = pdf_text(z.read("2-调解协议书.pdf")).replace(" ", "")
    assert "人民调解协议书" in agreement_text
    raw = z.read("3-当事人身份及联系方式.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == documents.IDENTITY_HEADER
    assert rows[1][:8] == [
        "申请人",
        "自然人",
        "张三",
        "女",
        "1949年12月31日",
        "11010519491231002X",
        "紫荆雅园1号楼1单元101",
        "13800000001",
    ]
    assert rows[2][2] == "李四" and rows[2][5] == "110105198506150517"
    sheet = pdf_text(z.read("3-当事人身份及联系方式.pdf")).replace(" ", "")
    assert "110105198506150517" in sheet and "13800000002" in sheet


def test_filing_pack_application_without_court_leaves_a_blank(agreed):
    text = documents.application_document(agreed).text()
    assert "＿＿＿＿＿＿＿＿人民法院" in text


def test_identity_csv_cells_cannot_be_formulas(agreed):
    party = agreed.parties.first()
    party.address = "=HYPERLINK(1)"
    party.save()
    rows = list(csv.reader(io.StringIO(documents.identity_csv(agreed).decode("utf-8-sig"))))
    assert rows[1][6] == "'=HYPERLINK(1)"


# --- exports: permissions and audit ---------------------------------------------------------------------
def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_export_agreement_by_team_member_is_audited(agreed, mediator_a):
    name, data, content_type = exports.export_agreement(mediator_a, agreed, fmt="pdf")
    assert data.startswith(b"%PDF") and content_type == "application/pdf"
    assert name.endswith(".pdf")
    name, data, content_type = exports.export_agreement(mediator_a, agreed, fmt="docx")
    assert data.startswith(b"PK") and name.endswith(".docx")
    events = _events("mediation.agreement.exported")
    assert [e.after["format"] for e in events] == ["pdf", "docx"]
    assert events[0].actor == mediator_a and events[0].object_id == str(agreed.pk)
    assert events[0].path == agreed.path


def test_export_agreement_by_manager(agreed, mediation_manager):
    exports.export_agreement(mediation_manager, agreed, fmt="docx")
    assert len(_events("mediation.agreement.exported")) == 1


@pytest.mark.parametrize("who", ["mediator_b", "lawyer", "community_secretary", "resident_b"])
def test_export_agreement_refused_outside_the_team(agreed, who, request):
    user = request.getfixturevalue(who)  # not on the team, not a party (a party keeps a copy)
    with pytest.raises(PermissionDenied):
        exports.export_agreement(user, agreed, fmt="pdf")
    assert not _events("mediation.agreement.exported")


def test_export_agreement_bad_format_and_no_agreement(tree, agreed, mediator_a):
    with pytest.raises(ValidationError) as exc:
        exports.export_agreement(mediator_a, agreed, fmt="odt")
    assert "format" in exc.value.message_dict
    case = make_case(tree, number="T2026-00043", state=CaseState.ACCEPTED)
    CaseMember.objects.create(case=case, user=mediator_a, role=TeamRole.MEDIATOR, added_at=timezone.now())
    with pytest.raises(ValidationError):
        exports.export_agreement(mediator_a, case, fmt="pdf")
    assert not _events("mediation.agreement.exported")


def test_export_filing_pack_needs_the_permission_and_a_reason(agreed, mediation_manager, mediator_a):
    with pytest.raises(PermissionDenied):  # a team member without mediation.export_sensitive
        exports.export_filing_pack(mediator_a, agreed, reason="法院要求")
    with pytest.raises(ValidationError) as exc:
        exports.export_filing_pack(mediation_manager, agreed, reason="  ")
    assert "reason" in exc.value.message_dict
    assert not _events("mediation.filing_pack.exported")
    name, data, content_type = exports.export_filing_pack(
        mediation_manager, agreed, reason="双方申请司法确认"
    )
    assert name.endswith(".zip") and content_type == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == list(documents.FILING_PACK_MEMBERS)
    (event,) = _events("mediation.filing_pack.exported")
    assert event.reason == "双方申请司法确认" and event.actor == mediation_manager
    assert event.after["parties"] == 2
    assert "mediation.filing_pack.exported" in exports.AUDIT_PERSONAL
    assert CaseEvent.objects.filter(case=agreed, kind="filing_pack_exported", public=False).count() == 1


def test_export_filing_pack_refused_to_a_manager_of_another_place(tree, agreed):
    from linjialin.places.models import Level
    from linjialin.places.services import new_place
    from linjialin.testing.plugin import make_user

    other = new_place(None, level=Level.SUBDISTRICT, code="110112009", name="另一街道")
    other.save()
    exporter = make_user("13900000099", "导出员", "mediation_manager", other)
    with pytest.raises(PermissionDenied):  # export_sensitive elsewhere does not cover the case
        exports.export_filing_pack(exporter, agreed, reason="x")
    assert not _events("mediation.filing_pack.exported")


def test_audit_labels_are_declared():
    for action in (
        "mediation.agreement.exported",
        "mediation.filing_pack.exported",
        "mediation.report.exported",
    ):
        assert action in exports.AUDIT_LABELS
    assert "mediation.report.exported" not in exports.AUDIT_PERSONAL


def test_closed_case_with_agreement_still_exports(agreed, mediator_a):
    Case.objects.filter(pk=agreed.pk).update(state=CaseState.CLOSED, outcome=Outcome.WRITTEN)
    agreed.refresh_from_db()
    assert exports.export_agreement(mediator_a, agreed, fmt="pdf")[1].startswith(b"%PDF")


# --- through the case services (the whole loop) ------------------------------------------------------
def test_documents_and_figures_after_the_case_services(tree, mediator_a, mediation_manager):
    from linjialin.mediation import figures, report
    from linjialin.mediation.models import Consent, CourtState, Performance
    from linjialin.mediation.services import cases

    case = cases.register_case(
        mediator_a,
        source="application",
        title="楼上漏水纠纷",
        dispute_type="neighbour",
        place=tree.entrance_a,
        facts="楼上卫生间漏水，楼下天花板受损。",
        parties=[
            {
                "side": "applicant",
                "name": "张三",
                "mobile": "13800000001",
                "id_number": "11010519491231002X",
                "resident": tree.resident_a1,
            },
            {
                "side": "respondent",
                "name": "王五",
                "mobile": "13800000003",
                "address": "紫荆雅园1号楼2单元101",
            },
        ],
    )
    for party in case.parties.all():
        cases.record_consent(mediator_a, case, party, consent=Consent.GIVEN, rights_told=True)
    cases.accept_case(mediator_a, case)
    today = timezone.localdate()
    payer = case.parties.get(name="王五")
    cases.record_agreement(
        mediator_a,
        case,
        written=True,
        facts="楼上漏水致楼下受损，楼上住户负主要责任。",
        terms="王五赔偿张三修复费用800元。",
        performance="十日内在调解室以现金支付。",
        signed_on=today,
        signatures={p.pk: today for p in case.parties.all()},
        sealed_on=today,
        items=[
            {"party": payer, "duty": "赔偿修复费用800元", "how": "现金", "where": "调解室", "due_on": today}
        ],
    )
    case.refresh_from_db()
    cases.record_court_application(
        mediator_a,
        case,
        court=selectors.competent_courts(case)[0],
        applied_on=today,
        consents={p.pk: today for p in case.parties.all()},
    )
    cases.record_court_step(mediator_a, case, state=CourtState.ACCEPTED, on=today)
    cases.record_court_step(mediator_a, case, state=CourtState.CONFIRMED, on=today)
    followup = case.followups.order_by("due_on").first()
    cases.record_followup(mediator_a, followup, performance=Performance.PERFORMED, note="已付清")
    case.refresh_from_db()

    _name, data, _type = exports.export_agreement(mediator_a, case, fmt="pdf")
    text = pdf_text(data).replace(" ", "")
    for part in (
        "人民调解协议书",
        "申请人：张三",
        "被申请人：王五",
        "（一）王五：赔偿修复费用800元",
        "人民调解员（签名）：调解员甲",
    ):
        assert part in text, part
    _name, pack, _type = exports.export_filing_pack(mediation_manager, case, reason="双方申请司法确认")
    application = pdf_text(zipfile.ZipFile(io.BytesIO(pack)).read("1-司法确认申请书.pdf")).replace(" ", "")
    assert "北京市通州区人民法院" in application and "13800000003" in application

    period = report.Period.parse(today.strftime("%Y-%m"))
    f = figures.compute(tree.community_1, period.start, period.end)
    assert (f["cases_registered"], f["accepted"], f["resolved"], f["failed"]) == (1, 1, 1, 0)
    assert f["success_rate"] == 1.0 and f["avg_days"] == 0.0 and f["over_limit"] == 0
    assert (f["court_confirmed"], f["followups"], f["performance_rate"]) == (1, 1, 1.0)
    assert figures.compute(tree.community_2, period.start, period.end)["cases_registered"] == 0
