from django.contrib import admin

from .models import Category, DiversionRule, PageRules, RequestRules, TimeLimitPolicy


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories are data: where a request is handled first."""

    list_display = ("code", "name_zh", "name_en", "level", "active")
    list_editable = ("name_zh", "name_en", "level", "active")


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
    """Limits of the request pages (photos per request, photo size, 'due soon' in the queue)."""

    list_display = ("max_photos", "max_megabytes", "max_side", "due_soon_hours")


@admin.register(DiversionRule)
class DiversionRuleAdmin(admin.ModelAdmin):
    """Intake diversion keywords and what the resident is told (docs/intake.md)."""

    list_display = ("kind", "__str__", "referred_to", "active")
    list_filter = ("kind", "active")
