"""The names of everything the audit log records: one vocabulary for writers and filters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CONSENT_RECORDED = "consent.recorded", _("Consent recorded")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    CONSENT_APPROVED = "consent.approved", _("Consent approved")
    CONSENT_REJECTED = "consent.rejected", _("Consent rejected")
    MEMBER_ADDED = "member.added", _("Member added")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    PHOTO_HIDDEN = "photo.hidden", _("Photo hidden")
    PHOTO_DELETED = "photo.deleted", _("Photo deleted")
    MEMORIAL_DELETED = "memorial.deleted", _("Memorial deleted")
    TAKEDOWN_RECEIVED = "takedown.received", _("Takedown request received")
    TAKEDOWN_REVIEW_STARTED = "takedown.under_review", _("Takedown review started")
    TAKEDOWN_ACTIONED = "takedown.actioned", _("Takedown actioned")
    TAKEDOWN_REJECTED = "takedown.rejected", _("Takedown rejected")
    TAKEDOWN_APPEALED = "takedown.appealed", _("Takedown appealed")
    TAKEDOWN_CLOSED = "takedown.closed", _("Takedown closed")
    ADMIN_ADDED = "admin.added", _("Added in the admin")
    ADMIN_CHANGED = "admin.changed", _("Changed in the admin")
    ADMIN_DELETED = "admin.deleted", _("Deleted in the admin")
