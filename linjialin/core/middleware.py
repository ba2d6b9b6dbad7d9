import uuid

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


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: a deployment behind a proxy sets it with the proxy's real-ip module.
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
