"""Generic API plumbing shared by every app's router: the error schema, error handlers, the audit log.

core knows no domain app; the scope policy reaches it through `user.scope_for(perm)`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestValidationError
from pydantic import AfterValidator

from . import audit, audit_confidential
from .errors import Conflict


class Error(Schema):
    """Every error answer: a human message, and for bad input the messages per field."""

    detail: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


# The largest id an id column holds (BIGINT, SQLite's INTEGER): a larger number in a path, a query or
# a body is a 422 naming the field, never a number the database driver cannot convert (a 500).
ID_MAX = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=ID_MAX)]


# Dates and times a caller may send: wide enough for any real question, narrow enough that every
# moment converts to UTC and back (year 1 or 9999 overflows) and has an RFC 3339 offset in Beijing
# time (before 1901 the zone's offset is local mean time, +08:05:43, which no date-time format holds).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
# the same window in the OpenAPI document (a date-time format has no bounds of its own), so generated
# "valid" dates are ones the API accepts
YEARS = r"^(19[7-9][0-9]|2[0-9]{3})-"
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY, json_schema_extra={"pattern": YEARS})]


def _within_range(value: datetime) -> datetime:
    """A naive time is Beijing time (the site's zone); the day as written falls between FIRST_DAY and
    LAST_DAY, so converting it to UTC never overflows."""
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        message = _("Give a time between %(first)s and %(last)s.")
        raise ValueError(message % {"first": FIRST_DAY, "last": LAST_DAY})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


Moment = Annotated[datetime, AfterValidator(_within_range), Field(json_schema_extra={"pattern": YEARS})]


def path_id(description: str = "id"):
    """The type of an id in a URL path: a positive number within the id columns' range."""
    return Annotated[int, Path(ge=1, le=ID_MAX, description=description)]


# The error answers each kind of endpoint can give (spread into `response={200: X, **ERRORS}`):
# 400 a body that is not JSON (every operation that reads a body); 401 not signed in;
# 403 visible but not allowed (and, for a session without its CSRF token, any unsafe method);
# 404 missing or outside the caller's scope; 422 a parameter that does not parse or is out of bounds.
BODY_ERRORS = {400: Error}
READ_ERRORS = {401: Error, 404: Error, 422: Error}
GUARDED_READ_ERRORS = {401: Error, 403: Error, 404: Error, 422: Error}
LIST_ERRORS = {401: Error, 403: Error, 422: Error}


def install_error_handlers(api) -> None:
    """Map the exceptions services and selectors raise to JSON answers of the `Error` shape."""

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return api.create_response(request, {"detail": _("Not found."), "fields": {}}, status=404)

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return api.create_response(
            request, {"detail": str(exc) or _("You may not do that here."), "fields": {}}, status=403
        )

    @api.exception_handler(ValidationError)
    def _invalid(request, exc):
        fields = {}
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        return api.create_response(request, {"detail": " ".join(exc.messages), "fields": fields}, status=422)

    @api.exception_handler(RequestValidationError)
    def _bad_request(request, exc):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "payload")]
            fields.setdefault(".".join(loc) or "request", []).append(str(error.get("msg", "")))
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        return api.create_response(request, {"detail": detail, "fields": fields}, status=422)

    @api.exception_handler(HttpError)
    def _http_error(request, exc):
        # ninja's own refusals (a body that is not JSON, a session POST without its CSRF token) in the
        # documented Error shape and the caller's language; an endpoint's own HttpError keeps its text
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            message = _("The request body is not valid JSON.")
        elif exc.status_code == 403 and message == "CSRF check Failed":
            message = _(
                "The CSRF token is missing or wrong: send the csrftoken cookie's value in X-CSRFToken."
            )
        return api.create_response(request, {"detail": message, "fields": {}}, status=exc.status_code)

    @api.exception_handler(Conflict)
    def _conflict(request, exc):
        return api.create_response(request, {"detail": str(exc), "fields": {}}, status=409)


# --- the audit trail ------------------------------------------------------------------------------
router = Router(tags=["audit"])


class AuditEventOut(Schema):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    path: str
    before: dict
    after: dict
    reason: str
    ip: str | None
    request_id: str


class AuditPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditEventOut]


class AuditFilters(Schema):
    actor: int | None = Field(None, ge=1, le=ID_MAX, description="user id of the actor")
    action: str | None = Field(None, max_length=64, description="exact action, or a prefix ending in '.'")
    path: str | None = Field(None, max_length=64, description="events at this place path and below")
    from_: Moment | None = Field(None, alias="from", description="events at or after this time")
    to: Moment | None = Field(None, description="events before this time")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("/events", response={200: AuditPage, **LIST_ERRORS}, summary="Audit events (newest first)")
def audit_events(request, filters: Query[AuditFilters]):
    """Events the caller may audit (permission `audit.view`), filtered and paginated by offset."""
    events = audit.events_for_user(
        request.auth,
        actor_id=filters.actor,
        action=filters.action,
        path=filters.path,
        since=filters.from_,
        until=filters.to,
    )
    if events is None:
        raise PermissionDenied(_("You may not view the audit trail."))
    page = audit_confidential.redact(
        list(events[filters.offset : filters.offset + filters.limit]), request.auth
    )
    count = events.count() if len(page) == filters.limit or filters.offset else len(page)
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": page}
