"""API tokens: random keys shown once, stored as SHA-256 digests, checked on every API call.

A key is 256 random bits (``mem_`` and 43 URL-safe characters). Only its digest and its first
characters (to recognise it in a list) are stored, so the database and its backups hold nothing
that opens the API. Every token expires (``MEMORIAL_API_TOKEN_DAYS`` by default, at most
``MEMORIAL_API_TOKEN_MAX_DAYS``) and can be revoked by its owner.

Two-factor sign-in reaches tokens too: a user with an authenticator app gets a token only with a
code from it (or from a session that entered one), and staff who must set one up
(``MEMORIAL_STAFF_REQUIRE_2FA``) get none until they have. A token made without a code stops
working once its user turns two-factor sign-in on.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from memorial.accounts.models import ApiToken
from memorial.accounts.two_factor import has_device, needs_setup

KEY_START = "mem_"
PREFIX_LENGTH = 10  # "mem_" and six random characters: enough to tell tokens apart
# The last use is written at most once a minute per token, not on every call.
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just made, with its key: the only moment the key exists outside the client."""

    token: ApiToken
    key: str


def digest_of(key: str) -> str:
    """SHA-256 suffices: the key is random and long, so there is nothing to guess or stretch."""
    return hashlib.sha256(key.encode()).hexdigest()


def default_days() -> int:
    return settings.MEMORIAL_API_TOKEN_DAYS


def max_days() -> int:
    return settings.MEMORIAL_API_TOKEN_MAX_DAYS


def issue(
    user, *, name: str = "", days: int | None = None, two_factor: bool = False
) -> IssuedToken:
    """Make a token for `user` valid for `days` (the default when None), capped at the maximum."""
    days = min(days or default_days(), max_days())
    key = KEY_START + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=key[:PREFIX_LENGTH],
        digest=digest_of(key),
        two_factor=two_factor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return IssuedToken(token, key)


def revoke(token: ApiToken) -> None:
    """Stop the token working from now on; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def setup_required_message() -> str:
    return _(
        "This staff account must set up two-factor sign-in before it can use the API. Sign in "
        "on the website, open “Two-factor sign-in” (/accounts/2fa/) to add an authenticator "
        "app, then ask for a token again with a code from the app."
    )


def refusal(token: ApiToken | None) -> str | None:
    """Why this token may not open the API now, in words for the person using it; None: it may."""
    if token is None or token.revoked_at is not None:
        return _("This token is not valid; it may have been revoked. Ask for a new token.")
    if token.is_expired:
        return _("This token has expired. Ask for a new token.")
    user = token.user
    if not user.is_active:
        return _("This account is disabled.")
    if needs_setup(user):
        return setup_required_message()
    if has_device(user) and not token.two_factor:
        return _(
            "This token was made without a code from your authenticator app, and this account "
            "now uses two-factor sign-in. Ask for a new token with the code."
        )
    return None


def _mark_verified(user) -> None:
    """A token made with a code counts as a verified session for staff work (django-otp's
    `is_verified`), as the code page does for a browser."""
    user.otp_device = next(iter(devices_for_user(user, confirmed=True)), None)
    user.is_verified = functools.partial(lambda u: u.otp_device is not None, user)


def _note_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - LAST_USE_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USE_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now


class HashedTokenAuthentication(TokenAuthentication):
    """DRF authentication with `Authorization: Token <key>`, looked up by the key's digest."""

    model = ApiToken

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()
        reason = refusal(token)
        if reason is not None:
            raise exceptions.AuthenticationFailed(reason)
        if token.two_factor:
            _mark_verified(token.user)
        _note_use(token)
        return token.user, token
