"""The HTTP API at /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Endpoints are thin: parse, call one selector or service, return a schema. Authentication is the
session (same cookie as the pages) so the scope policy is the same everywhere; unsafe methods need
the CSRF token (header X-CSRFToken) like any form.
"""

from ninja import NinjaAPI
from ninja.security import django_auth

from .accounts.api import router as accounts_router
from .core.api import install_error_handlers
from .core.api import router as audit_router
from .places.api import residents_router
from .places.api import router as places_router
from .service_requests.api import router as requests_router

api = NinjaAPI(
    title="邻家邻 linjialin API",
    version="1",
    description="Session-authenticated API over the same scope policy as the pages. "
    "A missing object and one outside your scope both answer 404; 403 means visible but not allowed.",
    urls_namespace="api",
    auth=django_auth,
)
install_error_handlers(api)

api.add_router("/", accounts_router)
api.add_router("/places/", places_router)
api.add_router("/residents/", residents_router)
api.add_router("/audit/", audit_router)
api.add_router("/requests/", requests_router)
