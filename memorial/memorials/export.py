"""Everything of a memorial as one zip, streamed: the family's own copy before retiring it.

The zip holds the original uploaded photos (``photos/``), the generated images and videos in
their own folder (``AI-generated/``, the label also in each name), the voice recordings
(``recordings/``), each named as a person would look for it (``export_names``: date, a few
words of the caption, a counter; folder names in the reader's language), and a
``manifest.json`` describing the memorial and every file (caption, date, place, tags, kind,
``ai_made``, SHA-256; for generated items the model, caption, seed and
the "AI-generated" label), plus the consent records' metadata (never their evidence files).
Files are read from storage in chunks while the zip is sent (zipstream-ng), so memory use does
not grow with the memorial's size; the manifest comes last, with checksums computed from the
bytes actually sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.apps import apps
from django.core.files import File
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from zipstream import ZipStream

from memorial.memorials import gentle
from memorial.memorials.export_names import Namer
from memorial.memorials.models import Memorial, Photo, PhotoKind

CHUNK = 1024 * 1024
AI_LABEL = "AI-generated"
MANIFEST_VERSION = 1


@dataclass
class Entry:
    """One file of the zip and what the manifest says about it."""

    path: str
    field: File
    meta: dict[str, Any]
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0

    def chunks(self) -> Iterator[bytes]:
        """The stored bytes, hashed on the way out."""
        with self.field.storage.open(self.field.name, "rb") as handle:
            while chunk := handle.read(CHUNK):
                self.digest.update(chunk)
                self.size += len(chunk)
                yield chunk

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            **self.meta,
            "sha256": self.digest.hexdigest(),
            "size": self.size,
        }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _suffix(name: str, default: str) -> str:
    return PurePosixPath(name).suffix.lower()[:8] or default


def ai_folder() -> str:
    return _("AI-generated")


def ai_label() -> str:
    return _("(AI-generated)")


def photo_entries(memorial: Memorial, namer: Namer) -> list[Entry]:
    photos = (
        Photo.objects.filter(memorial=memorial, hidden=False)
        .select_related("generation", "generation__model_version")
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )
    entries = []
    for photo in photos:
        meta: dict[str, Any] = {
            "id": str(photo.pk),
            "kind": photo.kind,
            "caption": photo.caption,
            "date": _iso(photo.taken_on),
            "place": photo.place,
            "tags": sorted(t.name for t in photo.tags.all()),
            "content_type": photo.content_type,
            "width": photo.width,
            "height": photo.height,
            "added_at": _iso(photo.created_at),
        }
        meta["ai_made"] = photo.is_ai_made
        if photo.kind == PhotoKind.RESTORED:
            meta.update(label="AI-restored", restored_from=str(photo.restored_from_id or ""))
            path = namer.path(
                ai_folder(),
                photo.caption,
                ".png",
                fallback=_("photo"),
                label=_("(AI-restored)"),
            )
        elif photo.kind == PhotoKind.GENERATED:
            generation = getattr(photo, "generation", None)
            meta.update(
                label=AI_LABEL,
                generation={
                    "model_version": str(generation.model_version_id)
                    if generation and generation.model_version_id
                    else None,
                    "caption": generation.caption if generation else photo.caption,
                    "seed": generation.seed if generation else None,
                },
            )
            path = namer.path(
                ai_folder(),
                photo.caption,
                _suffix(photo.image.name, ".png"),
                fallback=_("photo"),
                label=ai_label(),
            )
        else:
            meta["original_filename"] = photo.original_filename
            path = namer.path(
                _("photos"),
                photo.caption,
                _suffix(photo.image.name, ".jpg"),
                date=photo.taken_on,
                fallback=_("photo"),
            )
        entries.append(Entry(path, photo.image, meta))
    return entries


def video_entries(memorial: Memorial, namer: Namer) -> list[Entry]:
    """Generated videos, when the videos app is installed."""
    if not apps.is_installed("memorial.videos"):
        return []
    Video = apps.get_model("videos", "Video")
    entries = []
    for video in Video.objects.filter(memorial=memorial, hidden=False).order_by("created_at", "pk"):
        meta = {
            "id": str(video.pk),
            "kind": "video",
            "video_kind": video.kind,
            "ai_made": True,
            "label": AI_LABEL,
            "caption": ", ".join(c for c in video.parameters.get("captions", []) if c),
            "duration_seconds": video.duration,
            "width": video.width,
            "height": video.height,
            "added_at": _iso(video.created_at),
            "generation": {
                "model_version": str(video.source_model_id) if video.source_model_id else None,
                "source_photo": str(video.source_photo_id) if video.source_photo_id else None,
                "seed": video.seed,
            },
        }
        path = namer.path(
            ai_folder(),
            meta["caption"],
            _suffix(video.file.name, ".mp4"),
            fallback=str(video.get_kind_display()),
            label=ai_label(),
        )
        entries.append(Entry(path, video.file, meta))
    return entries


def recording_entries(memorial: Memorial, namer: Namer) -> list[Entry]:
    """The family's voice recordings (uploads, not generated), when the videos app is installed."""
    if not apps.is_installed("memorial.videos"):
        return []
    VoiceRecording = apps.get_model("videos", "VoiceRecording")
    entries = []
    for recording in VoiceRecording.objects.filter(memorial=memorial).order_by("created_at", "pk"):
        meta = {
            "id": str(recording.pk),
            "kind": "recording",
            "original_filename": recording.original_filename,
            "content_type": recording.content_type,
            "duration_seconds": recording.duration,
            "added_at": _iso(recording.created_at),
        }
        path = namer.path(
            _("recordings"),
            PurePosixPath(recording.original_filename).stem,
            _suffix(recording.file.name, ".audio"),
            fallback=_("voice recording"),
        )
        entries.append(Entry(path, recording.file, meta))
    return entries


