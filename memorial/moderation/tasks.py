"""Periodic work for takedowns: e-mails of new requests that did not go out when they arrived.

Celery beat sends ``memorial.moderation.send_due_notices`` every minute (memorial/celery.py).
Each e-mail is marked on its request once sent, so a later run does not send it again.
"""

from __future__ import annotations

from celery import shared_task

from memorial.moderation import notices


@shared_task(name="memorial.moderation.send_due_notices", ignore_result=True)
def send_due_notices() -> int:
    """Send what a mail server that was away left unsent; returns how many requests were tried."""
    return notices.send_due_notices()
