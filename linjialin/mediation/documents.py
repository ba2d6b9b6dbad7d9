"""The centre's legal documents: the mediation agreement (调解协议书) as PDF and as an editable .docx, the
record of an oral agreement (口头调解协议登记表), and the court filing pack for 司法确认.

Each document is built once as a list of `Block`s (title, paragraph, signature line, table …); the PDF
(WeasyPrint over templates/mediation/pdf/document.html) and the .docx (python-docx) are two renderings of
the same blocks, so they always carry the same content.

The documents are Chinese legal forms handed to the parties and to the court: their wording is fixed by
人民调解法 and the court's rules, so it is written here in Chinese (not through the UI catalogue) and is
the same whatever the user's language. Contents (人民调解法 第二十八条至第三十三条; 司法部《人民调解工作
若干规定》第三十五条; DOMAIN.md §4):

- the committee (the subdistrict's 人民调解委员会, named from the case's place ancestors) and a number;
- each party's basic facts (第二十九条 "当事人的基本情况"): name, sex and age or organisation, address,
  identity number, representative (full numbers only in the signing copy and the filing pack);
- the facts, the disputed matters and each side's liabilities; the agreed rights and duties, item by
  item (who, what, how, where, by when); how the agreement is performed;
- the legal effect (第三十一条), the committee's supervision of performance, the effect on signature
  (第二十九条第二款) and the parties' right to apply jointly for 司法确认 within 30 days (第三十三条; the
  number of days is MediationRules.court_apply_days);
- one copy for each party and one for the committee, signature and thumbprint blocks per party, the
  mediator's signature (the lead mediator), the committee's seal space and the date.

Typesetting: A4, a 仿宋/宋体-like CJK face when installed (FangSong, Noto Serif CJK), else WenQuanYi
Micro Hei (fonts-wqy-microhei, installed by scripts/apt_ensure.sh); the title centred; full-width
punctuation (the parties' own text is normalised by `zh`); dates as 2026年11月28日; no Latin text of ours.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from linjialin.core import exports
from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.places.models import Level, Place

from .models import Agreement, Case, CaseParty, CourtConfirmation, PartyKind, PartySide

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP = "application/zip"


class NoAgreement(ValueError):
    """The case has no agreement recorded: there is no agreement document to make."""


# --- Chinese text helpers -------------------------------------------------------------------------------
_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """0–9999 in Chinese numerals as in running text: 3 → 三, 15 → 十五, 30 → 三十, 205 → 二百零五."""
    if n < 0 or n > 9999:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out, zero = "", False
    for value, name in units:
        d = (n // value) % 10
        if d:
            if zero:
                out += "零"
            out += _DIGITS[d] + name
            zero = False
        elif out:
            zero = True
    return out


def cn_date(d: date | None) -> str:
    """2026年11月28日 (Arabic numerals, as in current official documents); a blank form date when None."""
    if d is None:
        return "　　　　年　　月　　日"
    return f"{d.year}年{d.month}月{d.day}日"


_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


def zh(text: str | None) -> str:
    """Full-width punctuation next to Chinese characters (user text typed on a Latin keyboard):
    "我们同意,明天付款." → "我们同意，明天付款。". Punctuation between Latin letters or digits (1,000.50)
    is left alone."""
    if not text:
        return ""
    text = str(text).strip()
    text = re.sub(rf"(?<=[{_CJK}])\s*([,;:?!])\s*", lambda m: _HALF_TO_FULL[m.group(1)], text)
    text = re.sub(rf"\s*([,;:?!])\s*(?=[{_CJK}])", lambda m: _HALF_TO_FULL[m.group(1)], text)
    text = re.sub(rf"(?<=[{_CJK}])\.(?!\d)", "。", text)
    text = re.sub(rf"\(\s*(?=[{_CJK}])", "（", text)
    text = re.sub(rf"(?<=[{_CJK}])\s*\)", "）", text)
    return text


def _paragraphs(text: str) -> list[str]:
    return [zh(p) for p in (text or "").splitlines() if p.strip()]


# --- who and where ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Committee:
    name: str  # 通运街道人民调解委员会
    centre: str  # 通运街道全环节多元化解中心
    subdistrict: str
    community: str
    short: str  # 通运 (for the number)


def committee(case: Case) -> Committee:
    """The committee that mediated: the subdistrict's mediation centre (人民调解法 第三十四条: a 街道 may
    set up a 人民调解委员会), named from the case's place ancestors."""
    ancestors = {p.level: p.name for p in Place.objects.filter(path__in=case.place.ancestor_paths)}
    subdistrict = ancestors.get(Level.SUBDISTRICT, case.place.name)
    community = ancestors.get(Level.COMMUNITY, "")
    short = subdistrict.removesuffix("街道").removesuffix("镇").removesuffix("乡") or subdistrict
    return Committee(
        name=f"{subdistrict}人民调解委员会",
        centre=f"{subdistrict}全环节多元化解中心",
        subdistrict=subdistrict,
        community=community,
        short=short,
    )


