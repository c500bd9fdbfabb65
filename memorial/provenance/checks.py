"""Check any uploaded file for this instance's provenance: C2PA manifest and watermark.

The watermark is read from images and from MP4 videos (their watermarked frames, decoded with the
bundled ffmpeg); anything else that Pillow cannot open (a broken file, another video format) is
reported as "not checked" for the watermark, never as an error.

The page is public, so every check is bounded: a file larger than the caller's :class:`Limits`, or
a picture whose header declares more pixels than that, is refused before anything is decoded
(:func:`refusal`), and the watermark is read from a window of about a megapixel
(:func:`gan_engine.provenance.watermark.decoding_window`). :func:`inspect` touches no database,
so the page can run it in its own bounded thread pool.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image

from gan_engine.provenance import verify
from gan_engine.provenance.c2pa_sign import Verification
from gan_engine.provenance.watermark import detect
from gan_engine.video.readback import is_mp4, watermark_frames
from memorial import policy
from memorial.provenance.authority import instance


@dataclass(frozen=True)
class Finding:
    """What the file itself says, found without the database."""

    c2pa: Verification
    watermark: bool | None  # None: not an image we could read
    agreement: float


@dataclass(frozen=True)
class Result:
    c2pa: Verification
    watermark: bool | None  # None: not an image we could read
    agreement: float
    photo: object | None = None  # the gallery item, for members allowed to see it


@dataclass(frozen=True)
class Limits:
    """The largest file and picture one check may take on."""

    max_bytes: int
    max_pixels: int


def limits_for(user) -> Limits:
    """Anyone may check a photo-sized file; signed-in members as much as they may upload."""
    if getattr(user, "is_authenticated", False):
        return Limits(settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_PIXELS)
    return Limits(settings.PROVENANCE_VERIFY_MAX_BYTES, settings.PROVENANCE_VERIFY_MAX_PIXELS)


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the picture's header (Pillow opens lazily: nothing is decoded);
    None for anything that is not a picture. Raises DecompressionBombError for absurd sizes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:
                return picture.size
    except (OSError, ValueError, SyntaxError):
        return None


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def refusal(size: int, data: bytes, limits: Limits) -> str | None:
    """Why this file is too large to check, in words for the person who sent it; None if it fits.

    ``size`` is the upload's size as received; ``data`` at most its first ``max_bytes + 1``."""
    if size > limits.max_bytes:
        return _("The file is %(size)s; files up to %(limit)s can be checked here.") % {
            "size": filesizeformat(size),
            "limit": filesizeformat(limits.max_bytes),
        }
    limit = _megapixels(limits.max_pixels)
    try:
        declared = _declared_size(data)
    except Image.DecompressionBombError:
        return _(
            "The picture is larger than %(limit)s megapixels, the most that can be checked here."
        ) % {"limit": limit}
    if declared is None or declared[0] * declared[1] <= limits.max_pixels:
        return None
    width, height = declared
    return _(
        "The picture is %(width)s × %(height)s pixels (%(megapixels)s megapixels); pictures up to "
        "%(limit)s megapixels can be checked here."
    ) % {
        "width": width,
        "height": height,
        "megapixels": _megapixels(width * height),
        "limit": limit,
    }


def _image(data: bytes, max_pixels: int) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.width * picture.height > max_pixels:
                return None  # checked before decoding: the header says how large it is
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
    job_id, _slash, seed = str(c2pa.generation.get("item", "")).partition("/")
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


def _watermark(data: bytes, instance_id: str, max_pixels: int) -> tuple[bool | None, float]:
    """Whether the image, or any watermarked frame of an MP4, carries this instance's mark."""
    picture = _image(data, max_pixels)
    if picture is not None:
        return detect(picture, instance_id)
    if not is_mp4(data):
        return None, 0.0
    frames = watermark_frames(data, max_pixels=max_pixels)
    if not frames:
        return None, 0.0
    results = [detect(frame, instance_id) for frame in frames]
    return any(found for found, _a in results), max(agreement for _f, agreement in results)


def inspect(data: bytes, max_pixels: int) -> Finding:
    """The file's C2PA verdict and watermark; reads the instance's files, never the database."""
    me = instance()
    c2pa = verify(data, "video/mp4" if is_mp4(data) else None, me.authority.ca_cert)
    found, agreement = _watermark(data, me.id, max_pixels)
    return Finding(c2pa, found, agreement)


def result_for(finding: Finding, user) -> Result:
    """The finding, with the gallery item it names when ``user`` may see it (database)."""
    return Result(finding.c2pa, finding.watermark, finding.agreement, _item(finding.c2pa, user))


def check(data: bytes, user) -> Result:
    return result_for(inspect(data, limits_for(user).max_pixels), user)
