"""The names of everything the audit log records: one vocabulary for writers and filters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CONSENT_RECORDED = "consent.recorded", _("Consent recorded")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    CONSENT_APPROVED = "consent.approved", _("Consent approved")
    CONSENT_REJECTED = "consent.rejected", _("Consent rejected")
    CONSENT_SOLE_REVIEWER = (
        "consent.sole_reviewer",
        _("Consent decided by its only possible reviewer"),
    )
    MEMBER_ADDED = "member.added", _("Member added")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    PHOTO_HIDDEN = "photo.hidden", _("Photo hidden")
    PHOTO_DELETED = "photo.deleted", _("Photo deleted")
    RECORDING_DELETED = "recording.deleted", _("Voice recording deleted")
    MODEL_DELETED = "model.deleted", _("Trained model deleted")
    JOB_DELETED = "job.deleted", _("Job and its files deleted")
    JOB_STARTED = "job.started", _("Job started")
    JOB_CANCELLED = "job.cancelled", _("Job cancelled")
    WITHDRAWAL_STARTED = "withdrawal.started", _("Deletion after withdrawal started")
    WITHDRAWAL_FINISHED = "withdrawal.finished", _("Deletion after withdrawal run")
    MEMORIAL_DELETED = "memorial.deleted", _("Memorial deleted")
    MEMORIAL_ARCHIVED = "memorial.archived", _("Memorial archived")
    MEMORIAL_UNARCHIVED = "memorial.unarchived", _("Memorial unarchived")
    MEMORIAL_DELETION_REQUESTED = "memorial.deletion_requested", _("Memorial deletion requested")
    MEMORIAL_DELETION_CANCELLED = "memorial.deletion_cancelled", _("Memorial deletion cancelled")
    MEMORIAL_PURGED = "memorial.purged", _("Memorial deleted after its cooling-off period")
    MEMORIAL_EXPORTED = "memorial.exported", _("Memorial downloaded")
    TWO_FACTOR_ENABLED = "two_factor.enabled", _("Two-factor sign-in set up")
    TWO_FACTOR_REMOVED = "two_factor.removed", _("Two-factor sign-in removed")
    TAKEDOWN_RECEIVED = "takedown.received", _("Takedown request received")
    TAKEDOWN_REVIEW_STARTED = "takedown.under_review", _("Takedown review started")
    TAKEDOWN_ACTIONED = "takedown.actioned", _("Takedown actioned")
    TAKEDOWN_REJECTED = "takedown.rejected", _("Takedown rejected")
    TAKEDOWN_APPEALED = "takedown.appealed", _("Takedown appealed")
    TAKEDOWN_CLOSED = "takedown.closed", _("Takedown closed")
    ADMIN_ADDED = "admin.added", _("Added in the admin")
    ADMIN_CHANGED = "admin.changed", _("Changed in the admin")
    ADMIN_DELETED = "admin.deleted", _("Deleted in the admin")
