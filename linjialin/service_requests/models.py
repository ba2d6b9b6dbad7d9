"""微诉求 / 接诉即办: a resident's small request, from submission to a rated, closed result.

Models hold data only; every write is in services.py, the states and transitions in workflow.py.
Time limits and categories are data (TimeLimitPolicy, Category), seeded with marked defaults.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import PathField, ScopedQuerySet
from linjialin.places.models import Place


class RequestType(models.TextChoices):
    CONSULT = "consult", _("consultation (咨询)")
    HELP = "help", _("request for help (求助)")
    COMPLAINT = "complaint", _("complaint (投诉)")
    REPORT = "report", _("report (举报)")
    SUGGESTION = "suggestion", _("suggestion (建议)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    RISK = "risk", _("risk to life or property")


class Channel(models.TextChoices):
    RESIDENT = "resident", _("resident, on the phone page")
    ON_BEHALF = "on_behalf", _("on a resident's behalf (代报)")
    PATROL = "patrol", _("grid patrol finding")
    HOTLINE = "hotline", _("hotline work order (12345)")
    PHONE = "phone", _("phone call taken by staff")


class HandlingLevel(models.IntegerChoices):
    """Where a request is handled; escalation moves it up the chain (to a smaller number)."""

    DEPARTMENT = 0, _("department")
    SUBDISTRICT = 1, _("subdistrict")
    COMMUNITY = 2, _("community")
    GRID = 3, _("grid")
    ENTRANCE = 4, _("entrance")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    IN_PROGRESS = "in_progress", _("in progress")
    EXTENSION_REQUESTED = "extension_requested", _("extension requested")
    ESCALATED = "escalated", _("escalated")
    RETURNED = "returned", _("returned to the dispatcher")
    RESOLVED = "resolved", _("resolved")
    CALLED_BACK = "called_back", _("called back")
    CLOSED = "closed", _("closed")
    NOT_ACCEPTED = "not_accepted", _("not accepted")
    MERGED = "merged", _("merged")
    WITHDRAWN = "withdrawn", _("withdrawn")


OPEN_STATES = (
    State.SUBMITTED,
    State.ACCEPTED,
    State.IN_PROGRESS,
    State.EXTENSION_REQUESTED,
    State.ESCALATED,
    State.RETURNED,
)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied (满意)")
    BASICALLY = "basically", _("basically satisfied (基本满意)")
    UNSATISFIED = "unsatisfied", _("unsatisfied (不满意)")


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("clock hours")
    WORKING_DAYS = "working_days", _("working days")


class UnitKind(models.TextChoices):
    OFFICE = "office", _("subdistrict office (科室)")
    DEPARTMENT = "department", _("government department")
    PROPERTY = "property", _("property company")
    UTILITY = "utility", _("utility company (water, power, gas, heating)")
    OTHER = "other", _("other unit")


def bilingual(name_zh: str, name_en: str) -> str:
    """A name kept in both languages (taxonomy data), as the active language reads it."""
    if name_en and not (get_language() or settings.LANGUAGE_CODE).startswith("zh"):
        return name_en[:1].upper() + name_en[1:]
    return name_zh


class HandlingUnit(models.Model):
    """A unit that handles requests at the department level (a subdistrict office, a 区 department, a
    property or utility company). It serves the places under `place` (usually a subdistrict); its members
    handle the requests dispatched to it, and its supervisors decide its extensions."""

    code = models.SlugField(unique=True, max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=UnitKind.choices, default=UnitKind.DEPARTMENT)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    duties = models.TextField(_("duty list (职责清单)"), blank=True)
    active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="UnitMember", related_name="units")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("handling unit")
        verbose_name_plural = _("handling units")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The unit's name in the active language (English when it has one, else Chinese)."""
        return bilingual(self.name_zh, self.name_en)


class UnitMember(models.Model):
    unit = models.ForeignKey(HandlingUnit, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unit_memberships"
    )
    supervisor = models.BooleanField(_("supervisor (decides extensions)"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "user"], name="one_membership_per_unit")]

    def __str__(self):
        return f"{self.unit_id}:{self.user_id}"


