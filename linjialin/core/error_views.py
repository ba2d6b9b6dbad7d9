"""The site's error pages (400, 403, CSRF failure, 404, 500), in the user's language, with a way home.

400/403/404 render inside the site's frame (base.html, with its context processors). 500 renders a
standalone template with no context processors and no database access: it must not fail for the same
reason the page did.
"""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a form sent with a stale or missing token. "Open the form again" goes
    back to the page the form was on (the Referer, when it is this site's): the POST target itself
    may answer a GET with 405."""
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = request.get_full_path()
    return render(request, "errors/403_csrf.html", {"back": back}, status=403)


@requires_csrf_token
def server_error(request):
    try:
        home = reverse("home")
    except NoReverseMatch:  # a broken URLconf is one way to get here
        home = "/"
    try:  # the site's look when the static files can be named; a plain page when not
        stylesheets = [static("vendor/bootstrap.min.css"), static("linjialin/site.css")]
    except Exception:  # noqa: BLE001 (a missing manifest must not turn the error page into another error)
        stylesheets = []
    template = loader.get_template("errors/500.html")
    context = {"home": home, "stylesheets": stylesheets, "request_id": getattr(request, "request_id", "")}
    return HttpResponseServerError(template.render(context))
