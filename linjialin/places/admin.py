from django.contrib import admin

from .models import TagType


@admin.register(TagType)
class TagTypeAdmin(admin.ModelAdmin):
    """Tag types are data: admins add and rename them; sensitivity decides who may see a tag."""

    list_display = ("code", "name_zh", "name_en", "sensitive")
    list_editable = ("name_zh", "name_en", "sensitive")
