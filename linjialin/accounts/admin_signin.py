"""Administration of sign-in: the SignInRules row, and the users list with the two sign-in actions an
administrator takes (reset a lost second factor, require a password change). Both go through the
services (audited; the person is told of a reset). Accounts are otherwise made and changed on the
site's own pages, never edited here, and the list shows mobile numbers masked."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from linjialin.core.masking import mask_mobile

from . import services, two_factor
from .models import SignInRules, User


@admin.register(SignInRules)
class SignInRulesAdmin(admin.ModelAdmin):
    list_display = (
        "free_failures_per_account",
        "free_failures_per_address",
        "first_delay_seconds",
        "max_delay_account_seconds",
        "max_delay_pair_seconds",
        "max_delay_address_seconds",
    )

    def has_add_permission(self, request):
        return not SignInRules.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ResetForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


@admin.register(User)
class UserSignInAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "masked_mobile",
        "is_active",
        "is_staff",
        "two_factor",
        "must_change_password",
    )
    list_filter = ("is_active", "is_staff", "must_change_password")
    search_fields = ("display_name", "mobile")
    actions = ["reset_two_factor", "require_password_change"]
    fields = ("display_name", "masked_mobile", "is_active", "is_staff", "failed_logins", "locked_until")
    readonly_fields = fields

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

    @admin.display(description=_("Two-factor sign-in"), boolean=True)
    def two_factor(self, obj):
        return user_has_device(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Reset two-factor sign-in (lost phone)"))
    def reset_two_factor(self, request, queryset):
        form = ResetForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            try:
                for user in queryset:
                    two_factor.reset_two_factor(request.user, user, reason=form.cleaned_data["reason"])
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            else:
                self.message_user(request, _("Two-factor sign-in reset."), messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/accounts/reset_two_factor.html",
            {
                **self.admin_site.each_context(request),
                "users": queryset,
                "form": form,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Require a password change at next sign-in"))
    def require_password_change(self, request, queryset):
        try:
            for user in queryset:
                services.require_password_change(request.user, user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, _("The password must be changed at the next sign-in."), messages.SUCCESS
            )