class Category(models.Model):
    """A request category (data), in two levels: a top-level field (物业服务, 市政设施与照明 …) and its
    concrete problems (路灯不亮, 井盖缺损 …). Where it is handled first (a sub-category without its own
    level takes its parent's), and by which unit at the department level. Time limits: a policy row
    for the category, else for its parent, else the general rows (services.policy_for)."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.SlugField(unique=True, max_length=40)
    name_zh = models.CharField(max_length=50)
    name_en = models.CharField(max_length=80)
    level = models.PositiveSmallIntegerField(choices=HandlingLevel.choices, default=HandlingLevel.ENTRANCE)
    unit = models.ForeignKey(
        HandlingUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("default unit (for the department level)"),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("request category")
        verbose_name_plural = _("request categories")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The category's name in the active language (forms, pages and notices show it this way)."""
        return bilingual(self.name_zh, self.name_en)

    @property
    def entrance_level(self) -> bool:
        """楼门-level: it goes first to the entrance's 楼门长 (楼门的事不出楼门)."""
        return self.level == HandlingLevel.ENTRANCE


class TimeLimitPolicy(models.Model):
    """Time limits (data). A blank type/category/urgency matches any. Among the rows that apply, a row
    refined by a more specific one drops out, and of the rest each limit takes the most urgent value
    (time_limits.pick; docs/time_limits.md): a risk-flagged gas outage is answered within the risk
    row's 2 h and fixed within the utility row's 24 h."""

    request_type = models.CharField(max_length=20, choices=RequestType.choices, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    accept_amount = models.PositiveIntegerField(_("acceptance window"), default=24)
    accept_unit = models.CharField(max_length=15, choices=TimeUnit.choices, default=TimeUnit.HOURS)
    contact_amount = models.PositiveIntegerField(_("first-contact limit"), default=24)
    contact_unit = models.CharField(max_length=15, choices=TimeUnit.choices, default=TimeUnit.HOURS)
    resolve_amount = models.PositiveIntegerField(_("resolution limit"), default=7)
    resolve_unit = models.CharField(max_length=15, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    max_extension_amount = models.PositiveIntegerField(_("maximum extension"), default=10)
    max_extension_unit = models.CharField(
        max_length=15, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")

    def __str__(self):
        return self.note or f"{self.request_type or '*'}/{self.category_id or '*'}/{self.urgency or '*'}"

    @property
    def specificity(self) -> int:
        return (self.request_type != "") + (self.category_id is not None) * 2 + (self.urgency != "") * 4


class RequestRules(models.Model):
    """Handling rules that are data (one row): reopen maximum, call-back wait, satisfaction weight."""

    max_reopen = models.PositiveSmallIntegerField(_("maximum reopens (重办)"), default=2)
    reminder_at_percent = models.PositiveSmallIntegerField(
        _("remind the handler when this share of a limit has passed (%)"), default=75
    )
    callback_days = models.PositiveSmallIntegerField(_("days to wait for the requester's rating"), default=3)
    basic_satisfaction_weight = models.DecimalField(
        _("weight of 基本满意 in the satisfaction rate"), max_digits=3, decimal_places=2, default=0.8
    )
    # the rates (service_requests.metrics, docs/rates.md): composite weights and the two quick-service windows
    response_weight = models.PositiveSmallIntegerField(
        _("weight of the response rate in the score"), default=30
    )
    resolution_weight = models.PositiveSmallIntegerField(
        _("weight of the resolution rate in the score"), default=35
    )
    satisfaction_weight = models.PositiveSmallIntegerField(
        _("weight of the satisfaction rate in the score"), default=35
    )
    signoff_hours = models.PositiveSmallIntegerField(_("sign-off window in clock hours"), default=24)
    completion_days = models.PositiveSmallIntegerField(_("completion window in calendar days"), default=7)
    # 吹哨报到 and co-handling units (holdings.py, docs/rates.md): how soon a called unit reports for duty
    # (报到); defaults: 30 minutes is the origin rule of 吹哨报到 (平谷, 2017), 24 hours the first-response
    # default. A unit reports back by the request's resolution deadline (no rule of its own).
    whistle_checkin_minutes = models.PositiveIntegerField(
        _("吹哨: minutes for a summoned unit to report for duty (报到)"), default=30
    )
    co_handle_checkin_hours = models.PositiveIntegerField(
        _("co-handling: hours for a unit to report for duty (报到)"), default=24
    )
    # intake (service_requests/intake.py, docs/intake.md): when a new submission is a repeat
    repeat_days = models.PositiveSmallIntegerField(
        _("a repeat: an open request at the same place submitted within this many days"), default=30
    )
    repeat_similarity = models.PositiveSmallIntegerField(
        _("a repeat: text similarity (%) that counts as the same matter"), default=80
    )
    # 退单: a unit may give back a wrongly dispatched request only this soon after receiving it
    # (time_limits.give_back_until; docs/time_limits.md)
    return_working_days = models.PositiveSmallIntegerField(
        _("a return (退单) is allowed within this many working days of receiving the request"), default=2
    )
    # the phone call-back (回访, service_requests/callbacks.py, docs/callbacks.md)
    callback_attempts = models.PositiveSmallIntegerField(
        _("call-back: tries before an unrated request is closed as unreachable"), default=3
    )
    callback_retry_hours = models.PositiveSmallIntegerField(
        _("call-back: hours before trying again after no answer"), default=24
    )
    callback_sample_percent = models.PositiveSmallIntegerField(
        _("call-back: share (%) of last month's rated requests sampled for a call-back"), default=10
    )

    def __str__(self):
        return "request rules"


class Diversion(models.TextChoices):
    """Why a submission is not queued as normal work (service_requests/intake.py)."""

    NONE = "", _("none")
    EMERGENCY = "emergency", _("emergency: told to call 110 / 119 / 120 / 122")
    LITIGATION = "litigation", _("litigation: belongs to a court")
    ARBITRATION = "arbitration", _("arbitration: belongs to an arbitration commission")
    PETITION = "petition", _("petition (信访): belongs to the letters-and-visits channel")


class DiversionRule(models.Model):
    """Keywords (data) that send a submission elsewhere, with what the resident is told."""

    kind = models.CharField(_("kind"), max_length=12, choices=Diversion.choices[1:])
    keywords = models.TextField(_("keywords, one per line"))
    message_zh = models.TextField(_("what the resident is told (Chinese)"))
    message_en = models.TextField(_("what the resident is told (English)"), blank=True)
    referred_to = models.CharField(_("where it belongs"), max_length=120, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("diversion rule")
        verbose_name_plural = _("diversion rules")

    def __str__(self):
        return f"{self.kind}: {self.keywords.splitlines()[0] if self.keywords else ''}"


class ServiceRequest(models.Model):
    number = models.CharField(max_length=20, unique=True)
    request_type = models.CharField(_("type"), max_length=20, choices=RequestType.choices)
    description = models.TextField(_("description"), max_length=2000)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    level = models.PositiveSmallIntegerField(choices=HandlingLevel.choices, default=HandlingLevel.ENTRANCE)
    unit = models.ForeignKey(
        HandlingUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )  # the owning unit at the department level (首接负责); moved only by the dispatcher, with a reason
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.RESIDENT)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests_made",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(max_length=50, blank=True)
    contact_mobile = models.CharField(max_length=11, blank=True)
    board_consent = models.BooleanField(_("may be shown anonymised on the entrance board"), default=False)
    client_token = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=64, blank=True)

    state = models.CharField(max_length=24, choices=State.choices, default=State.SUBMITTED, db_index=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests_handled",
    )
    supervised = models.BooleanField(_("under supervision (督办)"), default=False)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    diversion = models.CharField(max_length=12, choices=Diversion.choices, blank=True, default="")
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats"
    )  # a repeat with no new facts, linked to the request already open

    submitted_at = models.DateTimeField()
    accept_by = models.DateTimeField(null=True, blank=True, db_index=True)
    contact_by = models.DateTimeField(null=True, blank=True, db_index=True)
    resolve_by = models.DateTimeField(null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    solved = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField(max_length=12, choices=Satisfaction.choices, blank=True)
    extension_days = models.PositiveSmallIntegerField(null=True, blank=True)  # asked for (or last granted)
    # the sum of the extensions granted, in the policy's extension unit: capped by its maximum
    extension_granted = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.CharField(max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "client_token"],
                condition=~models.Q(client_token=""),
                name="one_request_per_token",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="hotline_order_once"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "path"]),
            # a place's recent requests, newest first: similar open requests (duplicates.py) and the repeat
            # candidates (intake.py: ORDER BY submitted_at DESC, id DESC LIMIT …); with the id the index
            # gives the whole order, so the scan stops at the limit whatever the planner's statistics say
            models.Index(fields=["place", "submitted_at", "id"], name="request_place_recent"),
        ]

    def __str__(self):
        return self.number

    @property
    def state_label(self) -> str:
        """The state as the requester reads it: a submission sent to another channel (or an emergency
        number) is not "not accepted" to the person who wrote it, but told where help is."""
        if self.state == State.NOT_ACCEPTED and self.diversion == Diversion.EMERGENCY:
            return str(_("emergency: call for help now"))
        if self.state == State.NOT_ACCEPTED and self.diversion:
            return str(_("for another channel"))
        return self.get_state_display()


