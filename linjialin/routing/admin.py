from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import services
from .models import KeywordRule, ModelVersion, RoutingRules
from .tasks import retrain_router


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
        self._queue_retraining(request)

    def get_urls(self):
        extra = [
            path(
                "retrain/",
                self.admin_site.admin_view(require_POST(self.retrain_view)),
                name="routing_modelversion_retrain",
            )
        ]
        return extra + super().get_urls()

    def retrain_view(self, request):
        """The "Retrain now" button above the list: queued for the worker (training takes a while)."""
        self._queue_retraining(request)
        return redirect("admin:routing_modelversion_changelist")

    def _queue_retraining(self, request):
        if not services.may_retrain(request.user):
            self.message_user(
                request,
                _("Only a dispatcher or a system administrator may retrain the router."),
                messages.ERROR,
            )
            return
        retrain_router.enqueue(user_id=request.user.pk)
        self.message_user(
            request,
            _("Retraining is queued; the new version appears here when the worker has trained it."),
            messages.SUCCESS,
        )
