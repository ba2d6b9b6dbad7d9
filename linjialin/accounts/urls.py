from django.contrib.auth import views as auth_views
from django.urls import path

from . import coverage_views, privacy_views, signin_views, token_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="language"),
    # one's own sign-in: account page, password, two-factor, sessions (signin_views.py)
    path("me/", signin_views.account, name="account"),
    path("me/password/", signin_views.password_change, name="password_change"),
    path("me/two-factor/", signin_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", signin_views.two_factor_verify, name="two_factor_verify"),
    path("me/sessions/", signin_views.session_list, name="sessions"),
    path("me/sessions/sign-out-others/", signin_views.sign_out_others, name="sign_out_others"),
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
