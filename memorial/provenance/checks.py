"""Check any uploaded file for this instance's provenance: C2PA manifest and watermark.

The watermark is read from images only; a picture Pillow cannot open (a video, a broken file) is
reported as "not checked" for the watermark, never as an error.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from gan_engine.provenance import verify
from gan_engine.provenance.c2pa_sign import Verification
from gan_engine.provenance.watermark import detect
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


def _item(c2pa: Verification, user) -> object | None:
    """The generated photo a trusted manifest names, if ``user`` may view it."""
    from memorial.jobs.models import GeneratedImage

    if c2pa.verdict != "trusted":
        return None
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


def check(data: bytes, user) -> Result:
    me = instance()
    c2pa = verify(data, None, me.authority.ca_cert)
    picture = _image(data)
    found, agreement = (None, 0.0) if picture is None else detect(picture, me.id)
    return Result(c2pa, found, agreement, _item(c2pa, user))
