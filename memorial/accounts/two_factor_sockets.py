"""Two-factor sign-in for websockets: a session that still owes its code is not signed in there.

Pages get this from :class:`memorial.accounts.two_factor.TwoFactorMiddleware`; Channels does not
run Django's middleware, so without this a password-only session could listen to live job and
queue updates. django-otp marks a verified session with the device's persistent id, which we
check here the same way its OTPMiddleware does.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from memorial.accounts.two_factor import has_device


def _verified_user(scope: dict[str, Any]) -> Any:
    user = scope.get("user")
    if user is None or not user.is_authenticated or not has_device(user):
        return user
    session = scope.get("session")
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk and device.confirmed:
        user.otp_device = device
        return user
    return AnonymousUser()


class TwoFactorSocketMiddleware(BaseMiddleware):
    """Put after Channels' AuthMiddlewareStack (it needs the session and the user)."""

    async def __call__(self, scope, receive, send):
        user = await database_sync_to_async(_verified_user)(scope)
        return await super().__call__(dict(scope, user=user), receive, send)
