"""Per-request context (request id, client IP) for audit events written deep inside services."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("linjialin_request", default=_EMPTY)


def current() -> RequestContext:
    return _current.get()


def set_current(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
