from django.contrib import admin
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import AuditEvent, CalendarDay, RetentionRule


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only (writes only through core.audit.record)."""

    list_display = ("seq", "at", "actor_name", "action", "object_repr", "reason", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_repr", "request_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CalendarYearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = model_admin.get_queryset(request).dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(date__year=int(self.value()))
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Statutory holidays and 调休 make-up working days (docs/calendar.md). Every change is audited."""

    list_display = ("date", "weekday", "kind", "name", "note")
    list_filter = (CalendarYearFilter, "kind")
    search_fields = ("name", "note")
    date_hierarchy = "date"
    ordering = ("date",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return date_format(obj.date, "l")

    @staticmethod
    def _state(obj):
        return {"date": obj.date.isoformat(), "kind": obj.kind, "name": obj.name, "note": obj.note}

    def save_model(self, request, obj, form, change):
        before = self._state(CalendarDay.objects.get(pk=obj.pk)) if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = self._state(obj)
            audit.record("calendar.day_saved", actor=request.user, obj=obj, before=before, after=after)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record("calendar.day_deleted", actor=request.user, obj=obj, before=self._state(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit.record("calendar.day_deleted", actor=request.user, obj=obj, before=self._state(obj))
            super().delete_queryset(request, queryset)


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """How long each class of data is kept (core/retention.py); changes go through the audited service."""

    list_display = ("data_class", "label", "keep_days", "note", "updated_at")
    readonly_fields = ("data_class",)
    fields = ("data_class", "keep_days", "note")

    @admin.display(description=_("data"))
    def label(self, obj):
        from .retention import classes

        data_class = classes().get(obj.data_class)
        return data_class.label if data_class else obj.data_class

    def has_add_permission(self, request):
        return False  # one row per data class, created by the job with the class's default

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .retention import set_keep_days

        set_keep_days(request.user, obj.data_class, keep_days=obj.keep_days, note=obj.note)
