from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from .accounts import signin_views
from .accounts import views as account_views
from .accounts.two_factor import admin_verified
from .api import api
from .core import error_views

# The Django admin signs in through the site's login (throttled, two-factor) and needs the second factor.
admin.site.login = signin_views.admin_login
_admin_has_permission = admin.site.has_permission
admin.site.has_permission = lambda request: _admin_has_permission(request) and admin_verified(request)

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", account_views.healthz, name="healthz"),
]

urlpatterns += i18n_patterns(
    path("", account_views.home, name="home"),
    path("accounts/", include("linjialin.accounts.urls")),
    path("places/", include("linjialin.places.urls")),
    path("requests/", include("linjialin.service_requests.urls")),
    path("audit/", include("linjialin.accounts.audit_urls")),
    path("notifications/", include("linjialin.notifications.urls")),
    path("routing/", include("linjialin.routing.urls")),
    path("hotspots/", include("linjialin.hotspots.urls")),
    path("mediation/", include("linjialin.mediation.urls")),
    path("mutual-aid/", include("linjialin.mutual_aid.urls")),
    path("admin/", admin.site.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=False,
)

# Localised error pages inside the site's frame (core/error_views.py); CSRF failures: settings.
handler400 = error_views.bad_request
handler403 = error_views.permission_denied
handler404 = error_views.page_not_found
handler500 = error_views.server_error
