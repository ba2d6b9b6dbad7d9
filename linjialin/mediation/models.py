"""全环节多元化解中心: screening (前端预防), legal consultations, dispute cases (中端化解) with their parties,
team, sessions, agreement and court confirmation (司法确认), follow-up and re-prevention (末端提升再预防).

Models hold data only; every write is in services/, the case states and transitions in workflow.py.
Time limits (one month, the court's clocks, follow-up intervals) are data: MediationRules, one row; the
basic-level courts and the places they serve are data too (Court).

Confidentiality (DOMAIN §4, issue 5 §5): a case is seen only by its team, the centre's managers
(mediation.manage over the case's place) and, for their own case, its parties; counselling notes only
by the counsellor who wrote them. `selectors.py` is the only way to read them; every view of a case
file is audited. Other apps see counts (selectors.figures).
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linjialin.core.scope import PathField, ScopedQuerySet
from linjialin.places.models import Place, Resident

USER = settings.AUTH_USER_MODEL


class MediationRules(models.Model):
    """The centre's time limits and intervals (data, one row; the model defaults apply without one)."""

    target_months = models.PositiveSmallIntegerField(
        _("months from acceptance to close a case"),
        default=1,
        help_text=_(
            "Calendar months (司法部《人民调解工作若干规定》第三十三条: 一般在一个月内调结). "
            "Counted as the law counts months (民法典 第二百零二条、第二百零三条): the same day of the "
            "next month, the month's last day when it has none, moved to the next working day when it "
            "falls on a rest day."
        ),
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("days before the limit a case counts as due soon"), default=5
    )
    court_apply_days = models.PositiveSmallIntegerField(
        _("days from the agreement taking effect to apply for court confirmation"),
        default=30,
        help_text=_(
            "人民调解法 第三十三条; 民事诉讼法 (2023) 第二百零五条: within 30 days of the agreement taking "
            "effect. A last day on a rest day moves to the next working day (民事诉讼法 第八十五条)."
        ),
    )
    court_accept_days = models.PositiveSmallIntegerField(
        _("days for the court to accept an application"),
        default=3,
        help_text=_("最高人民法院关于人民调解协议司法确认程序的若干规定 (2011) 第四条: 3 days."),
    )
    court_decide_days = models.PositiveSmallIntegerField(
        _("days for the court to decide"),
        default=30,
        help_text=_(
            "民事诉讼法 (2023) 第一百八十七条 (特别程序): concluded within 30 days of acceptance (立案); "
            "longer only with the court president's approval. Replaces the 15 days of the 2011 规定 第五条."
        ),
    )
    court_extend_days = models.PositiveSmallIntegerField(
        _("days the court may extend its decision by"),
        default=10,
        help_text=_(
            "The law sets no length for the president's extension (民事诉讼法 第一百八十七条); "
            "10 follows the 2011 规定 第五条. Use the length the court announces."
        ),
    )
    court_excluded_types = models.CharField(
        _("dispute types a court does not confirm (comma separated codes)"),
        max_length=200,
        default="marriage_family",
        blank=True,
        help_text=_(
            "A court does not confirm agreements on 婚姻、亲子、收养等身份关系 (最高人民法院关于人民调解协议"
            "司法确认程序的若干规定 第四条; 民事诉讼法解释 on applications not accepted). Mediation of these "
            "cases goes on; the case page shows the reason instead of the court application."
        ),
    )
    followup_days = models.CharField(
        _("follow-up visits: days after the agreement, comma separated"), max_length=50, default="7,30,90"
    )
    followup_grace_days = models.PositiveSmallIntegerField(
        _("days after a planned follow-up before it is overdue"), default=3
    )
    repeat_lookback_days = models.PositiveSmallIntegerField(
        _("days back to look for repeat disputes (same parties or same place)"), default=365
    )
    centre_phone = models.CharField(
        _("the centre's phone number (shown to the parties as a call button)"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(r"^\+?[0-9][0-9 -]{2,28}$", _("Enter a phone number: digits, spaces and dashes."))
        ],
    )

    class Meta:
        verbose_name = _("mediation rules")
        verbose_name_plural = _("mediation rules")

    def __str__(self):
        return "mediation rules"


