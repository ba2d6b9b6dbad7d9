import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.utils.ipv6 import clean_ipv6_address

from . import context


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-ID) and remembers the client IP for auditing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_current(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiLanguageMiddleware:
    """The API answers in the client's language: the language cookie, else Accept-Language, else the
    default. (The pages take it from the URL — Chinese unprefixed, English under /en/ — which makes
    LocaleMiddleware ignore Accept-Language on every unprefixed path, the API's included.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        return response


def client_ip(request) -> str | None:
    """The client address for the audit trail.

    Behind N trusted reverse proxies (settings.TRUSTED_PROXY_COUNT, env LINJIALIN_TRUSTED_PROXIES),
    the client is the N-th address from the right of X-Forwarded-For (each proxy appends the address
    it saw); anything further left was written by the client and is not trusted. With 0 proxies,
    REMOTE_ADDR.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return normalize_ip(hops[-proxies])
    return normalize_ip(request.META.get("REMOTE_ADDR"))


def normalize_ip(value: str | None) -> str | None:
    """The address as the database stores it (IPv6 compressed, lower case), or None if not an IP.

    The audit hash is computed before saving, so it must already be the stored form; and a value
    that is not an address (a unix socket) must not make every audited write fail."""
    if not value:
        return None
    try:
        validate_ipv46_address(value)
    except ValidationError:
        return None
    return clean_ipv6_address(value) if ":" in value else value
