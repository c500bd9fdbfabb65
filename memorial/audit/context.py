"""Who is acting in this request, for entries written from signals and services.

The middleware sets it for each request; Celery tasks and commands leave it
empty, and their entries read "system".
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

# Holds the request, not request.user: asgiref compares context values when it hands
# them between threads, and comparing the lazy user would query the database there.
_request: ContextVar[HttpRequest | None] = ContextVar("memorial_audit_request", default=None)


def current_actor() -> Any:
    request = _request.get()
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


class AuditActorMiddleware:
    """Place after AuthenticationMiddleware; the user is read lazily, when an entry is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
