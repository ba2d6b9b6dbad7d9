from django.urls import path

from . import views

app_name = "hotspots"

urlpatterns = [
    path("", views.index, name="index"),
    path("board/<int:place_id>/", views.board, name="board"),
    path("<int:hotspot_id>/task/", views.create_task, name="create_task"),
    path("tasks/<int:task_id>/", views.task, name="task"),
    path("tasks/<int:task_id>/act/", views.task_act, name="task_act"),
    path("themes/", views.themes, name="themes"),
    path("themes/new/", views.theme_edit, name="theme_new"),
    path("themes/<int:theme_id>/", views.theme, name="theme"),
    path("themes/<int:theme_id>/edit/", views.theme_edit, name="theme_edit"),
    path("themes/report.<str:fmt>", views.monthly_report, name="report"),
]
