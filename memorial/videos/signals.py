"""Keep storage in step with the database: files go after commit when their rows go (a
recording's deletion is audited too)."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.audit.actions import AuditAction
from memorial.audit.services import note
from memorial.memorials.signals import delete_stored_files
from memorial.videos.models import Video, VoiceRecording


@receiver(post_delete, sender=Video)
def video_deleted(sender, instance: Video, **kwargs) -> None:
    delete_stored_files(instance.file, instance.poster)


@receiver(post_delete, sender=VoiceRecording)
def recording_deleted(sender, instance: VoiceRecording, **kwargs) -> None:
    """Wherever it goes (its page, the API, a withdrawal, a takedown): audited, file removed."""
    note(AuditAction.RECORDING_DELETED, instance, content_type=instance.content_type)
    delete_stored_files(instance.file)