class AssistKind(models.TextChoices):
    CO_HANDLE = "co_handle", _("co-handling unit")
    WHISTLE = "whistle", _("summoned (吹哨)")


class RequestAssist(models.Model):
    """Another unit joining a request: a co-handling unit added by the owner, or a unit summoned by
    吹哨. It reports for duty (报到) and reports back to the owner; the owner stays responsible."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="assists")
    unit = models.ForeignKey(HandlingUnit, on_delete=models.PROTECT, related_name="assists")
    kind = models.CharField(max_length=12, choices=AssistKind.choices)
    note = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(_("reported for duty (报到)"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.TextField(_("report back"), blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the unit's two windows, fixed when it is called (holdings.assist_deadlines): scored in its figures
    check_in_by = models.DateTimeField(_("report for duty by"), null=True, blank=True)
    report_by = models.DateTimeField(_("report back by"), null=True, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["request", "unit"], name="one_assist_per_unit")]

    def __str__(self):
        return f"{self.request_id}:{self.unit_id}:{self.kind}"


class HoldingEnd(models.TextChoices):
    """How a holder's stretch ended (the request moved on, or left the queue before acceptance)."""

    ESCALATED = "escalated", _("escalated")
    DISPATCHED = "dispatched", _("dispatched elsewhere")
    RETURNED = "returned", _("returned to the dispatcher (退单)")
    REASSIGNED = "reassigned", _("reassigned")
    MERGED = "merged", _("merged into another request")


