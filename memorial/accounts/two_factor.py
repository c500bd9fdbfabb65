"""Two-factor sign-in with an authenticator app (TOTP, django-otp), optional, for staff.

After the password, a user who has confirmed an authenticator must enter a code before any
page opens (the session is then "OTP-verified"). Staff pages (moderation, audit, queues,
admin, metrics, the staff API) need a verified session when the user has an authenticator,
and, with ``MEMORIAL_STAFF_REQUIRE_2FA``, ask staff to set one up first.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device

# Pages that concern staff work only; the API's staff endpoints check `staff_verified` themselves.
STAFF_PREFIXES = ("/moderation/", "/audit/", "/staff/", "/admin/", "/metrics")
# Reachable before the code is entered: the code page itself, signing out, static files.
EXEMPT_PREFIXES = ("/accounts/2fa/verify/", "/accounts/logout/", "/static/", "/i18n/", "/jsi18n/")
EXEMPT_PATHS = ("/healthz",)


def may_use_two_factor(user) -> bool:
    """Authenticator apps are offered to staff and administrators."""
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def has_device(user) -> bool:
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def needs_setup(user) -> bool:
    """Staff without an authenticator, where the instance requires one."""
    return settings.MEMORIAL_STAFF_REQUIRE_2FA and may_use_two_factor(user) and not has_device(user)


def staff_verified(user) -> bool:
    """May this (staff) user do staff work now, as far as two-factor sign-in is concerned?"""
    if needs_setup(user):
        return False
    return not has_device(user) or is_verified(user)


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


class TwoFactorMiddleware:
    """Send signed-in users who still owe a code (or staff who owe a set-up) to that page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        user = getattr(request, "user", None)
        if user is None or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            return None
        if not user.is_authenticated:
            return None
        if has_device(user) and not is_verified(user):
            if path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("Enter the code from your authenticator app first.")}, status=403
                )
            return redirect(_with_next(reverse("accounts:two_factor_verify"), request))
        if path.startswith(STAFF_PREFIXES) and needs_setup(user):
            return redirect(_with_next(reverse("accounts:two_factor"), request))
        return None


def code_matches(user, code: str) -> bool:
    """Does `code` come from one of the user's confirmed authenticators? Each device refuses
    a code it already accepted and slows down after failures (django-otp's own throttle)."""
    return any(device.verify_token(code) for device in devices_for_user(user, confirmed=True))
