"""Takedown and withdrawal: videos are items of their own ("video"), and derived items of the
photo they animate (or cross-fade from) and of the model that made them.

Registered with memorial.moderation.items when the app is ready (apps.py).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from memorial.consent.models import Scope
from memorial.memorials import events
from memorial.moderation import items as registry
from memorial.moderation.items import Item, uuids
from memorial.videos.models import Video, VoiceRecording


def _item(video: Video) -> Item:
    return Item("video", str(video.pk), str(video.memorial_id), video.label)


def _items(videos) -> list[Item]:
    return [_item(v) for v in videos.order_by("created_at", "pk")]


class VideoHandler:
    kind = "video"

    def find(self, ids: list[str]) -> list[Item]:
        return _items(Video.objects.filter(pk__in=uuids(ids)))

    def derived(self, item: Item) -> list[Item]:
        return []  # nothing is made from a video

    def generated_of(self, memorial_id) -> list[Item]:
        return _items(Video.objects.filter(memorial_id=memorial_id))

    def hide(self, items: list[Item]) -> None:
        Video.objects.filter(pk__in=uuids(i.id for i in items)).update(hidden=True)

    def delete(self, items: list[Item]) -> None:
        for video in Video.objects.filter(pk__in=uuids(i.id for i in items)):
            memorial_id, video_id = video.memorial_id, str(video.pk)
            video.delete()  # files go after commit (videos.signals)
            transaction.on_commit(
                lambda m=memorial_id, v=video_id: events.publish(m, "video.deleted", video_id=v)
            )


def _recording_items(recordings) -> list[Item]:
    return [
        Item("recording", str(r.pk), str(r.memorial_id), str(r))
        for r in recordings.order_by("created_at", "pk")
    ]


class RecordingHandler:
    """Voice recordings: a family's uploads (not generated), removable by a takedown, by their
    uploader or an owner, and by withdrawing voice consent, each time with the videos that speak
    them."""

    kind = "recording"
    #: Kept only while consent covers the voice (moderation.items.kept_under_consent).
    consent_scope = Scope.VOICE

    def find(self, ids: list[str]) -> list[Item]:
        return _recording_items(VoiceRecording.objects.filter(pk__in=uuids(ids)))

    def uploads_of(self, memorial_id) -> list[Item]:
        return _recording_items(VoiceRecording.objects.filter(memorial_id=memorial_id))

    def stored_under(self, ref: dict) -> list[str]:
        return [f"memorials/{ref['memorial']}/voice/{ref['id']}"]

    def derived(self, item: Item) -> list[Item]:
        return _items(Video.objects.filter(voice_recording_id__in=uuids([item.id])))

    def generated_of(self, memorial_id) -> list[Item]:
        return []  # uploads, like the family's photos: removed only when asked

    def hide(self, items: list[Item]) -> None:
        """Nothing shows a recording by itself; the videos made with it are hidden with them."""

    def delete(self, items: list[Item]) -> None:
        for recording in VoiceRecording.objects.filter(pk__in=uuids(i.id for i in items)):
            recording.delete()  # the file goes after commit (videos.signals)


def videos_of_photo(item: Item) -> list[Item]:
    """Talking portraits of the photo or with its mouth, and films that cross-fade from or to
    it."""
    [pk] = uuids([item.id]) or [None]
    if pk is None:
        return []
    text = str(pk)
    return _items(
        Video.objects.filter(
            Q(source_photo_id=pk)
            | Q(parameters__mouth_photo=text)
            | Q(parameters__start_photo=text)
            | Q(parameters__end_photo=text)
        )
    )


def videos_of_model(item: Item) -> list[Item]:
    """Films made by a trained model (a "model" item is a ModelVersion)."""
    return _items(Video.objects.filter(source_model_id__in=uuids([item.id])))


registry.register(VideoHandler())
registry.register(RecordingHandler())
if hasattr(registry, "add_deriver"):
    registry.add_deriver("photo", videos_of_photo)
    registry.add_deriver("model", videos_of_model)
