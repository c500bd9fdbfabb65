"""Entries for things that happen in several places: photo and memorial deletion,
consent recorded or withdrawn (page, API or admin), and every Django admin action."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from memorial.audit.actions import AuditAction
from memorial.audit.services import note, record
from memorial.consent.models import ConsentRecord, Status
from memorial.memorials.models import Memorial, Photo

ADMIN_ACTIONS = {
    ADDITION: AuditAction.ADMIN_ADDED,
    CHANGE: AuditAction.ADMIN_CHANGED,
    DELETION: AuditAction.ADMIN_DELETED,
}


@receiver(post_delete, sender=Photo)
def photo_deleted(sender, instance: Photo, **kwargs) -> None:
    note(AuditAction.PHOTO_DELETED, instance, kind=instance.kind, sha256=instance.sha256)


@receiver(post_delete, sender=Memorial)
def memorial_deleted(sender, instance: Memorial, **kwargs) -> None:
    note(AuditAction.MEMORIAL_DELETED, instance)


@receiver(post_save, sender=ConsentRecord)
def consent_saved(sender, instance: ConsentRecord, created: bool, update_fields=None, **kwargs):
    if created:
        note(
            AuditAction.CONSENT_RECORDED,
            instance,
            scopes=list(instance.scopes),
            basis=instance.basis,
            status=instance.status,
        )
    elif update_fields and "status" in update_fields and instance.status == Status.WITHDRAWN:
        note(AuditAction.CONSENT_WITHDRAWN, instance, scopes=list(instance.scopes))


@receiver(post_save, sender=LogEntry)
def admin_logged(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    content_type = instance.content_type
    record(
        instance.user,
        ADMIN_ACTIONS.get(instance.action_flag, AuditAction.ADMIN_CHANGED),
        (
            content_type.model_class()._meta.label_lower
            if content_type and content_type.model_class()
            else "",
            instance.object_id or "",
        ),
        change=instance.change_message,
    )
