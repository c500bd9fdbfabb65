"""Take one uploaded file into a memorial: check it, normalise it, store it, record it.

All or nothing: the files are written first, the database row last, and any
failure removes what was written, and on local disk the photo's own folder with
them. Safe to retry: the same bytes again are a duplicate, reported with the
photo that already holds them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from memorial.memorials import events
from memorial.memorials.imaging import ImageRejected, Rendition, normalise
from memorial.memorials.models import Photo, PhotoKind, Tag, photo_path
from memorial.memorials.originals import keep_original

log = logging.getLogger(__name__)
MAX_NAME = 200
MAX_TAGS = 20


class UploadRejected(Exception):
    """Why one file was refused, for the person who sent it, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400, existing: Photo | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.existing = existing


def clean_filename(name: str | None) -> str:
    """Keep a readable name for display; drop folders, control characters and excess length."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        name = (stem if dot else name)[: MAX_NAME - len(ext) - 1].rstrip() + (
            "." + ext if ext else ""
        )
    return name or "photo"


def clean_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = re.sub(r"\s+", " ", str(tag)).strip()[:50]
        if tag:
            seen.setdefault(tag.lower(), None)
    return list(seen)[:MAX_TAGS]


def _duplicate_message(existing: Photo) -> str:
    return _("This photo is already in the memorial as “%(name)s” (added %(date)s).") % {
        "name": existing.original_filename or existing.caption or str(existing.pk),
        "date": date_format(existing.created_at, "DATE_FORMAT"),
    }


def _read_upload(uploaded, limit: int) -> bytes:
    size = getattr(uploaded, "size", None)
    if size == 0:
        raise UploadRejected(_("The file is empty."))
    if size is not None and size > limit:
        raise UploadRejected(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            413,
        )
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    if not data:
        raise UploadRejected(_("The file is empty."))
    if len(data) > limit:
        raise UploadRejected(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)},
            413,
        )
    return data


def ingest_photo(
    *,
    memorial,
    uploaded,
    user,
    attested: bool,
    caption: str = "",
    taken_on: date | None = None,
    place: str = "",
    tags: Iterable[str] = (),
    kind: str = PhotoKind.UPLOADED,
    restored_from: Photo | None = None,
) -> Photo:
    """Store one uploaded photo in `memorial` or raise UploadRejected (nothing stored).

    Engine-made files (generated, restored) may be up to four times the upload size limit: an
    enlarged, signed PNG is larger than the photo it came from."""
    if not attested:
        raise UploadRejected(_("Please confirm that you have the right to share these photos."))
    data = _read_upload(
        uploaded, settings.UPLOAD_MAX_BYTES * (1 if kind == PhotoKind.UPLOADED else 4)
    )
    digest = hashlib.sha256(data).hexdigest()
    existing = Photo.objects.filter(memorial=memorial, sha256=digest).first()
    if existing:
        raise UploadRejected(_duplicate_message(existing), 409, existing)
    try:
        image = normalise(data, settings.UPLOAD_MAX_PIXELS)
    except ImageRejected as exc:
        raise UploadRejected(_(exc.message), exc.status) from None
    full = image.full
    if kind != PhotoKind.UPLOADED and image.source_format == "PNG":
        # Keep the engine's PNG byte for byte: rewriting would drop its C2PA signature.
        full = Rendition(data, full.width, full.height, ".png", "image/png")
    else:
        # The family's own pixels, losslessly, without private metadata (where the format allows).
        full = keep_original(data, image.source_format, full.width, full.height) or full

    photo = Photo(
        id=uuid.uuid4(),
        memorial=memorial,
        kind=kind,
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        content_type=full.content_type,
        width=full.width,
        height=full.height,
        file_size=len(full.data),
        sha256=digest,
        original_filename=clean_filename(getattr(uploaded, "name", "")),
        caption=(caption or "").strip()[:1000],
        taken_on=taken_on,
        place=(place or "").strip()[:200],
        attested_rights=True,
        restored_from=restored_from,
    )
    written: list[str] = []
    try:
        for field, rendition, stem in (
            ("image", full, "original"),
            ("display", image.display, "display"),
            ("thumbnail", image.thumbnail, "thumb"),
        ):
            name = default_storage.save(
                photo_path(photo, stem + rendition.suffix), ContentFile(rendition.data)
            )
            written.append(name)
            getattr(photo, field).name = name
        with transaction.atomic():
            photo.save(force_insert=True)
            names = clean_tags(tags)
            if names:
                for name in names:
                    Tag.objects.get_or_create(memorial=memorial, name=name)
                photo.tags.set(Tag.objects.filter(memorial=memorial, name__in=names))
    except IntegrityError:
        _remove(written, photo)
        existing = Photo.objects.filter(memorial=memorial, sha256=digest).first()
        if existing is None:
            raise
        raise UploadRejected(_duplicate_message(existing), 409, existing) from None
    except BaseException:
        _remove(written, photo)
        raise
    transaction.on_commit(
        lambda: events.publish(memorial.pk, "photo.created", photo_id=str(photo.pk))
    )
    return photo


def _remove(names: list[str], photo: Photo) -> None:
    """Undo a failed upload: its files, then its own folder."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # best effort clean-up; the original error matters more
            log.exception("could not remove %s after a failed upload", name)
    _remove_empty_folder(photo_path(photo, ""))


def _remove_empty_folder(name: str) -> None:
    """Remove the photo's folder on local disk if nothing is in it.

    Safe beside other uploads: the folder is named after this photo's new id, so no other upload
    writes there, and ``rmdir`` removes only an empty folder, atomically. The memorial's folders
    above it stay: another upload may be creating its own folder inside them at this moment.
    Object stores (S3) have no folders."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):  # not empty, or already gone
        os.rmdir(path)
