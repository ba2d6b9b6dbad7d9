from django.urls import path

from . import views

app_name = "requests"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.submit, name="submit"),
    path("behalf/", views.behalf, name="behalf"),
    path("queue/", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/photos/", views.add_photos, name="add_photos"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
]
