"""Consent records: who says this person's likeness may be used, for what, and on what basis."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    TRAINING = "training", _("Use photos to train a model of the person")
    GENERATED_PHOTOS = "generated_photos", _("Generate new photos")
    GENERATED_VIDEOS = "generated_videos", _("Generate videos")
    VOICE = "voice", _("Use a recording of the person's voice")


class Basis(models.TextChoices):
    OWN_WISH = "own_wish", _("The person's own wish, recorded before death")
    NEXT_OF_KIN = "next_of_kin", _("Next of kin")
    EXECUTOR = "executor", _("Executor of the estate")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def evidence_path(record: ConsentRecord, filename: str) -> str:
    return f"memorials/{record.memorial_id}/consent/{record.pk}/evidence"


class ConsentRecord(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="consent_records"
    )
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    attester_name = models.CharField(_("full name of the person attesting"), max_length=200)
    relationship = models.CharField(_("relationship to the person"), max_length=100)
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    scopes = models.JSONField(_("scope"), default=list)
    statement = models.TextField(_("statement"), blank=True, max_length=5000)
    evidence = models.FileField(_("evidence"), upload_to=evidence_path, blank=True, max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    review_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{self.memorial} — {self.get_status_display()}"

    def covers(self, scope: str) -> bool:
        return scope in self.scopes

    def get_scopes_display(self) -> list[str]:
        labels = dict(Scope.choices)
        return [str(labels.get(s, s)) for s in self.scopes]


class Withdrawal(models.Model):
    """One withdrawal of consent and the deletion it set off: what was planned, what went,
    what is still stored (a failed deletion is run again until nothing remains)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="withdrawals"
    )
    record = models.ForeignKey(ConsentRecord, on_delete=models.CASCADE, related_name="withdrawals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    include_uploads = models.BooleanField(default=False)
    #: Scopes no longer covered by any approved record once this one was withdrawn.
    lost_scopes = models.JSONField(default=list)
    #: Identifiers only ({"kind", "id", "memorial"}), never labels or content.
    planned = models.JSONField(default=list)
    removed = models.JSONField(default=list)
    remaining = models.JSONField(default=list)
    cancelled_jobs = models.JSONField(default=list)
    runs = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consent withdrawal")
        verbose_name_plural = _("consent withdrawals")

    def __str__(self) -> str:
        return f"{self.memorial} — {self.created_at:%Y-%m-%d}"

    @property
    def complete(self) -> bool:
        return self.finished_at is not None and not self.remaining
