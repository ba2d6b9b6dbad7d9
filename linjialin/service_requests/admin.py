from django.contrib import admin

from .models import (
    Category,
    DiversionRule,
    DuplicateRules,
    HandlingUnit,
    PageRules,
    RequestRules,
    TimeLimitPolicy,
    UnitMember,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories are data, in two levels: where a request is handled first, and by which unit."""

    list_display = ("code", "name_zh", "name_en", "parent", "level", "unit", "active")
    list_editable = ("name_zh", "name_en", "level", "active")
    list_filter = ("parent", "level", "active")
    list_select_related = ("parent", "unit")


class UnitMemberInline(admin.TabularInline):
    model = UnitMember
    extra = 1
    raw_id_fields = ("user",)


@admin.register(HandlingUnit)
class HandlingUnitAdmin(admin.ModelAdmin):
    """Departments, offices and companies that handle requests at the department level."""

    list_display = ("code", "name_zh", "kind", "place", "phone", "active")
    list_filter = ("kind", "active")
    inlines = [UnitMemberInline]
    exclude = ("path",)

    def save_model(self, request, obj, form, change):
        obj.path = obj.place.path  # the unit serves the places under its place
        super().save_model(request, obj, form, change)


@admin.register(TimeLimitPolicy)
class TimeLimitPolicyAdmin(admin.ModelAdmin):
    """Time limits are data; the most specific matching row applies to a request."""

    list_display = (
        "note",
        "request_type",
        "category",
        "urgency",
        "accept_amount",
        "accept_unit",
        "resolve_amount",
        "resolve_unit",
        "max_extension_amount",
        "max_extension_unit",
    )


@admin.register(RequestRules)
class RequestRulesAdmin(admin.ModelAdmin):
    list_display = ("max_reopen", "callback_days", "basic_satisfaction_weight", "reminder_at_percent")


@admin.register(PageRules)
class PageRulesAdmin(admin.ModelAdmin):
    """Limits of the request pages (photos per request, photo size and side) and of the entrance board."""

    list_display = ("max_photos", "max_megabytes", "max_side")


@admin.register(DiversionRule)
class DiversionRuleAdmin(admin.ModelAdmin):
    """Intake diversion keywords and what the resident is told (docs/intake.md)."""

    list_display = ("kind", "__str__", "referred_to", "active")
    list_filter = ("kind", "active")


@admin.register(DuplicateRules)
class DuplicateRulesAdmin(admin.ModelAdmin):
    """Similar open requests (docs/duplicates.md): the window, the threshold, how many are shown."""

    list_display = ("days", "min_similarity", "shown", "candidates")
