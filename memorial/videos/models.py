"""Voice recordings a family uploads, and the videos made from them (always AI-generated).

Storage keys carry identifiers only (``memorials/<m>/videos/<id>/…``,
``memorials/<m>/voice/<id>/…``); the family's file name is kept in a column, never in a key.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def recording_path(recording: VoiceRecording, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return f"memorials/{recording.memorial_id}/voice/{recording.pk}/recording{suffix}"


def video_path(video: Video, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    stem = "poster" if suffix == ".png" else "video"
    return f"memorials/{video.memorial_id}/videos/{video.pk}/{stem}{suffix}"


class VoiceRecording(models.Model):
    """A recording of the person's voice; used only while consent covers voice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="voice_recordings"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to=recording_path, max_length=255)
    duration = models.FloatField(_("length in seconds"))
    content_type = models.CharField(max_length=64)
    original_filename = models.CharField(_("file name"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("voice recording")
        verbose_name_plural = _("voice recordings")

    def __str__(self) -> str:
        return self.original_filename or str(self.pk)


class VideoKind(models.TextChoices):
    TALKING = "talking", _("Talking portrait")
    FILM = "film", _("Film from the model")


class Video(models.Model):
    """A finished MP4 in the gallery. Created last by its job, so never half-written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="videos"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=VideoKind.choices)
    file = models.FileField(upload_to=video_path, max_length=255)
    poster = models.FileField(upload_to=video_path, max_length=255, blank=True)
    duration = models.FloatField(_("length in seconds"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file_size = models.PositiveBigIntegerField(default=0)
    source_photo = models.ForeignKey(
        "memorials.Photo", on_delete=models.SET_NULL, null=True, blank=True, related_name="videos"
    )
    source_model = models.ForeignKey(
        "jobs.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="videos",
    )
    voice_recording = models.ForeignKey(
        VoiceRecording,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="videos",
    )
    job = models.OneToOneField(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="video"
    )
    seed = models.BigIntegerField(default=0)
    #: The captions (films), face index, fps, … it was made with.
    parameters = models.JSONField(default=dict, blank=True)
    notice = models.TextField(blank=True)  # e.g. "the recording has no audible voice"
    hidden = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["memorial", "-created_at"])]
        verbose_name = _("video")
        verbose_name_plural = _("videos")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    #: Every video is made by the engine; the label is shown wherever it appears.
    is_generated = True

    @property
    def label(self) -> str:
        """A short accessible description: what it is, and that it is AI-generated."""
        captions = [c for c in self.parameters.get("captions", []) if c]
        if self.kind == VideoKind.TALKING and self.parameters.get("live"):
            return str(_("AI-generated living portrait"))
        if self.kind == VideoKind.TALKING:
            return str(_("AI-generated talking portrait"))
        if captions:
            return str(_("AI-generated film: %(captions)s") % {"captions": ", ".join(captions)})
        return str(_("AI-generated film"))

    def get_absolute_url(self) -> str:
        return reverse(
            "videos:detail", kwargs={"memorial_id": self.memorial_id, "video_id": self.pk}
        )

    def file_url(self) -> str:
        return reverse("videos:file", kwargs={"video_id": self.pk})

    def poster_url(self) -> str:
        return reverse("videos:poster", kwargs={"video_id": self.pk}) if self.poster else ""