def consent_metadata(memorial: Memorial) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.pk),
            "attester_name": r.attester_name,
            "relationship": r.relationship,
            "basis": r.basis,
            "scopes": list(r.scopes),
            "statement": r.statement,
            "status": r.status,
            "has_evidence": bool(r.evidence),  # the evidence file itself is not exported
            "recorded_at": _iso(r.created_at),
            "status_changed_at": _iso(r.status_changed_at),
            "review_reason": r.review_reason,
        }
        for r in memorial.consent_records.order_by("created_at", "pk")
    ]


def _counts(memorial: Memorial) -> dict[str, Any]:
    counted = gentle.counts(memorial)
    return {
        "photos": counted.real,
        "ai_photos": counted.ai_photos,
        "videos": counted.videos,
        "label": counted.label,
    }


def memorial_metadata(memorial: Memorial) -> dict[str, Any]:
    return {
        "id": str(memorial.pk),
        "name": memorial.name,
        "birth_date": _iso(memorial.birth_date),
        "death_date": _iso(memorial.death_date),
        "biography": memorial.biography,
        "cover_photo": str(memorial.cover_photo_id) if memorial.cover_photo_id else None,
        "mark_position": memorial.mark_position,
        # Real and AI-made items counted apart, as on every page ("30 photos · 4 AI-made").
        "counts": _counts(memorial),
        "ai_features": {
            feature.value: gentle.feature_enabled(memorial, feature) for feature in gentle.AIFeature
        },
        "archived_at": _iso(memorial.archived_at),
        "delete_after": _iso(memorial.delete_after),
        "created_at": _iso(memorial.created_at),
    }


def filename(memorial: Memorial) -> str:
    return f"memorial-{slugify(memorial.name) or memorial.pk}-{timezone.localdate():%Y-%m-%d}.zip"


def build(memorial: Memorial) -> ZipStream:
    """The zip as a lazy stream: iterate it to produce the bytes."""
    namer = Namer()
    listed = (
        photo_entries(memorial, namer)
        + video_entries(memorial, namer)
        + recording_entries(memorial, namer)
    )
    # A file lost from storage must not break the download half-way: list it as missing instead.
    entries: list[Entry] = []
    missing: list[dict[str, Any]] = []
    for entry in listed:
        if entry.field.storage.exists(entry.field.name):
            entries.append(entry)
        else:
            missing.append({"path": entry.path, **entry.meta})
    memorial_meta = memorial_metadata(memorial)
    consent = consent_metadata(memorial)
    stream = ZipStream(sized=False)
    for entry in entries:
        stream.add(entry.chunks(), entry.path)

    def manifest() -> Iterator[bytes]:
        # Read when the zip reaches it, after every file above was sent and hashed.
        document = {
            "format": "memorial-export",
            "version": MANIFEST_VERSION,
            "exported_at": timezone.now().isoformat(),
            "memorial": memorial_meta,
            "files": [entry.describe() for entry in entries],
            "consent_records": consent,
            "missing_files": missing,
        }
        yield json.dumps(document, ensure_ascii=False, indent=2).encode()

    stream.add(manifest(), "manifest.json")
    return stream