class RequestHolding(models.Model):
    """One holder's stretch of a request: the level (and, at the department level, the unit) that had
    it, from when to when, the acceptance window it had and whether it met it. The response rate is
    read from these rows, so a window that passed is charged to the holder that let it pass even after
    the request moved up (holdings.py writes them with every change of holder; docs/rates.md)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="holdings")
    level = models.PositiveSmallIntegerField(choices=HandlingLevel.choices)
    unit = models.ForeignKey(
        HandlingUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="holdings"
    )
    path = PathField()  # the request's place: the holder at `level` is its ancestor there
    started_at = models.DateTimeField()
    accept_by = models.DateTimeField(db_index=True)  # the window this holder had
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # None: still holds it
    ended_how = models.CharField(max_length=12, choices=HoldingEnd.choices, blank=True)
    # accepted in time (True), let the window pass (False); None: not known yet, or it passed the request
    # on before its window closed (neither). Written on acceptance and at the end; metrics.py reads the
    # times, which say the same and also cover a window that passed while still held.
    met = models.BooleanField(null=True, blank=True)
    backfilled = models.BooleanField(default=False)  # rebuilt from the timeline by a migration

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=models.Q(ended_at__isnull=True), name="one_open_holding"
            )
        ]

    def __str__(self):
        return f"{self.request_id}:{self.level}:{self.unit_id or ''}"


class RequestEvent(models.Model):
    """The request's timeline: one typed event per step, shown to the requester and staff."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.request_id} {self.kind}"


# --- pages: photos and queue limits (service_requests/photos.py validates and re-encodes) -----------
class PageRules(models.Model):
    """Limits for the request pages (data, one row; the model defaults apply without a row)."""

    max_photos = models.PositiveSmallIntegerField(_("maximum photos per request"), default=9)
    max_megabytes = models.PositiveSmallIntegerField(_("maximum size of one photo (MB)"), default=10)
    max_side = models.PositiveSmallIntegerField(_("longest side after re-encoding (px)"), default=2560)
    # the entrance board (楼门公告, board_views.py): how many resolved items, and the forms of address
    # whose preceding character (a surname) is hidden in the result notes shown there
    board_items = models.PositiveSmallIntegerField(
        _("entrance board: most recent resolved items shown"), default=20
    )
    board_honorifics = models.TextField(
        _("entrance board: forms of address hidden with the name before, one per line"),
        default="阿姨\n大爷\n大妈\n奶奶\n爷爷\n叔叔\n大叔\n婶\n大姐\n大哥\n师傅\n先生\n女士\n老师\n同志",
    )

    class Meta:
        verbose_name = _("request page rules")
        verbose_name_plural = _("request page rules")

    def __str__(self):
        return "request page rules"


