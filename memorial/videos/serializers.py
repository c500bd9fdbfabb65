"""API shapes of videos and of the requests that start them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from memorial.core.api import StrictSerializerMixin
from memorial.videos import services
from memorial.videos.models import Video, VoiceRecording


class VideoSerializer(serializers.ModelSerializer):
    file_url = serializers.CharField(read_only=True)
    poster_url = serializers.CharField(read_only=True)
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)
    label = serializers.CharField(read_only=True)
    is_generated = serializers.BooleanField(read_only=True)

    class Meta:
        model = Video
        fields = [
            "id",
            "memorial",
            "kind",
            "label",
            "is_generated",
            "duration",
            "width",
            "height",
            "file_size",
            "source_photo",
            "source_model",
            "voice_recording",
            "job",
            "seed",
            "parameters",
            "notice",
            "file_url",
            "poster_url",
            "page_url",
            "created_at",
        ]
        read_only_fields = fields


class RecordingSerializer(serializers.ModelSerializer):
    """A stored voice recording (the family's upload; its file is used only by the workers)."""

    class Meta:
        model = VoiceRecording
        fields = [
            "id",
            "memorial",
            "original_filename",
            "duration",
            "content_type",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class SpeakRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    audio = serializers.FileField(
        required=False,
        allow_empty_file=True,  # refused by checks.py, with the same words as the page
        label=_("recording"),
        help_text="WAV, MP3, M4A/AAC, OGG/Opus or FLAC; refused when longer than the limit.",
    )
    recording = serializers.UUIDField(
        required=False, label=_("stored recording"), help_text="Instead of `audio`."
    )
    face = serializers.IntegerField(
        required=False, default=0, min_value=0, label=_("face"), help_text="0 = the largest face."
    )
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)


class LiveRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    face = serializers.IntegerField(
        required=False, default=0, min_value=0, label=_("face"), help_text="0 = the largest face."
    )
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)


class FilmRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    seeds = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
        required=False,
        default=list,
        max_length=services.MAX_KEYFRAMES,
    )
    captions = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_CAPTION),
        required=False,
        default=list,
        max_length=services.MAX_KEYFRAMES,
    )
    seconds = serializers.IntegerField(
        required=False, default=8, min_value=1, max_value=services.MAX_FILM_SECONDS
    )
    fps = serializers.ChoiceField(choices=list(services.FPS_CHOICES), required=False, default=24)
    recording = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="A stored sound track."
    )
    start_photo = serializers.UUIDField(required=False, allow_null=True, default=None)
    end_photo = serializers.UUIDField(required=False, allow_null=True, default=None)
    confirm_unlearned = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Film with a model whose evaluation says it has not learned the face yet "
        "(otherwise refused with 400 and the reason).",
    )
