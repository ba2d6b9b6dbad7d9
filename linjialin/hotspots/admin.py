from django.contrib import admin

from .models import HotspotRules


@admin.register(HotspotRules)
class HotspotRulesAdmin(admin.ModelAdmin):
    list_display = ("window_days", "similarity", "min_count", "trend_windows")
