"""Mutual aid pages under /mutual-aid/: each views module declares its own `urlpatterns`."""

from . import care_views, emergency_views, figure_views, stream, views

app_name = "mutual_aid"
urlpatterns = [*views.urlpatterns, *care_views.urlpatterns, *emergency_views.urlpatterns]
urlpatterns += [*stream.urlpatterns, *figure_views.urlpatterns]