class Court(models.Model):
    """A basic-level people's court (基层人民法院) and the places it serves, for 司法确认: the parties apply
    to the basic-level court where a party lives, where the subject matter is or where the mediation
    organisation is (民事诉讼法 2023 第二百零五条). Data, edited in the admin."""

    name = models.CharField(_("court"), max_length=100, unique=True)
    area_codes = models.CharField(
        _("administrative codes of the places it serves (comma separated)"),
        max_length=200,
        help_text=_(
            "Division codes, e.g. 110112 for 通州区: a place whose code path starts with one of them is "
            "served by this court."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("basic-level court")
        verbose_name_plural = _("basic-level courts")

    def __str__(self):
        return self.name

    def codes(self) -> list[str]:
        return [c.strip() for c in self.area_codes.replace("，", ",").split(",") if c.strip()]


class DisputeType(models.TextChoices):
    MARRIAGE_FAMILY = "marriage_family", _("marriage and family (婚姻家庭)")
    NEIGHBOUR = "neighbour", _("neighbours (邻里)")
    PROPERTY_MGMT = "property_mgmt", _("property management (物业)")
    HOUSING = "housing", _("housing (房屋)")
    DAMAGES = "damages", _("damages (损害赔偿)")
    LABOUR = "labour", _("labour (劳动)")
    CONTRACT = "contract", _("contract (合同)")
    OTHER = "other", _("other (其他)")


class RiskLevel(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


# --- screening (前端预防) -----------------------------------------------------------------------------------
class ScreeningState(models.TextChoices):
    PLANNED = "planned", _("planned")
    HELD = "held", _("held")
    CANCELLED = "cancelled", _("cancelled")


class ScreeningSession(models.Model):
    """A scheduled screening session (矛盾纠纷排查) for a community or a grid."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")  # community or grid
    path = PathField()
    planned_for = models.DateTimeField(_("planned for"))
    location = models.CharField(_("where"), max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=ScreeningState.choices, default=ScreeningState.PLANNED)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    participants = models.TextField(_("participants"), blank=True)  # names and roles, one per line
    staff = models.ManyToManyField(USER, blank=True, related_name="+")  # staff who took part
    summary = models.TextField(_("summary"), blank=True)
    organiser = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-planned_for", "-id"]
        verbose_name = _("screening session")
        verbose_name_plural = _("screening sessions")

    def __str__(self):
        return f"{self.place} {self.planned_for:%Y-%m-%d}"


class FindingOutcome(models.TextChoices):
    OPEN = "open", _("open")
    CASE = "case", _("became a case")
    TASK = "task", _("became a prevention task")
    CLOSED = "closed", _("closed with a note")


class ScreeningFinding(models.Model):
    """A risk found in screening: becomes a case, a prevention task, or is closed with a note."""

    session = models.ForeignKey(ScreeningSession, on_delete=models.CASCADE, related_name="findings")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")  # where (any level)
    path = PathField()
    dispute_type = models.CharField(_("type"), max_length=20, choices=DisputeType.choices)
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    parties = models.TextField(_("parties, if known"), blank=True)
    description = models.TextField(_("description"), max_length=2000)
    outcome = models.CharField(max_length=8, choices=FindingOutcome.choices, default=FindingOutcome.OPEN)
    outcome_note = models.TextField(_("note"), blank=True)
    handled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["session", "id"]
        verbose_name = _("screening finding")
        verbose_name_plural = _("screening findings")

    def __str__(self):
        return f"{self.get_dispute_type_display()} {self.description[:30]}"


# --- legal consultations --------------------------------------------------------------------------------
class Consultation(models.Model):
    """A legal consultation (法律咨询), logged quickly; counted in the figures."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")  # community (or below)
    path = PathField()
    asked_at = models.DateTimeField(_("asked at"))
    anonymous = models.BooleanField(_("anonymous"), default=False)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    asker_name = models.CharField(_("who asked"), max_length=50, blank=True)
    topic = models.CharField(_("topic"), max_length=20, choices=DisputeType.choices)
    question = models.TextField(_("question"), max_length=2000, blank=True)
    lawyer = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.TextField(_("answer summary"), max_length=4000, blank=True)
    referral = models.CharField(_("referred to"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at", "-id"]
        verbose_name = _("legal consultation")
        verbose_name_plural = _("legal consultations")

    def __str__(self):
        return f"{self.asked_at:%Y-%m-%d} {self.get_topic_display()}"


# --- cases (中端化解) -------------------------------------------------------------------------------------
class Source(models.TextChoices):
    SCREENING = "screening", _("screening (主动排查)")
    APPLICATION = "application", _("a party's application (当事人申请)")
    REQUEST = "request", _("an escalated micro-request")
    REFERRAL = "referral", _("referral (委托移送)")


class ReferredBy(models.TextChoices):
    POLICE = "police", _("police")
    COURT = "court", _("court")
    DEPARTMENT = "department", _("a department")


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("registered, waiting for consent")
    ACCEPTED = "accepted", _("accepted, in mediation")
    AGREED = "agreed", _("agreement reached")
    FAILED = "failed", _("no agreement")
    WITHDRAWN = "withdrawn", _("withdrawn")
    NOT_ACCEPTED = "not_accepted", _("not accepted")
    CLOSED = "closed", _("closed")


class Outcome(models.TextChoices):
    WRITTEN = "written", _("written agreement")
    ORAL = "oral", _("oral agreement")
    NO_AGREEMENT = "no_agreement", _("no agreement")
    WITHDRAWN = "withdrawn", _("withdrawn")
    NOT_ACCEPTED = "not_accepted", _("not accepted")


class ReferralChannel(models.TextChoices):
    COURT = "court", _("court (诉讼)")
    ARBITRATION = "arbitration", _("arbitration (仲裁)")
    ADMINISTRATIVE = "administrative", _("administrative channel")
    OTHER = "other", _("other channel")


class Case(models.Model):
    """A dispute case. `path` is its place's path (scope of the centre's managers)."""

    number = models.CharField(max_length=20, unique=True)  # e.g. T2026-00042, assigned at registration
    title = models.CharField(_("short title"), max_length=100)
    dispute_type = models.CharField(_("type"), max_length=20, choices=DisputeType.choices)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    referred_by = models.CharField(_("referred by"), max_length=12, choices=ReferredBy.choices, blank=True)
    referring_body = models.CharField(_("referring body"), max_length=100, blank=True)
    finding = models.ForeignKey(
        ScreeningFinding, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    service_request_id = models.PositiveBigIntegerField(
        null=True, blank=True
    )  # service_requests.ServiceRequest
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    location = models.CharField(_("where exactly"), max_length=200, blank=True)
    facts = models.TextField(_("facts"), max_length=5000)
    dispute_items = models.TextField(_("what is disputed"), max_length=5000, blank=True)

    state = models.CharField(
        max_length=16, choices=CaseState.choices, default=CaseState.REGISTERED, db_index=True
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(
        _("note"), blank=True
    )  # the reason for not accepting, failing, withdrawing
    referral_channel = models.CharField(
        _("referred on to"), max_length=16, choices=ReferralChannel.choices, blank=True
    )
    referral_detail = models.CharField(_("referral detail"), max_length=200, blank=True)

    risk_flag = models.BooleanField(_("may turn violent or criminal"), default=False)
    risk_note = models.TextField(_("risk note"), blank=True)
    police_notified_at = models.DateTimeField(null=True, blank=True)
    police_notified_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    police_notice = models.CharField(_("how the police were told"), max_length=200, blank=True)
    repeat_of = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="+")
    repeat_reason = models.CharField(max_length=200, blank=True)  # same parties / same place, in words

    registered_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    registered_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, db_index=True)  # accepted + target_months (+ extensions)
    ended_at = models.DateTimeField(null=True, blank=True)  # agreement, failure, withdrawal or refusal
    closed_at = models.DateTimeField(null=True, blank=True)
    lesson = models.TextField(_("lesson learned"), blank=True)  # written at closing

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        indexes = [models.Index(fields=["state", "path"], name="case_state_path")]

    def __str__(self):
        return f"{self.number} {self.title}"


class PartyKind(models.TextChoices):
    PERSON = "person", _("person")
    ORGANISATION = "organisation", _("organisation")


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("applicant")
    RESPONDENT = "respondent", _("respondent")
    OTHER = "other", _("other party")


class Consent(models.TextChoices):
    PENDING = "pending", _("not asked yet")
    GIVEN = "given", _("agrees to mediation")
    REFUSED = "refused", _("refuses mediation")


class CaseParty(models.Model):
    """A party to a case. Contact and ID numbers are masked on every page (core.masking) unless
    unmasked with a reason (audited); they leave the system only in the court filing pack."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=12, choices=PartySide.choices, default=PartySide.APPLICANT)
    kind = models.CharField(_("kind"), max_length=12, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="mediation_parties"
    )
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    id_number = models.CharField(_("ID number or credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    representative = models.CharField(_("representative"), max_length=100, blank=True)
    representative_mobile = models.CharField(_("representative's mobile"), max_length=11, blank=True)
    consent = models.CharField(max_length=8, choices=Consent.choices, default=Consent.PENDING)
    rights_told_at = models.DateTimeField(null=True, blank=True)  # told their rights (free, voluntary, …)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.CharField(
        _("note"), max_length=500, blank=True
    )  # how consent was given, or why refused
    public_session = models.BooleanField(_("agrees to public sessions"), default=True)

    class Meta:
        ordering = ["case", "id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self):
        return self.name


class TeamRole(models.TextChoices):
    LAWYER = "lawyer", _("lawyer (专职律师)")
    SOCIAL_WORKER = "social_worker", _("social worker (专业社工)")
    COUNSELLOR = "counsellor", _("psychological counsellor (心理咨询师)")
    MEDIATOR = "mediator", _("mediator (专职调解员)")
    POLICE = "police", _("community police officer (社区民警)")
    JUDGE = "judge", _("rotating judge (轮值法官)")
    RESPECTED = "respected", _("respected resident (社区贤达)")
    DEPARTMENT = "department", _("department (职能部门)")


class CaseMember(models.Model):
    """A member of the case team. Ended (not deleted) when replaced or removed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="mediation_memberships")
    role = models.CharField(_("role"), max_length=16, choices=TeamRole.choices)
    lead = models.BooleanField(_("lead mediator"), default=False)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["case", "-lead", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_membership",
            )
        ]

    def __str__(self):
        return f"{self.case_id} {self.user_id} {self.role}"


class Objection(models.Model):
    """A party's objection to a team member (回避): recorded; the member is replaced."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="objections")
    party = models.ForeignKey(CaseParty, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(CaseMember, on_delete=models.CASCADE, related_name="objections")
    reason = models.TextField(_("reason"), max_length=1000)
    replacement = models.ForeignKey(
        CaseMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self):
        return f"objection {self.case_id} {self.member_id}"


class MediationSession(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    location = models.CharField(_("where"), max_length=200)
    public = models.BooleanField(_("public session"), default=False)
    attendees = models.TextField(_("attendees"))
    minutes = models.TextField(_("minutes"), max_length=20000)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")

    def __str__(self):
        return f"session {self.case_id} {self.held_at:%Y-%m-%d}"


class DocumentKind(models.TextChoices):
    APPLICATION = "application", _("application")
    REGISTRATION = "registration", _("registration form")
    INVESTIGATION = "investigation", _("investigation record")
    MINUTES = "minutes", _("mediation record")
    AGREEMENT = "agreement", _("agreement")
    COURT = "court", _("court document")
    FOLLOWUP = "followup", _("follow-up record")
    OTHER = "other", _("other")


class CaseDocument(models.Model):
    """A file in the case file (uploaded, or generated and kept: the agreement as signed)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    session = models.ForeignKey(
        MediationSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    name = models.CharField(_("name"), max_length=200)
    file = models.FileField(upload_to="mediation/%Y/%m/")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


class CounsellingNote(models.Model):
    """A psychological counsellor's note: seen by its author only (not by the team, not by managers)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    counsellor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    text = models.TextField(max_length=10000)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"counselling note {self.case_id}"


class Extension(models.Model):
    """The one-month limit extended: needs every party's consent, recorded."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=500)
    consent_note = models.CharField(_("how the parties consented"), max_length=500)
    old_due_on = models.DateField()
    new_due_on = models.DateField()
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self):
        return f"extension {self.case_id} +{self.days}"


class Agreement(models.Model):
    """The mediation agreement (调解协议书), written or oral (an oral one is recorded here too).
    Its duties are AgreementItem rows: who does what, how, where and by when."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="agreement")
    written = models.BooleanField(_("written agreement"), default=True)
    facts = models.TextField(_("facts, dispute and liabilities"), max_length=10000)
    terms = models.TextField(_("agreed rights and duties"), max_length=10000)
    performance = models.TextField(_("how, where and by when it is performed"), max_length=5000)
    signed_on = models.DateField(_("date of the agreement"))  # oral: the day the parties agreed
    sealed_on = models.DateField(
        _("mediator signed and committee sealed on"), null=True, blank=True
    )  # a written agreement
    # derived by services.agreements, never typed: written → the last of the parties' signatures and the
    # seal; oral → the day agreed (人民调解法 第二十九条、第三十条). Stored: the court window, the desk
    # queues and the follow-up plan filter on it.
    effective_on = models.DateField(_("takes effect on"))
    copies = models.PositiveSmallIntegerField(_("copies"), default=3)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    def __str__(self):
        return f"agreement {self.case_id}"


class AgreementSignature(models.Model):
    """A party's signature (签名、盖章或者按指印) on a written agreement, with its date."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(CaseParty, on_delete=models.PROTECT, related_name="+")
    signed_on = models.DateField(_("signed on"))

    class Meta:
        ordering = ["agreement", "party_id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "party"], name="one_signature_per_party")]

    def __str__(self):
        return f"signature {self.agreement_id} {self.party_id}"


class AgreementItem(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="items")
    party = models.ForeignKey(CaseParty, on_delete=models.PROTECT, related_name="+")  # who performs it
    duty = models.TextField(_("duty"), max_length=2000)
    how = models.CharField(_("how"), max_length=200, blank=True)
    where = models.CharField(_("where"), max_length=200, blank=True)
    due_on = models.DateField(_("by when"))
    performed_at = models.DateTimeField(null=True, blank=True)  # confirmed at a follow-up

    class Meta:
        ordering = ["agreement", "due_on", "id"]

    def __str__(self):
        return self.duty[:50]


class CourtState(models.TextChoices):
    APPLIED = "applied", _("applied")
    ACCEPTED = "accepted", _("accepted by the court")
    CONFIRMED = "confirmed", _("confirmed valid")
    REJECTED = "rejected", _("rejected")


class CourtConfirmation(models.Model):
    """司法确认: the parties' joint application and the court's steps. The clocks are computed from
    MediationRules: apply within 30 days of effect, acceptance in 3, decision in 30 (+ the extension),
    each last day moved off a rest day."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="court")
    court = models.CharField(_("court"), max_length=100)  # the name, as printed on the documents
    chosen_court = models.ForeignKey(
        Court, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # one of the competent courts (selectors.competent_courts)
    applied_on = models.DateField(_("applied on"))
    state = models.CharField(max_length=10, choices=CourtState.choices, default=CourtState.APPLIED)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    extended = models.BooleanField(_("decision period extended"), default=False)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"court {self.case_id} {self.state}"


class CourtConsent(models.Model):
    """One party's consent to the joint application (共同申请), with its date: every party consents."""

    confirmation = models.ForeignKey(CourtConfirmation, on_delete=models.CASCADE, related_name="consents")
    party = models.ForeignKey(CaseParty, on_delete=models.PROTECT, related_name="+")
    consented_on = models.DateField(_("consented on"))

    class Meta:
        ordering = ["confirmation", "party_id"]
        constraints = [
            models.UniqueConstraint(fields=["confirmation", "party"], name="one_court_consent_per_party")
        ]

    def __str__(self):
        return f"court consent {self.confirmation_id} {self.party_id}"


class Performance(models.TextChoices):
    PERFORMED = "performed", _("performed")
    IN_PROGRESS = "in_progress", _("being performed on time")
    LAPSED = "lapsed", _("not performed (lapsed)")


class FollowUp(models.Model):
    """A planned follow-up visit (回访) on the agreement's performance, and its record once made."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followups")
    due_on = models.DateField(_("planned for"), db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    performance = models.CharField(max_length=12, choices=Performance.choices, blank=True)
    note = models.TextField(_("record"), blank=True)
    overdue_flagged = models.BooleanField(default=False)  # the sweep told the team once

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self):
        return f"follow-up {self.case_id} {self.due_on}"


class TaskKind(models.TextChoices):
    PROMPT = "prompt", _("prompt a party to perform (督促履行)")
    TALK = "talk", _("a talk in the building")
    HOUSE_RULE = "house_rule", _("a house-rule proposal")
    REPAIR = "repair", _("a repair")
    PREVENTION = "prevention", _("other prevention work")


class TaskState(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class PreventionTask(models.Model):
    """Re-prevention (再预防) and prompting work: from a closed case's lesson, a lapsed follow-up, or a
    screening finding."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    finding = models.ForeignKey(
        ScreeningFinding, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    followup = models.ForeignKey(FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("due on"))
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    done_note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("prevention task")
        verbose_name_plural = _("prevention tasks")

    def __str__(self):
        return self.title


class CaseEvent(models.Model):
    """The case's timeline: one typed event per step (parties see the events marked `public`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    public = models.BooleanField(default=False)  # shown on the party's own status page
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.kind}"
