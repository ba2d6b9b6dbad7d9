from django.contrib.auth import views as auth_views
from django.urls import path

from . import coverage_views, privacy_views, token_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="language"),
    path("coverage/", coverage_views.coverage, name="coverage"),
    path("coverage/<int:place_id>/", coverage_views.coverage_community, name="coverage_community"),
    path("coverage/<int:place_id>/assign/", coverage_views.coverage_assign, name="coverage_assign"),
    path("coverage/grants/<int:grant_id>/end/", coverage_views.coverage_end, name="coverage_end"),
    path("tokens/", token_views.token_list, name="tokens"),
    path("my-data/", privacy_views.my_data, name="my_data"),
    path("my-data/download/", privacy_views.my_data_download, name="my_data_download"),
    path("my-data/corrections/", privacy_views.my_data_correct, name="my_data_correct"),
    path("tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
]
