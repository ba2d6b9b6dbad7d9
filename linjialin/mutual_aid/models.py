"""近邻互助: neighbours' needs and offers (posts) with instant notice, safe hand-off, care for special groups
and emergency mode.

Models hold data only; every write is in services.py, the post states and transitions in workflow.py.
Rules (widening time, expiry, rate limits, the medicine words that are blocked, visit intervals) are data:
AidRules, one row.

Reach: a post is seen by the residents of its author's entrance, then building, compound, community as it
widens (by itself, `widen_after_minutes` after the last widening while nobody answered). A post's place
columns (entrance, building, compound, community) are copied from the household at posting, so "who may see
it" is one indexed comparison per level. Every new post and every widening appends a FeedEntry: the live
stream (server-sent events) tails that table.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import PathField, ScopedQuerySet
from linjialin.places.models import Building, Compound, Place

USER = settings.AUTH_USER_MODEL


class AidRules(models.Model):
    widen_after_minutes = models.PositiveSmallIntegerField(
        _("minutes without an answer before a post reaches further"), default=30
    )
    expiry_hours = models.PositiveSmallIntegerField(_("hours a post stays open by default"), default=48)
    posts_per_day = models.PositiveSmallIntegerField(_("posts per person per day"), default=5)
    responses_per_hour = models.PositiveSmallIntegerField(_("offers of help per person per hour"), default=20)
    reports_to_hide = models.PositiveSmallIntegerField(
        _("reports that hide a post until a moderator looks at it"), default=3
    )
    blocked_medicine_words = models.TextField(
        _("medicines that may not be offered or asked for between neighbours (one per line)"),
        default="处方药\n注射\n针剂\n针头\n输液\n抗生素\n头孢\n阿莫西林\n青霉素\n胰岛素\n吗啡\n曲马多\n安眠药\n地西泮\n精神类",
    )
    adult_age = models.PositiveSmallIntegerField(
        _("age from which a resident arranges meetings alone"), default=18
    )
    care_visit_days = models.PositiveSmallIntegerField(_("days between care visits (关爱走访)"), default=30)

    class Meta:
        verbose_name = _("mutual aid rules")
        verbose_name_plural = _("mutual aid rules")

    def __str__(self):
        return "mutual aid rules"


class Kind(models.TextChoices):
    NEED = "need", _("need (求助)")
    OFFER = "offer", _("offer (可提供)")


class AidCategory(models.TextChoices):
    MEDICINE = "medicine", _("medicine (药品)")
    LENDING = "lending", _("lending (物品借用)")
    ERRANDS = "errands", _("shopping and pick-up (代买代取)")
    ESCORT = "escort", _("company to the doctor (陪护陪诊)")
    CARE = "care", _("looking after elders or children (照看老人/儿童)")
    SKILLS = "skills", _("a skilled hand (技能帮忙)")
    OTHER = "other", _("other (其他)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class Reach(models.IntegerChoices):
    ENTRANCE = 1, _("my entrance (本楼门)")
    BUILDING = 2, _("my building (本楼)")
    COMPOUND = 3, _("my compound (本小区)")
    COMMUNITY = 4, _("my community (本社区)")


class PostState(models.TextChoices):
    OPEN = "open", _("open")
    MATCHED = "matched", _("a helper was chosen")
    DONE = "done", _("done")
    EXPIRED = "expired", _("expired")
    WITHDRAWN = "withdrawn", _("withdrawn")
    HIDDEN = "hidden", _("hidden by a moderator")


class Post(models.Model):
    kind = models.CharField(_("need or offer"), max_length=8, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=12, choices=AidCategory.choices)
    text = models.TextField(_("what is needed or offered"), max_length=500)
    photo = models.ImageField(upload_to="aid/%Y/%m/", null=True, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="aid_posts")  # who typed it
    household = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")  # for whom
    path = PathField()  # the household's path
    entrance = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    reach = models.PositiveSmallIntegerField(choices=Reach.choices, default=Reach.ENTRANCE)
    max_reach = models.PositiveSmallIntegerField(
        _("reach at most"), choices=Reach.choices, default=Reach.COMMUNITY
    )
    widen_at = models.DateTimeField(null=True, blank=True, db_index=True)  # next widening, if nobody answers
    expires_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=10, choices=PostState.choices, default=PostState.OPEN, db_index=True)
    care = models.BooleanField(default=False)  # by or for a household on the care list: highlighted
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="passed_on"
    )  # leftovers passed on as a new offer: the chain
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mutual aid post")
        verbose_name_plural = _("mutual aid posts")
        indexes = [models.Index(fields=["state", "community"], name="aid_post_state_community")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.text[:30]}"


class ResponseState(models.TextChoices):
    OFFERED = "offered", _("offered")
    CHOSEN = "chosen", _("chosen")
    NOT_CHOSEN = "not_chosen", _("not chosen")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Response(models.Model):
    """ "我能帮": a neighbour answers a need (or asks for an offer)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="responses")
    helper = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="aid_responses")
    household = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")  # the helper's
    note = models.CharField(_("note"), max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=ResponseState.choices, default=ResponseState.OFFERED)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "helper"], condition=~models.Q(state="withdrawn"), name="one_live_response"
            )
        ]

    def __str__(self):
        return f"{self.post_id} {self.helper_id}"


class ContactKind(models.TextChoices):
    RELAY = "relay", _("a masked relay number")
    DOOR = "door", _("my door number")


class HandoffMode(models.TextChoices):
    DOOR = "door", _("left at the door (放门口)")
    IN_PERSON = "in_person", _("in person (当面)")
    DELIVER = "deliver", _("delivered by someone else (代送)")


