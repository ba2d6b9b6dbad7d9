"""The HTTP API at /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Endpoints are thin: parse, call one selector or service, return a schema. Two ways in, both acting
as a user so the scope policy is the same everywhere:
- an API token for integrations, `Authorization: Bearer ljl_…` (accounts/tokens.py, docs/api.md):
  acts as the token's account; no CSRF token needed; a bad, expired or revoked token answers 401;
- the session (same cookie as the pages): unsafe methods need the CSRF token (header X-CSRFToken)
  like any form.
"""

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from .accounts.api import router as accounts_router
from .accounts.tokens import ApiTokenAuth, TokenRejected
from .core.api import install_error_handlers
from .core.api import router as audit_router
from .mediation.api import router as mediation_router
from .mutual_aid.api import router as mutual_aid_router
from .places.api import residents_router
from .places.api import router as places_router
from .routing.api import router as routing_router
from .service_requests.api import router as requests_router

api = NinjaAPI(
    title="邻家邻 linjialin API",
    version="1",
    description="The API over the same scope policy as the pages. Authenticate with an API token "
    "(`Authorization: Bearer ljl_…`, for integrations; see docs/api.md) or with the session cookie "
    "(plus the CSRF token on unsafe methods). "
    "A missing object and one outside your scope both answer 404; 403 means visible but not allowed.",
    urls_namespace="api",
    auth=[ApiTokenAuth(), django_auth],  # a token first; without an Authorization header, the session
)
install_error_handlers(api)


def _unauthorized(request, message: str):
    response = api.create_response(request, {"detail": message, "fields": {}}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="linjialin"'
    return response


@api.exception_handler(TokenRejected)
def _token_rejected(request, exc):
    return _unauthorized(request, str(exc))


@api.exception_handler(AuthenticationError)
def _not_signed_in(request, exc):
    return _unauthorized(request, _("Sign in, or send an API token: Authorization: Bearer <token>."))


api.add_router("/", accounts_router)
api.add_router("/places/", places_router)
api.add_router("/residents/", residents_router)
api.add_router("/audit/", audit_router)
api.add_router("/requests/", requests_router)
api.add_router("/routing/", routing_router)
api.add_router("/mediation/", mediation_router)
api.add_router("/mutual-aid/", mutual_aid_router)