def document_number(case: Case, com: Committee, year: int) -> str:
    """（2026）通运调字第42号 from the case number T2026-00042 (digits only: no Latin letter in the
    document)."""
    m = re.search(r"(\d{4})\D+(\d+)$", case.number or "")
    if m:
        year, seq = int(m.group(1)), int(m.group(2))
    else:
        seq = case.pk
    return f"（{year}）{com.short}调字第{seq}号"


SIDES = {PartySide.APPLICANT: "申请人", PartySide.RESPONDENT: "被申请人", PartySide.OTHER: "其他当事人"}


def _from_id_number(id_number: str) -> tuple[str, date | None]:
    """Sex and birth date from an 18-digit resident ID number (GB 11643): digits 7–14 are the birth
    date, the 17th is odd for men. ("", None) when it is not one."""
    if not re.fullmatch(r"\d{17}[\dXx]", id_number or ""):
        return "", None
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "", None
    return ("男" if int(id_number[16]) % 2 else "女"), born


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class PartyFacts:
    side: str
    kind: str
    name: str
    sex: str
    born: date | None
    age: int | None
    id_number: str
    mobile: str
    address: str
    representative: str
    representative_mobile: str


def party_facts(party: CaseParty, on: date, *, full: bool) -> PartyFacts:
    """A party's basic facts for a document. `full` prints the ID and phone numbers in full (the signing
    copy of the agreement and the court filing pack only); otherwise they are masked (core.masking)."""
    sex, born = ("", None)
    if party.kind == PartyKind.PERSON:
        sex, born = _from_id_number(party.id_number)
    age = _age(born, on) if born else None
    if age is None and party.kind == PartyKind.PERSON and party.resident_id and party.resident.birth_year:
        age = on.year - party.resident.birth_year
    mask_id = (lambda s: s) if full or party.kind == PartyKind.ORGANISATION else mask_id_number
    mask_phone = (lambda s: s) if full else mask_mobile
    return PartyFacts(
        side=SIDES.get(party.side, "当事人"),
        kind=party.kind,
        name=zh(party.name),
        sex=sex,
        born=born,
        age=age,
        id_number=mask_id(party.id_number),
        mobile=mask_phone(party.mobile),
        address=zh(party.address),
        representative=zh(party.representative),
        representative_mobile=mask_phone(party.representative_mobile),
    )


