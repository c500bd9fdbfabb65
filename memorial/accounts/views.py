"""Sign-in, and sign-up through an invitation link (the only way to join)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from memorial.accounts.forms import EmailAuthenticationForm, InvitationSignupForm
from memorial.accounts.models import Invitation
from memorial.audit.actions import AuditAction
from memorial.audit.services import record
from memorial.memorials.models import Membership, Role
from memorial.memorials.services import add_member

# Higher number, more rights: accepting an invitation never lowers a member's role.
ROLE_RANK = {Role.VIEWER: 1, Role.CONTRIBUTOR: 2, Role.OWNER: 3}
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


def password_reset_limited(request: HttpRequest, email: str) -> bool:
    """Count this request against both limits (per client address, per e-mail address) and
    say whether either is used up."""
    by_address = is_ratelimited(
        request,
        group="accounts.password_reset",
        key="ip",
        rate=settings.MEMORIAL_PASSWORD_RESET_RATE,
        increment=True,
    )
    by_email = is_ratelimited(
        request,
        group="accounts.password_reset_email",
        key=lambda _group, _request: email.strip().lower(),
        rate=settings.MEMORIAL_PASSWORD_RESET_EMAIL_RATE,
        increment=True,
    )
    return by_address or by_email


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, sending no e-mail past the limits. The answer is the same page
    either way, so it never tells whether an account uses the address."""

    def form_valid(self, form) -> HttpResponse:
        if password_reset_limited(self.request, form.cleaned_data["email"]):
            logger.warning("Password reset not sent: too many requests for this address")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def unusable_reason(invitation: Invitation) -> str:
    """Why a link can no longer be used, in words for the person holding it."""
    if invitation.revoked_at is not None:
        return _("This invitation was withdrawn by the memorial's owner.")
    if invitation.accepted_at is not None:
        return _("This invitation has already been used.")
    return _("This invitation has expired.")


def _accept(invitation: Invitation, user) -> Membership | None:
    """Join `user` with the invited role, keeping a higher role they already hold.

    Locks the invitation row so that one link makes exactly one member even when
    two tabs submit at once; returns None when the link stopped being usable.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:
            return None
        current = Membership.objects.filter(memorial_id=locked.memorial_id, user=user).first()
        role = locked.role
        if current is not None and ROLE_RANK.get(current.role, 0) >= ROLE_RANK.get(role, 0):
            role = current.role
        membership = add_member(locked.memorial, user, role)
        locked.accepted_by = user
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_by", "accepted_at"])
        record(user, AuditAction.INVITATION_ACCEPTED, locked, role=role)
    return membership


def _gone(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    return render(
        request,
        "accounts/invitation_unusable.html",
        {"invitation": invitation, "reason": unusable_reason(invitation)},
        status=410,
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show who invites whom, then accept (signed in) or sign up and accept (anonymous)."""
    invitation = get_object_or_404(Invitation.objects.select_related("memorial"), token=token)
    if not invitation.is_usable:
        return _gone(request, invitation)
    memorial = invitation.memorial
    context = {
        "invitation": invitation,
        "memorial": memorial,
        "role_label": Role(invitation.role).label if invitation.role in Role.values else "",
    }

    if request.user.is_authenticated:
        current = Membership.objects.filter(memorial=memorial, user=request.user).first()
        context["current_membership"] = current
        if request.method == "POST":
            membership = _accept(invitation, request.user)
            if membership is None:
                invitation.refresh_from_db()
                return _gone(request, invitation)
            messages.success(
                request,
                _("You are now a member of “%(name)s” as %(role)s.")
                % {"name": memorial.name, "role": membership.get_role_display().lower()},
            )
            return redirect(memorial)
        return render(request, "accounts/invitation_accept.html", context)

    form = InvitationSignupForm(
        request.POST or None, initial={"email": invitation.email} if invitation.email else None
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
            )
            membership = _accept(invitation, user)
            if membership is None:
                transaction.set_rollback(True)
        if membership is None:
            invitation.refresh_from_db()
            return _gone(request, invitation)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(
            request,
            _("Welcome, %(name)s. You are now a member of “%(memorial)s”.")
            % {"name": user.get_short_name(), "memorial": memorial.name},
        )
        return redirect(memorial)
    context["form"] = form
    status = 400 if form.errors else 200
    return render(request, "accounts/invitation_signup.html", context, status=status)
