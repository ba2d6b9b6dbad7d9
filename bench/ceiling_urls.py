"""The project's URLs plus `/bench/ping`: JsonResponse({"ok": true}), no database work of its own."""

from django.http import JsonResponse
from django.urls import path

from linjialin.urls import urlpatterns as project_urls


def ping(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping", ping), *project_urls]
