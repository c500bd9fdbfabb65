"""Takedown requests: anyone's objection to an item or a memorial, and what staff did about it.

The memorial and photo are kept as identifiers, not foreign keys: the request and
its history must outlive the items it got removed.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread


class Reason(models.TextChoices):
    NO_CONSENT = "no_consent", _("The person did not consent, or would not have")
    DEPICTED = "depicted", _("I am depicted")
    INTIMATE = "intimate", _("An intimate or sexual image")
    COPYRIGHT = "copyright", _("Copyright")
    HARMFUL = "harmful", _("Harmful or offensive")
    OTHER = "other", _("Other")


# Likeness and intimate-image claims get the short deadline (MEMORIAL_TAKEDOWN_URGENT_HOURS).
URGENT_REASONS = frozenset({Reason.NO_CONSENT, Reason.DEPICTED, Reason.INTIMATE})


class TakedownStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    ACTIONED = "actioned", _("Actioned")
    REJECTED = "rejected", _("Rejected")
    APPEALED = "appealed", _("Appealed")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset(
    {TakedownStatus.RECEIVED, TakedownStatus.UNDER_REVIEW, TakedownStatus.APPEALED}
)
APPEALABLE_STATUSES = frozenset({TakedownStatus.ACTIONED, TakedownStatus.REJECTED})


def new_reference() -> str:
    year = timezone.now().year
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"TD-{year}-{code}"


def deadline_for(reason: str, start=None):
    hours = (
        settings.MEMORIAL_TAKEDOWN_URGENT_HOURS
        if reason in URGENT_REASONS
        else settings.MEMORIAL_TAKEDOWN_STANDARD_HOURS
    )
    return (start or timezone.now()) + timedelta(hours=hours)


class TakedownQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now=None):
        return self.open().filter(deadline__lt=now or timezone.now())


class TakedownRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    contact_name = models.CharField(_("your name"), max_length=200)
    contact_email = models.EmailField(_("your e-mail address"))
    relationship = models.CharField(_("your relationship to the person or item"), max_length=200)
    url = models.CharField(_("address (URL) of the item or memorial"), max_length=500)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    explanation = models.TextField(_("explanation"), max_length=5000)
    good_faith = models.BooleanField(default=False)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TakedownStatus.choices, default=TakedownStatus.RECEIVED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(_("deadline"))
    memorial_id = models.UUIDField(null=True, blank=True)
    photo_id = models.UUIDField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    removed_items = models.JSONField(default=list, blank=True)
    appeal_text = models.TextField(_("appeal"), blank=True, max_length=5000)
    appealed_at = models.DateTimeField(null=True, blank=True)
    #: When the requester's acknowledgement and the staff notice went out; None until then (a
    #: mail server that was away: the periodic sweep sends them, see notices.send_due_notices).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    staff_notified_at = models.DateTimeField(null=True, blank=True)

    objects = TakedownQuerySet.as_manager()

    class Meta:
        ordering = ["deadline"]
        verbose_name = _("takedown request")
        verbose_name_plural = _("takedown requests")

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_urgent(self) -> bool:
        return self.reason in URGENT_REASONS

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.deadline < (now or timezone.now())

    def save(self, *args, **kwargs) -> None:
        if not self.reference:
            self.reference = new_reference()
            while TakedownRequest.objects.filter(reference=self.reference).exists():
                self.reference = new_reference()
        if self.deadline is None:
            self.deadline = deadline_for(self.reason)
        super().save(*args, **kwargs)