class RequestPhoto(models.Model):
    """A photo attached to a request: checked by content and re-encoded (no EXIF/GPS) before storing.
    Served only through the request's page (visibility checked), never as a public media URL."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(max_length=200)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    # taken by the handler when resolving: what it looks like now (shown with the result, on the board)
    after = models.BooleanField(_("after the work"), default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.file.name


# --- duplicates and co-requesters (issue 4 §3; service_requests/duplicates.py, docs/duplicates.md) -----
class DuplicateRules(models.Model):
    """What counts as a similar open request (data, one row; the model defaults apply without a row)."""

    days = models.PositiveSmallIntegerField(
        _("similar requests: open requests submitted within this many days"), default=30
    )
    min_similarity = models.PositiveSmallIntegerField(
        _("similar requests: lowest text similarity shown (%)"), default=40
    )
    shown = models.PositiveSmallIntegerField(_("similar requests: how many are shown"), default=5)
    candidates = models.PositiveIntegerField(
        _("similar requests: most recent open requests compared per lookup"), default=300
    )

    class Meta:
        verbose_name = _("duplicate rules")
        verbose_name_plural = _("duplicate rules")

    def __str__(self):
        return "duplicate rules"


class CoRequester(models.Model):
    """A resident who has the same problem as an open request (我也遇到), or the requester of a request
    merged into it: told when it is resolved, and called back and rating separately."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="co_requesters")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="co_requests")
    household = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # where the co-requester lives (their household when they joined)
    source = models.ForeignKey(
        ServiceRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # the merged request this voice came from (None: joined with 我也遇到); unmerge takes it back
    note = models.CharField(_("note"), max_length=500, blank=True)
    joined_at = models.DateTimeField()
    solved = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField(max_length=12, choices=Satisfaction.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["joined_at", "id"]
        verbose_name = _("co-requester")
        verbose_name_plural = _("co-requesters")
        constraints = [models.UniqueConstraint(fields=["request", "user"], name="one_voice_per_request")]

    def __str__(self):
        return f"{self.request_id}:{self.user_id}"


# --- the phone call-back (回访; service_requests/callbacks.py, docs/callbacks.md) -------------------------
class CallBackReason(models.TextChoices):
    UNRATED = "unrated", _("not rated by the requester in time")
    SAMPLE = "sample", _("sampled among rated requests")


class CallBackOutcome(models.TextChoices):
    PENDING = "", _("to call")
    REACHED = "reached", _("reached")
    UNREACHABLE = "unreachable", _("unreachable")


class CallBack(models.Model):
    """A phone call-back of one request by staff who did not handle it (the hotline's independent
    回访): an unrated request once its rating wait is over (one row per round of handling, written at
    the first try), or a rated, closed request sampled for the month. The tries, the answer (solved,
    满意 / 基本满意 / 不满意) and the words said; each try is also on the request's timeline."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="callbacks")
    reason = models.CharField(max_length=10, choices=CallBackReason.choices)
    cycle = models.PositiveSmallIntegerField(null=True, blank=True)  # unrated: the request's reopen count
    month = models.DateField(null=True, blank=True)  # sampled: the first day of the month it closed in
    due_at = models.DateTimeField(db_index=True)  # in the queue from then on (later after no answer)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=12, choices=CallBackOutcome.choices, blank=True, default="")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    called_at = models.DateTimeField(null=True, blank=True, db_index=True)
    solved = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField(max_length=12, choices=Satisfaction.choices, blank=True)
    words = models.TextField(_("what was said"), blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "cycle"], condition=models.Q(reason="unrated"), name="one_callback_a_round"
            ),
            models.UniqueConstraint(
                fields=["request", "month"], condition=models.Q(reason="sample"), name="one_sample_a_month"
            ),
        ]

    def __str__(self):
        return f"{self.request_id}:{self.reason}"