class Handoff(models.Model):
    """After the pick: what each side shows the other (chosen by each), how the thing changes hands, done,
    thanks. Only the two of them see it."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="handoff")
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="handoff")
    requester_contact = models.CharField(max_length=8, choices=ContactKind.choices, default=ContactKind.RELAY)
    helper_contact = models.CharField(max_length=8, choices=ContactKind.choices, default=ContactKind.RELAY)
    mode = models.CharField(max_length=10, choices=HandoffMode.choices, default=HandoffMode.DOOR)
    guardian = models.CharField(
        _("guardian present"), max_length=100, blank=True
    )  # a minor meeting in person
    picked_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    thanks = models.CharField(_("thanks"), max_length=200, blank=True)

    def __str__(self):
        return f"handoff {self.post_id}"


class Subscription(models.Model):
    """A resident's opt-in: which needs to hear about at once, how far, and when not to be disturbed."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="aid_subscription")
    active = models.BooleanField(_("tell me about neighbours' needs"), default=True)
    reach = models.PositiveSmallIntegerField(_("how far"), choices=Reach.choices, default=Reach.BUILDING)
    categories = models.JSONField(default=list, blank=True)  # empty: every category
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"subscription {self.user_id}"


class FeedEntry(models.Model):
    """One line of the live feed: a post appeared or reached further. The stream tails this table by id
    and sends each line to the listeners in reach (their household's entrance/building/compound/community)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    reach = models.PositiveSmallIntegerField(choices=Reach.choices)
    entrance_id_at = models.BigIntegerField()
    building_id_at = models.BigIntegerField(null=True)
    compound_id_at = models.BigIntegerField(null=True)
    community_id_at = models.BigIntegerField()
    category = models.CharField(max_length=12)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"feed {self.pk} post {self.post_id}"


class ReportReason(models.TextChoices):
    UNSAFE = "unsafe", _("unsafe (medicine, danger)")
    FRAUD = "fraud", _("looks like a scam")
    ABUSE = "abuse", _("rude or abusive")
    COMMERCIAL = "commercial", _("advertising or selling")
    OTHER = "other", _("other")


class ReportState(models.TextChoices):
    OPEN = "open", _("open")
    UPHELD = "upheld", _("upheld")
    DISMISSED = "dismissed", _("dismissed")


class Report(models.Model):
    """A report of a post or of a person, for the moderation queue (楼门长 and community staff)."""

    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    person = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    path = PathField()  # where it is moderated: the post's household, or the reported person's
    reason = models.CharField(max_length=12, choices=ReportReason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    reporter = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.OPEN)
    handled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"report {self.pk}"


# --- care for special groups (关爱走访) ------------------------------------------------------------------
class CareVisit(models.Model):
    """A planned or made care visit to a household on the care list (a resident with a sensitive tag —
    elderly living alone, disability, pregnancy … — recorded with consent: places.ResidentTag)."""

    household = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    planned_on = models.DateField(_("planned for"), db_index=True)
    visitor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("record"), max_length=2000, blank=True)
    planned_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["planned_on", "id"]
        verbose_name = _("care visit")
        verbose_name_plural = _("care visits")

    def __str__(self):
        return f"care visit {self.household_id} {self.planned_on}"


# --- emergency mode ----------------------------------------------------------------------------------------
class EpisodeKind(models.TextChoices):
    EPIDEMIC = "epidemic", _("epidemic")
    FLOOD = "flood", _("flood")
    OUTAGE = "outage", _("power or water outage")
    OTHER = "other", _("other emergency")


class EpisodeState(models.TextChoices):
    ACTIVE = "active", _("active")
    ARCHIVED = "archived", _("archived")


class Episode(models.Model):
    """A community (or one compound of it) in emergency mode: a banner, a temporary team, tasks per
    entrance, a coverage board. Turning it off archives it."""

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = PathField()  # the community's path
    kind = models.CharField(_("kind"), max_length=10, choices=EpisodeKind.choices)
    title = models.CharField(_("title"), max_length=100)
    banner = models.CharField(_("banner text"), max_length=300)
    state = models.CharField(max_length=10, choices=EpisodeState.choices, default=EpisodeState.ACTIVE)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.TextField(_("summary at the end"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("emergency episode")
        verbose_name_plural = _("emergency episodes")
        constraints = [
            models.UniqueConstraint(
                fields=["community"],
                condition=models.Q(state="active"),
                name="one_active_episode_per_community",
            )
        ]

    def __str__(self):
        return self.title


class TeamRole(models.TextChoices):
    LEADER = "leader", _("leader")
    PARTY_MEMBER = "party_member", _("party member (临时党支部)")
    VOLUNTEER = "volunteer", _("volunteer")


class EpisodeMember(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=14, choices=TeamRole.choices, default=TeamRole.VOLUNTEER)
    joined_at = models.DateTimeField()

    class Meta:
        ordering = ["episode", "id"]
        constraints = [models.UniqueConstraint(fields=["episode", "user"], name="one_membership_per_episode")]

    def __str__(self):
        return f"{self.episode_id} {self.user_id}"


class TaskKind(models.TextChoices):
    DOOR_CHECK = "door_check", _("door-to-door check")
    DELIVERY = "delivery", _("delivery")
    TESTING = "testing", _("testing help")
    OTHER = "other", _("other")


class TaskState(models.TextChoices):
    OPEN = "open", _("open")
    CLAIMED = "claimed", _("claimed")
    DONE = "done", _("done")


class EmergencyTask(models.Model):
    """A task of the episode at one entrance (and, for a care-list household, that household), claimed by
    a member of the team. A done door-to-door check counts the entrance (and household) as reached."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="tasks")
    entrance = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = PathField()  # the entrance's (or household's) path
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    claimed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(_("result"), max_length=500, blank=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "path", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.entrance_id}"
