"""Hotspots (未诉先办): recurring problems found in the requests, proactive tasks, 每月一题.

Models hold data only; every write is in services.py, the task states and transitions in workflow.py.
Thresholds, windows and weights are data (HotspotRules, one row, seeded by migration 0002).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import PathField, ScopedQuerySet
from linjialin.places.models import Place
from linjialin.service_requests.models import Category, ServiceRequest


class HotspotRules(models.Model):
    """How the detection job groups, splits and ranks (data, one row; model defaults apply without one)."""

    window_days = models.PositiveSmallIntegerField(_("window length in days"), default=30)
    trend_windows = models.PositiveSmallIntegerField(_("windows shown in the trend line"), default=6)
    similarity = models.PositiveSmallIntegerField(
        _("text similarity (%) that puts two requests in the same problem"), default=16
    )
    min_count = models.PositiveSmallIntegerField(
        _("requests in the current window for a problem to be a hotspot"), default=3
    )
    weight_count = models.DecimalField(_("weight: requests"), max_digits=5, decimal_places=2, default=1)
    weight_growth = models.DecimalField(
        _("weight: growth over the previous window"), max_digits=5, decimal_places=2, default=1
    )
    weight_households = models.DecimalField(
        _("weight: distinct households"), max_digits=5, decimal_places=2, default=1
    )
    weight_spread = models.DecimalField(
        _("weight: spread (entrances)"), max_digits=5, decimal_places=2, default=2
    )
    keep_per_level = models.PositiveSmallIntegerField(
        _("hotspots kept per place level and community"), default=20
    )
    samples = models.PositiveSmallIntegerField(_("sample texts kept per hotspot"), default=3)
    max_problems = models.PositiveSmallIntegerField(_("每月一题: most problems in a theme"), default=3)

    class Meta:
        verbose_name = _("hotspot rules")
        verbose_name_plural = _("hotspot rules")

    def __str__(self):
        return "hotspot rules"


class PlaceLevel(models.TextChoices):
    """Where a hotspot is: requests grouped by this place."""

    ENTRANCE = "entrance", _("entrance")
    BUILDING = "building", _("building")
    COMPOUND = "compound", _("compound")
    COMMUNITY = "community", _("community")


class DetectionRun(models.Model):
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    window_days = models.PositiveSmallIntegerField()
    requests_read = models.PositiveIntegerField(default=0)
    hotspots = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"run {self.pk} {self.window_end:%Y-%m-%d}"


class Hotspot(models.Model):
    """One concrete problem (a text cluster) in a category at a place, as the latest run found it."""

    run = models.ForeignKey(DetectionRun, on_delete=models.CASCADE, related_name="items")
    level = models.CharField(max_length=10, choices=PlaceLevel.choices)
    place_key = models.CharField(max_length=80)  # e:<entrance id>, b:<building id>, c:<compound id>, m:<path>
    place_label = models.CharField(max_length=200)
    path = (
        PathField()
    )  # entrance / building → the entrance's (or building's) grid; compound, community → community
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(max_length=200)  # the problem in a few words (the most central text)
    count = models.PositiveIntegerField()
    previous_count = models.PositiveIntegerField()
    households = models.PositiveIntegerField()
    spread = models.PositiveIntegerField()  # distinct entrances
    score = models.FloatField()
    rank = models.PositiveIntegerField()
    request_ids = models.JSONField(default=list)  # in the current window
    samples = models.JSONField(default=list)  # anonymised texts
    trend = models.JSONField(default=list)  # [[window end "YYYY-MM-DD", count], …] oldest first

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["run", "path"])]

    def __str__(self):
        return f"{self.place_label} · {self.label}"

    @property
    def growth(self) -> float | None:
        """count / previous_count − 1 (None when the previous window had none)."""
        return (self.count / self.previous_count - 1) if self.previous_count else None


class TaskState(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class ProactiveTask(models.Model):
    """主动治理任务: a recurring problem taken on before the next complaint (立项 from a hotspot)."""

    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("what will be done"), blank=True)
    level = models.CharField(max_length=10, choices=PlaceLevel.choices)
    place_key = models.CharField(max_length=80)
    place_label = models.CharField(max_length=200)
    path = PathField()
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requests = models.ManyToManyField(ServiceRequest, related_name="+", blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    deadline = models.DateField(_("deadline"))
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.OPEN, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    # the same problem (category × place × text) before 立项 and after done, one window each
    before_count = models.PositiveIntegerField(null=True, blank=True)
    after_count = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proactive task (主动治理任务)")
        verbose_name_plural = _("proactive tasks")

    def __str__(self):
        return self.title


class MonthlyTheme(models.Model):
    """每月一题: the month's theme, its 2–3 problems, tasks and policies."""

    month = models.DateField(_("month"))  # the first day of the month
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("monthly theme (每月一题)")
        verbose_name_plural = _("monthly themes")

    def __str__(self):
        return f"{self.month:%Y-%m} {self.title}"


class ThemeProblem(models.Model):
    theme = models.ForeignKey(MonthlyTheme, on_delete=models.CASCADE, related_name="problems")
    title = models.CharField(_("problem"), max_length=200)
    text = models.TextField(_("details"), blank=True)
    # picked from a hotspot: what it was when picked (hotspots are replaced by each run)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    place_label = models.CharField(max_length=200, blank=True)
    hotspot_count = models.PositiveIntegerField(null=True, blank=True)
    tasks = models.ManyToManyField(ProactiveTask, related_name="theme_problems", blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class ThemePolicy(models.Model):
    theme = models.ForeignKey(MonthlyTheme, on_delete=models.CASCADE, related_name="policies")
    title = models.CharField(_("policy"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    link = models.URLField(_("link"), blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title
