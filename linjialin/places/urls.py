from django.urls import path

from . import views
from .placeholder_views import coverage, roster_import

app_name = "places"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:place_id>/", views.detail, name="detail"),
    path("residents/<int:resident_id>/unmask/", views.unmask, name="unmask"),
    path("coverage/", coverage, name="coverage"),
    path("import/", roster_import, name="import"),
]
