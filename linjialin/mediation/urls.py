"""The centre's pages under /mediation/: each views module declares its own `urlpatterns`."""

from . import report_views, screening_views, views

app_name = "mediation"
urlpatterns = [*views.urlpatterns, *screening_views.urlpatterns, *report_views.urlpatterns]
