from django.urls import path

from . import correction_views, picker, roster_views, views

app_name = "places"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:place_id>/", views.detail, name="detail"),
    path("households/search/", picker.household_search, name="household_search"),
    path("<int:place_id>/profile/", views.profile_edit, name="profile_edit"),
    path("residents/<int:resident_id>/unmask/", views.unmask, name="unmask"),
    path("residents/<int:resident_id>/tags/", views.resident_tags, name="resident_tags"),
    path("residents/<int:resident_id>/move-out/", views.move_out, name="move_out"),
    path("corrections/", correction_views.correction_list, name="corrections"),
    path("corrections/<int:correction_id>/", correction_views.correction_decide, name="correction_decide"),
    path("import/", roster_views.roster_import, name="import"),
    path("import/template.<str:fmt>", roster_views.import_template, name="import_template"),
    path("<int:place_id>/export.<str:fmt>", roster_views.roster_export, name="export"),
]
