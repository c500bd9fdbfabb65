"""E-mails of the moderation work, each rendered in the recipient's language."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)


def send(template: str, recipients: list[str], context: dict[str, Any], language: str = "") -> bool:
    """Send templates/moderation/email/<template>_{subject,body}.txt; False when it failed."""
    recipients = [r for r in recipients if r]
    if not recipients:
        return False
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"moderation/email/{template}_subject.txt", context)
        body = render_to_string(f"moderation/email/{template}_body.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, recipients)
    except Exception:  # the decision stands even when the mail server is down
        log.exception("could not send %s e-mail", template)
        return False
    return True
