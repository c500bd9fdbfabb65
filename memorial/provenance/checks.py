"""Check any uploaded file for this instance's provenance: C2PA manifest and watermark.

The watermark is read from images and from MP4 videos (their watermarked frames, decoded with the
bundled ffmpeg); anything else that Pillow cannot open (a broken file, another video format) is
reported as "not checked" for the watermark, never as an error.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from gan_engine.provenance import verify
from gan_engine.provenance.c2pa_sign import Verification
from gan_engine.provenance.watermark import detect
from gan_engine.video.readback import is_mp4, watermark_frames
from memorial import policy
from memorial.provenance.authority import instance


@dataclass(frozen=True)
class Result:
    c2pa: Verification
    watermark: bool | None  # None: not an image we could read
    agreement: float
    photo: object | None = None  # the gallery item, for members allowed to see it


def _image(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.width * picture.height > settings.UPLOAD_MAX_PIXELS:
                return None
            picture.load()
        return picture
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return None  # not an image (a video, a broken file), or too large to decode safely


#: Other apps' lookups of the item a trusted manifest names (``generation`` dict, user) → an
#: object with ``get_absolute_url`` the user may view, or None; e.g. the videos app's.
ITEM_FINDERS: list[Callable[[dict, object], object | None]] = []


def register_item_finder(finder: Callable[[dict, object], object | None]) -> None:
    """Let another app (videos) link the items it signs from the verify page."""
    if finder not in ITEM_FINDERS:
        ITEM_FINDERS.append(finder)


def _item(c2pa: Verification, user) -> object | None:
    """The generated item a trusted manifest names, if ``user`` may view it."""
    from memorial.jobs.models import GeneratedImage

    if c2pa.verdict != "trusted":
        return None
    for finder in ITEM_FINDERS:
        found = finder(c2pa.generation, user)
        if found is not None:
            return found
    job_id, _, seed = str(c2pa.generation.get("item", "")).partition("/")
    try:
        job_uuid, seed_number = uuid.UUID(job_id), int(seed)
    except ValueError:
        return None
    found = (
        GeneratedImage.objects.select_related("photo__memorial")
        .filter(job_id=job_uuid, seed=seed_number)
        .first()
    )
    if found is None or found.photo.hidden:
        return None
    return found.photo if policy.allows(user, policy.Action.VIEW_PHOTOS, found.photo) else None


def _watermark(data: bytes, instance_id: str) -> tuple[bool | None, float]:
    """Whether the image, or any watermarked frame of an MP4, carries this instance's mark."""
    picture = _image(data)
    if picture is not None:
        return detect(picture, instance_id)
    if not is_mp4(data):
        return None, 0.0
    frames = watermark_frames(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    if not frames:
        return None, 0.0
    results = [detect(frame, instance_id) for frame in frames]
    return any(found for found, _ in results), max(agreement for _, agreement in results)


def check(data: bytes, user) -> Result:
    me = instance()
    c2pa = verify(data, "video/mp4" if is_mp4(data) else None, me.authority.ca_cert)
    found, agreement = _watermark(data, me.id)
    return Result(c2pa, found, agreement, _item(c2pa, user))