def party_line(p: PartyFacts) -> str:
    """申请人：张三，男，1949年12月31日出生，七十六岁 …。 (the basic facts as one sentence)"""
    parts = [f"{p.side}：{p.name}"]
    if p.kind == PartyKind.ORGANISATION:
        if p.id_number:  # an organisation's credit code is public (not personal data): never masked
            parts.append(f"统一社会信用代码：{p.id_number}")
        if p.address:
            parts.append(f"住所：{p.address}")
        if p.representative:
            parts.append(f"法定代表人或者负责人、委托代理人：{p.representative}")
    else:
        if p.sex:
            parts.append(p.sex)
        if p.born:
            parts.append(f"{cn_date(p.born)}出生")
        if p.age is not None:
            parts.append(f"{p.age}岁")
        if p.id_number:
            parts.append(f"公民身份号码：{p.id_number}")
        if p.address:
            parts.append(f"住址：{p.address}")
        if p.representative:
            parts.append(f"委托代理人：{p.representative}")
    if p.mobile:
        parts.append(f"联系电话：{p.mobile}")
    if p.representative and p.representative_mobile:
        parts.append(f"代理人联系电话：{p.representative_mobile}")
    return "，".join(parts) + "。"


# --- the document model -----------------------------------------------------------------------------------
@dataclass
class Block:
    """One piece of a document. kind: committee | title | number | heading | para | item | sign | right |
    table. `rows` for a table (the first row is the header)."""

    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)  # a table's column widths, in per cent


@dataclass
class Document:
    title: str
    blocks: list[Block]
    landscape: bool = False

    def text(self) -> str:
        """The document's text, one block a line (tests and the page preview)."""
        lines = []
        for b in self.blocks:
            lines.append(b.text)
            lines += ["　".join(r) for r in b.rows]
        return "\n".join(line for line in lines if line)


def _agreement(case: Case) -> Agreement:
    try:
        return case.agreement
    except Case.agreement.RelatedObjectDoesNotExist:
        raise NoAgreement(_("This case has no agreement: record the agreement first.")) from None


def _lead_name(case: Case) -> str:
    member = (
        case.team.filter(ended_at__isnull=True, lead=True).select_related("user").first()
        or case.team.filter(ended_at__isnull=True).select_related("user").first()
    )
    if member is None:
        return ""
    return member.user.display_name or ""


def _parties(case: Case) -> list[CaseParty]:
    return list(case.parties.select_related("resident").order_by("id"))


def _court_apply_days() -> int:
    from .selectors import rules

    return rules().court_apply_days


def _copies_clause(copies: int, parties: int) -> str:
    """本协议一式三份，双方当事人、人民调解委员会各执一份。 (三份 for two parties and the committee)"""
    kept = copies - parties
    who = "双方当事人" if parties == 2 else "各方当事人"
    if kept == 1:
        return f"本协议一式{cn_number(copies)}份，{who}、人民调解委员会各执一份。"
    if kept > 1:
        return f"本协议一式{cn_number(copies)}份，{who}各执一份，人民调解委员会留存{cn_number(kept)}份。"
    return f"本协议一式{cn_number(copies)}份，由{who}和人民调解委员会分别收执。"


