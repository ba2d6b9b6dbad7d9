"""The five-level place tree 街道 → 社区 → 网格 → 楼门 → 户, and the people who live in it.

Every node has a materialized `path` made of its ancestors' codes, e.g. `110112008.001.002.0042.0017.`.
Codes are fixed-width per level so paths sort in tree order. Every governed object copies the path
of the place it belongs to, so "everything under X" is one indexed range query (core.scope.under).
Models hold data only; writes go through places.services.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linjialin.core.scope import PathField, ScopedQuerySet, ancestor_paths


class Level(models.IntegerChoices):
    SUBDISTRICT = 1, _("subdistrict")
    COMMUNITY = 2, _("community")
    GRID = 3, _("grid")
    ENTRANCE = 4, _("entrance")
    HOUSEHOLD = 5, _("household")


# width of each level's code inside the path (the subdistrict code is the 9-digit admin code)
CODE_WIDTH = {Level.SUBDISTRICT: 9, Level.COMMUNITY: 3, Level.GRID: 3, Level.ENTRANCE: 4, Level.HOUSEHOLD: 4}


class Tenure(models.TextChoices):
    OWNER = "owner", _("owner-occupied")
    TENANT = "tenant", _("rented")
    VACANT = "vacant", _("vacant")


class Place(models.Model):
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    code = models.CharField(max_length=9)
    name = models.CharField(_("name"), max_length=100)
    path = PathField(unique=True)
    # grid: the 15-digit Beijing grid code (DB11/T 2157-2023): district 6 + 街乡 3 + community 3 + grid 3
    grid_code = models.CharField(_("grid code"), max_length=15, blank=True)
    # entrance: where it stands
    compound = models.ForeignKey(
        "Compound", null=True, blank=True, on_delete=models.PROTECT, related_name="entrances"
    )
    building = models.ForeignKey(
        "Building", null=True, blank=True, on_delete=models.PROTECT, related_name="entrances"
    )
    unit_no = models.CharField(_("unit"), max_length=20, blank=True)
    # household
    room = models.CharField(_("room"), max_length=20, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    area_m2 = models.DecimalField(_("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True)
    tenure = models.CharField(_("tenure"), max_length=10, choices=Tenure.choices, blank=True)
    is_occupied = models.BooleanField(_("lives here"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "path"

    class Meta:
        ordering = ["path"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [models.UniqueConstraint(fields=["parent", "code"], name="place_code_unique_in_parent")]

    def __str__(self):
        return self.name

    @property
    def ancestor_paths(self) -> list[str]:
        return ancestor_paths(self.path)

    @property
    def is_household(self) -> bool:
        return self.level == Level.HOUSEHOLD

    @property
    def is_entrance(self) -> bool:
        return self.level == Level.ENTRANCE


class Compound(models.Model):
    """小区: a residential compound inside one community."""

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="compounds")
    name = models.CharField(_("name"), max_length=100)
    path = PathField()  # the community's path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="compound_name_unique")]

    def __str__(self):
        return self.name


class Building(models.Model):
    """楼: groups the entrances of one building; a 楼长 is granted on a building."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings")
    number = models.CharField(_("building number"), max_length=20)
    path = PathField()  # the community's path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "compound__name", "number"]
        constraints = [models.UniqueConstraint(fields=["compound", "number"], name="building_number_unique")]

    def __str__(self):
        return f"{self.compound.name}{self.number}"


class EntranceProfile(models.Model):
    """The parts of a 楼门 profile that cannot be computed from records and are entered by hand."""

    entrance = models.OneToOneField(Place, primary_key=True, on_delete=models.CASCADE, related_name="profile")
    path = PathField()
    ebikes = models.PositiveIntegerField(_("e-bikes"), default=0)
    wechat_group = models.CharField(_("WeChat group"), max_length=100, blank=True)
    wechat_members = models.PositiveIntegerField(_("WeChat group members"), null=True, blank=True)
    spare_keys = models.PositiveIntegerField(_("spare keys held"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self):
        return f"profile of {self.entrance_id}"


class Relation(models.TextChoices):
    HEAD = "head", pgettext_lazy("household relation", "head of household")
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")
    PARENT = "parent", _("parent")
    GRANDCHILD = "grandchild", _("grandchild")
    SIBLING = "sibling", _("sibling")
    TENANT = "tenant", _("tenant")
    OTHER = "other", _("other")


class Resident(models.Model):
    household = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="residents")
    path = PathField()  # the household's path
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    relation = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, default=Relation.HEAD
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident_records",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # set when the resident moved out: the row stays (statistics keep their household), anonymised
    moved_out_at = models.DateTimeField(_("moved out"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.UniqueConstraint(
                fields=["mobile"], condition=~models.Q(mobile=""), name="resident_mobile_unique"
            ),
            models.UniqueConstraint(fields=["household", "name"], name="resident_name_unique_in_household"),
        ]

    def __str__(self):
        return self.name

    def age(self, today: date | None = None) -> int | None:
        if not self.birth_year:
            return None
        return (today or date.today()).year - self.birth_year


class TagType(models.Model):
    """A resident tag (data). Sensitive ones need a recorded consent source and a permission to see."""

    code = models.SlugField(primary_key=True, max_length=40)
    name_zh = models.CharField(max_length=50)
    name_en = models.CharField(max_length=50)
    sensitive = models.BooleanField(default=False)

    class Meta:
        ordering = ["sensitive", "code"]

    def __str__(self):
        return self.name_zh


class ResidentTag(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(TagType, on_delete=models.PROTECT, related_name="+")
    path = PathField()
    consent_source = models.CharField(_("consent source"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_once")]

    def __str__(self):
        return f"{self.resident_id}:{self.tag_id}"


class CorrectionState(models.TextChoices):
    OPEN = "open", _("waiting for the community")
    ACCEPTED = "accepted", _("corrected")
    REFUSED = "refused", _("refused")


class CorrectionField(models.TextChoices):
    NAME = "name", pgettext_lazy("person", "name")
    MOBILE = "mobile", _("mobile")
    ID_NUMBER = "id_number", _("ID number")
    BIRTH_YEAR = "birth_year", _("birth year")
    RELATION = "relation", _("relation to head")


class CorrectionRequest(models.Model):
    """A resident asks for a correction of their own record (PIPL art. 46); the community decides."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="corrections")
    path = PathField()  # the resident's household
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(_("what is wrong"), max_length=12, choices=CorrectionField.choices)
    value = models.CharField(_("the correct value"), max_length=50)
    note = models.CharField(_("note"), max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=CorrectionState.choices, default=CorrectionState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.CharField(_("reason for refusing"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "field"],
                condition=models.Q(state="open"),
                name="one_open_correction_per_field",
            )
        ]

    def __str__(self):
        return f"{self.resident_id} {self.field}"
