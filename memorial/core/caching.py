"""No shared cache, proxy or browser history keeps a signed-in person's pages.

Every response to a request that carries credentials (a session of a signed-in person, or an
``Authorization`` header such as an API token) says ``Cache-Control: private, no-store``: family
photos, consent records and API answers are for that person only, and must not be written to a
disk cache a later user of the same browser or proxy could read. Anonymous responses keep their
own caching, and static files never reach this middleware (WhiteNoise answers them first).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject

PRIVATE = "private, no-store"


def carries_credentials(request: HttpRequest) -> bool:
    """Whether the answer to ``request`` may hold someone's own data.

    Does not load a session just to find out: without a session cookie the lazy user of
    AuthenticationMiddleware is anonymous, unless a view signed someone in (login() and DRF's
    authentication replace ``request.user`` with the real user)."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    if user is None:
        return False
    if isinstance(user, SimpleLazyObject) and settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return bool(user.is_authenticated)


class PrivateCacheMiddleware(MiddlewareMixin):
    """Marks every credentialed response ``private, no-store``, replacing looser caching."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if carries_credentials(request):
            response["Cache-Control"] = PRIVATE
        return response