def agreement_document(case: Case, *, full: bool = False) -> Document:
    """The 调解协议书 (written) or the 口头调解协议登记表 (oral), as blocks. `full`: the signing copy, with
    the parties' full ID and phone numbers (the caller checks the permission and audits)."""
    agreement = _agreement(case)
    com = committee(case)
    parties = _parties(case)
    items = list(agreement.items.select_related("party").order_by("due_on", "id"))
    written = agreement.written
    title = "人民调解协议书" if written else "口头调解协议登记表"
    blocks = [
        Block("committee", com.name),
        Block("title", title),
        Block("number", f"编号：{document_number(case, com, agreement.signed_on.year)}"),
    ]
    # 当事人的基本情况 (人民调解法 第二十九条). The signing copy (`full`) carries each party's full identity
    # number, phone and address, so the parties can check and sign what identifies them; making it needs
    # the sensitive-export permission and is audited (services/exports.py). Every other copy (a party's
    # own download, a team member without the permission) masks the numbers as everywhere else (PIPL
    # 第六条: the minimum necessary).
    blocks.append(Block("heading", "当事人基本情况"))
    blocks += [Block("para", party_line(party_facts(p, agreement.signed_on, full=full))) for p in parties]
    if not written:
        blocks.append(
            Block(
                "para",
                f"当事人于{cn_date(agreement.signed_on)}经{com.name}调解，达成口头调解协议，"
                "由人民调解员记录如下。",
            )
        )
    blocks.append(Block("heading", "纠纷的主要事实、争议事项及各方责任"))
    blocks += [Block("para", p) for p in _paragraphs(agreement.facts)]
    blocks.append(
        Block("heading", "经调解，当事人自愿达成如下协议" if written else "当事人自愿达成的协议内容")
    )
    blocks += [Block("para", p) for p in _paragraphs(agreement.terms)]
    for n, item in enumerate(items, 1):
        who = zh(item.party.name)
        duty = zh(item.duty).rstrip("。；;.")
        parts = [f"（{cn_number(n)}）{who}：{duty}"]
        if item.how:
            parts.append(f"履行方式：{zh(item.how)}")
        if item.where:
            parts.append(f"履行地点：{zh(item.where)}")
        parts.append(f"履行期限：{cn_date(item.due_on)}前")
        blocks.append(Block("item", "；".join(parts) + "。"))
    blocks.append(Block("heading", "履行方式、地点和期限"))
    blocks += [Block("para", p) for p in _paragraphs(agreement.performance)]
    days = cn_number(_court_apply_days())
    blocks.append(Block("heading", "协议的效力"))
    blocks.append(
        Block(
            "para",
            "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
            "人民调解委员会对调解协议的履行情况进行监督，督促当事人履行约定的义务。",
        )
    )
    if written:
        blocks.append(
            Block(
                "para",
                "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
            )
        )
    else:
        blocks.append(
            Block(
                "para", f"本口头调解协议自各方当事人达成协议之日即{cn_date(agreement.effective_on)}起生效。"
            )
        )
    blocks.append(
        Block(
            "para",
            f"当事人认为有必要的，可以自本协议生效之日起{days}日内共同向人民法院申请司法确认。"
            "人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。",
        )
    )
    if written:
        blocks.append(Block("para", _copies_clause(agreement.copies, len(parties))))
    else:
        blocks.append(Block("para", "本登记表由人民调解委员会立卷归档，当事人可以申请查阅、复制。"))
    # signatures: each party (signature or seal, and thumbprint), the mediator, the committee's seal
    blocks.append(Block("heading", "签署" if written else "当事人确认"))
    for p in parties:
        blocks.append(
            Block(
                "sign",
                f"{SIDES.get(p.side, '当事人')}（签名或者盖章）：{zh(p.name)}　＿＿＿＿＿＿＿＿\n"
                "捺印：＿＿＿＿＿＿　　日期：　　年　　月　　日",
            )
        )
    lead = _lead_name(case)
    mediator = "人民调解员（签名）" if written else "记录人（人民调解员签名）"
    blocks.append(Block("sign", f"{mediator}：{zh(lead)}　＿＿＿＿＿＿＿＿"))
    blocks.append(Block("right", f"{com.name}（盖章）"))
    blocks.append(Block("right", cn_date(agreement.signed_on)))
    return Document(title=title, blocks=blocks)


# --- rendering --------------------------------------------------------------------------------------------
def render_html(doc: Document) -> str:
    return render_to_string("mediation/pdf/document.html", {"doc": doc})


def pdf(doc: Document) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(doc)).write_pdf()


