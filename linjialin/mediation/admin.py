"""Admin: the centre's time limits and the courts are data (MediationRules, Court, editable); cases
are listed read-only — every change to a case goes through services.cases (the pages), never the admin."""

from django.contrib import admin

from .models import Case, Court, MediationRules


@admin.register(MediationRules)
class MediationRulesAdmin(admin.ModelAdmin):
    list_display = (
        "target_months",
        "due_soon_days",
        "court_apply_days",
        "court_accept_days",
        "court_decide_days",
        "court_extend_days",
        "followup_days",
        "followup_grace_days",
        "repeat_lookback_days",
        "centre_phone",
    )

    def has_add_permission(self, request):  # one row
        return not MediationRules.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Court)
class CourtAdmin(admin.ModelAdmin):
    """The basic-level courts a joint application for 司法确认 can go to, and the places they serve."""

    list_display = ("name", "area_codes", "active")
    list_filter = ("active",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: the list shows no party or contents beyond the title (confidentiality, issue 5 §5)."""

    list_display = ("number", "title", "dispute_type", "source", "state", "registered_at", "due_on")
    list_filter = ("state", "dispute_type", "source")
    search_fields = ("number",)
    fields = (
        "number",
        "title",
        "dispute_type",
        "source",
        "state",
        "outcome",
        "path",
        "registered_at",
        "accepted_at",
        "due_on",
        "ended_at",
        "closed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
