"""The HTTP API at /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Endpoints are thin: parse, call one selector or service, return a schema. Authentication is the
session (same cookie as the pages) so the scope policy is the same everywhere.
"""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.security import django_auth

from .places.api import router as places_router

api = NinjaAPI(
    title="邻家邻 linjialin API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


api.add_router("/places/", places_router)

__all__ = ["api", "HttpError"]
