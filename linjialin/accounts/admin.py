from django.contrib import admin

from .models import ApiTokenRules


@admin.register(ApiTokenRules)
class ApiTokenRulesAdmin(admin.ModelAdmin):
    """Token lifetimes (default and longest, in days). Tokens themselves are managed on the API token
    page or with `linjialin api-token`, never here: their secret must be shown once and audited."""

    list_display = ("default_days", "max_days")

    def has_add_permission(self, request):
        return not ApiTokenRules.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


from . import admin_signin  # noqa: E402, F401  (sign-in rules and the users' sign-in actions)