def docx(doc: Document) -> bytes:
    """The same blocks as an editable Word document: A4, 仿宋 for Chinese (Word falls back to the
    reader's default CJK face when it is missing), the title centred."""
    from docx import Document as Word
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    word = Word()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if doc.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(25)

    def font(run_or_style, face: str, size: float, bold: bool = False):
        run_or_style.font.name = face
        run_or_style.font.size = Pt(size)
        run_or_style.font.bold = bold
        element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
        rpr = element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), face)

    font(word.styles["Normal"], "仿宋", 14)
    word.core_properties.title = doc.title
    word.core_properties.language = "zh-CN"

    for b in doc.blocks:
        if b.kind == "table":
            table = word.add_table(rows=0, cols=len(b.rows[0]))
            table.style = "Table Grid"
            usable = section.page_width - section.left_margin - section.right_margin
            for i, row in enumerate(b.rows):
                cells = table.add_row().cells
                for j, (cell, value) in enumerate(zip(cells, row, strict=False)):
                    if b.widths:
                        cell.width = int(usable * b.widths[j] / 100)
                    cell.text = ""
                    font(cell.paragraphs[0].add_run(value), "仿宋", 10.5, bold=i == 0)
            continue
        para = word.add_paragraph()
        fmt = para.paragraph_format
        if b.kind == "committee":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            font(para.add_run(b.text), "宋体", 16, bold=True)
        elif b.kind == "title":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.space_after = Pt(12)
            font(para.add_run(b.text), "宋体", 22, bold=True)
        elif b.kind in ("number", "right"):
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            font(para.add_run(b.text), "仿宋", 14)
        elif b.kind == "heading":
            fmt.space_before = Pt(8)
            font(para.add_run(b.text), "黑体", 14, bold=True)
        elif b.kind == "sign":
            fmt.space_before = Pt(14)
            for i, line in enumerate(b.text.split("\n")):
                if i:
                    para.add_run().add_break()
                font(para.add_run(line), "仿宋", 14)
        else:  # para, item
            fmt.first_line_indent = Pt(28)  # two characters
            font(para.add_run(b.text), "仿宋", 14)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def agreement_pdf(case: Case, *, full: bool = False) -> bytes:
    """The agreement (or the oral agreement's record) as PDF. NoAgreement without an agreement."""
    return pdf(agreement_document(case, full=full))


def agreement_docx(case: Case, *, full: bool = False) -> bytes:
    """The agreement (or the oral agreement's record) as an editable .docx, the same content."""
    return docx(agreement_document(case, full=full))


# --- the court filing pack (司法确认) -----------------------------------------------------------------
def _court(case: Case) -> CourtConfirmation | None:
    try:
        return case.court
    except Case.court.RelatedObjectDoesNotExist:
        return None


def application_document(case: Case) -> Document:
    """司法确认申请书: the parties' joint application (人民调解法 第三十三条; 民事诉讼法 第二百零五条;
    法释〔2011〕5号 第三条), with their full identity and contact details."""
    agreement = _agreement(case)
    com = committee(case)
    court = _court(case)
    parties = _parties(case)
    number = document_number(case, com, agreement.signed_on.year)
    kind = "调解协议" if agreement.written else "口头调解协议"
    blocks = [Block("title", "人民调解协议司法确认申请书")]
    blocks += [Block("para", party_line(party_facts(p, agreement.signed_on, full=True))) for p in parties]
    blocks.append(Block("heading", "请求事项"))
    blocks.append(
        Block(
            "para",
            f"请求人民法院依法确认申请人于{cn_date(agreement.signed_on)}经{com.name}主持调解达成的"
            f"{kind}（{number}）有效。",
        )
    )
    blocks.append(Block("heading", "事实和理由"))
    blocks.append(
        Block(
            "para",
            f"申请人之间因{zh(case.title)}发生纠纷，经{com.name}主持调解，于{cn_date(agreement.signed_on)}"
            f"自愿达成{kind}，该协议自{cn_date(agreement.effective_on)}起生效。协议的主要内容如下：",
        )
    )
    blocks += [Block("para", p) for p in _paragraphs(agreement.terms)]
    blocks.append(
        Block(
            "para",
            "为此，申请人依照《中华人民共和国人民调解法》第三十三条和《中华人民共和国民事诉讼法》"
            "第二百零五条的规定，共同向人民法院申请司法确认。",
        )
    )
    blocks.append(Block("heading", "申请人承诺"))
    blocks.append(Block("item", "（一）出于解决纠纷的目的自愿达成调解协议，没有恶意串通、规避法律的行为；"))
    blocks.append(
        Block("item", "（二）如果因为该协议内容而给他人造成损害的，愿意承担相应的民事责任和其他法律责任。")
    )
    blocks.append(Block("para", "此致"))
    blocks.append(Block("sign", zh(court.court) if court and court.court else "＿＿＿＿＿＿＿＿人民法院"))
    for p in parties:
        blocks.append(
            Block("sign", f"申请人（签名或者盖章）：{zh(p.name)}　＿＿＿＿＿＿＿＿\n捺印：＿＿＿＿＿＿")
        )
    blocks.append(Block("right", cn_date(court.applied_on if court else None)))
    blocks.append(Block("heading", "附"))
    blocks.append(Block("item", "一、调解协议书；"))
    blocks.append(Block("item", "二、当事人身份证明；"))
    blocks.append(Block("item", "三、当事人的送达地址和联系方式。"))
    return Document(title="人民调解协议司法确认申请书", blocks=blocks)


