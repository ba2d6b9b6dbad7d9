"""The site's URLs plus a view that fails, for the 500 page test (the handlers come with them)."""

from django.urls import path

from linjialin.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def fails(request):
    raise RuntimeError("a failing view, for the 500 page test")


urlpatterns = [path("fails/", fails), path("en/fails/", fails), *urlpatterns]
