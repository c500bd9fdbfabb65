"""Keep storage in step with the database: files go after commit when their rows go."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.memorials.signals import delete_stored_files
from memorial.videos.models import Video, VoiceRecording


@receiver(post_delete, sender=Video)
def video_deleted(sender, instance: Video, **kwargs) -> None:
    delete_stored_files(instance.file, instance.poster)


@receiver(post_delete, sender=VoiceRecording)
def recording_deleted(sender, instance: VoiceRecording, **kwargs) -> None:
    delete_stored_files(instance.file)
