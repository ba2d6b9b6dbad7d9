from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from . import services
from .models import KeywordRule, ModelVersion, RoutingRules


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "short_keywords", "weight", "active")
    list_filter = ("active", "category__parent")
    search_fields = ("keywords", "category__code", "category__name_zh")
    autocomplete_fields = ()

    @admin.display(description=_("keywords"))
    def short_keywords(self, obj):
        return " / ".join(obj.keywords.split())[:80]


@admin.register(RoutingRules)
class RoutingRulesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "min_training_requests", "model_weight", "suggestions")

    def has_add_permission(self, request):
        return not RoutingRules.objects.exists()


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Versions are read-only; "Retrain now" (an action) trains a new one from the handled history."""

    list_display = (
        "pk",
        "created_at",
        "source",
        "trained_on",
        "heldout_n",
        "accuracy",
        "macro_f1",
        "current",
    )
    list_filter = ("current", "source")
    exclude = ("blob",)
    readonly_fields = [f.name for f in ModelVersion._meta.fields if f.name != "blob"]
    actions = ["retrain"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retrain now from the handled history (the selection does not matter)"))
    def retrain(self, request, queryset):
        try:
            result = services.train_from_history(request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, result.message, messages.SUCCESS if result.version else messages.WARNING)