IDENTITY_HEADER = [
    "当事人",
    "类别",
    "姓名或者名称",
    "性别",
    "出生日期",
    "公民身份号码或统一社会信用代码",
    "住址或者住所",
    "联系电话",
    "代理人",
    "代理人联系电话",
]

IDENTITY_WIDTHS = [8, 9, 12, 5, 11, 17, 13, 11, 6, 8]


def identity_rows(case: Case) -> list[list[str]]:
    """The parties' identity and contact, full numbers (the filing pack only)."""
    on = timezone.localdate()
    rows = []
    for party in _parties(case):
        p = party_facts(party, on, full=True)
        rows.append(
            [
                p.side,
                "自然人" if p.kind == PartyKind.PERSON else "法人或者其他组织",
                p.name,
                p.sex,
                cn_date(p.born) if p.born else "",
                p.id_number,
                p.address,
                p.mobile,
                p.representative,
                p.representative_mobile,
            ]
        )
    return rows


def identity_document(case: Case) -> Document:
    agreement = _agreement(case)
    com = committee(case)
    number = document_number(case, com, agreement.signed_on.year)
    blocks = [
        Block("title", "当事人身份及联系方式"),
        Block("number", f"{com.name}　{number}"),
        Block("table", rows=[IDENTITY_HEADER, *identity_rows(case)], widths=IDENTITY_WIDTHS),
        Block("para", "本表载有当事人的个人信息，仅供人民法院办理司法确认使用，不得用于其他用途。"),
    ]
    return Document(title="当事人身份及联系方式", blocks=blocks, landscape=True)


def identity_csv(case: Case) -> bytes:
    """The same table as CSV in UTF-8 with a BOM (Excel on Chinese Windows), formulas neutralised."""
    return exports.csv_bytes([IDENTITY_HEADER, *identity_rows(case)])


FILING_PACK_MEMBERS = (
    "1-司法确认申请书.pdf",
    "2-调解协议书.pdf",
    "3-当事人身份及联系方式.pdf",
    "3-当事人身份及联系方式.csv",
)


def filing_pack(case: Case) -> bytes:
    """The court filing pack for 司法确认, a zip: the joint application, the agreement, and the
    parties' identity and contact sheet (PDF and CSV) with full numbers. NoAgreement without one."""
    _agreement(case)
    members = [
        pdf(application_document(case)),
        agreement_pdf(case, full=True),  # the court checks the parties against the signed copy
        pdf(identity_document(case)),
        identity_csv(case),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in zip(FILING_PACK_MEMBERS, members, strict=True):
            z.writestr(name, data)
    return out.getvalue()
