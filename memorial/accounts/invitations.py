"""Sending an invitation link by e-mail, shared by the members page and the API."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string

from memorial.accounts.models import Invitation

log = logging.getLogger(__name__)


def send_invitation(invitation: Invitation, inviter, url: str) -> bool:
    """E-mail the link; False when the mail server refused (the link can still be copied)."""
    from memorial.memorials.models import Role

    context = {
        "invitation": invitation,
        "memorial": invitation.memorial,
        "inviter": inviter,
        "url": url,
        "role_label": Role(invitation.role).label,
    }
    subject = " ".join(render_to_string("memorials/email/invitation_subject.txt", context).split())
    body = render_to_string("memorials/email/invitation.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except Exception:  # SMTP trouble must not lose the invitation: the link can be copied
        log.exception("could not send invitation %s", invitation.pk)
        return False
    return True
