"""Admin: the mutual aid rules are data (AidRules, one row, editable: widening time, expiry, rate limits,
the blocked medicine words, the adult age, the care visit interval); posts and reports are listed
read-only — every change goes through services.posts (the pages and the API), never the admin."""

from django.contrib import admin

from .models import AidRules, Post, Report


@admin.register(AidRules)
class AidRulesAdmin(admin.ModelAdmin):
    list_display = (
        "widen_after_minutes",
        "expiry_hours",
        "posts_per_day",
        "responses_per_hour",
        "reports_to_hide",
        "adult_age",
        "care_visit_days",
    )

    def has_add_permission(self, request):  # one row
        return not AidRules.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Post)
class PostAdmin(_ReadOnly):
    """Read-only; no author or household columns (a post's contact stays between the two sides)."""

    list_display = ("pk", "kind", "category", "state", "reach", "max_reach", "urgency", "created_at")
    list_filter = ("state", "kind", "category", "urgency")
    fields = (
        "kind",
        "category",
        "text",
        "state",
        "reach",
        "max_reach",
        "urgency",
        "path",
        "created_at",
        "expires_at",
        "hidden_reason",
    )
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(_ReadOnly):
    list_display = ("pk", "reason", "state", "path", "created_at", "handled_at")
    list_filter = ("state", "reason")
    fields = ("reason", "note", "state", "path", "created_at", "handled_at", "decision_note")
    readonly_fields = fields
