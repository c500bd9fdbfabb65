"""Decode an uploaded picture safely and normalise it for storage.

Decoding is by content, never by file name. Everything made here is plain sRGB
RGB JPEG with no metadata (EXIF, GPS, XMP, ICC, comments), upright by its EXIF
orientation, in three sizes made once: the full image, a display size and a
thumbnail. The stored original is the upload's own pixels where its format
allows (`originals`); the full JPEG here stands in for it where it does not.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "HEIF"}
DISPLAY_EDGE = 1600
THUMB_EDGE = 480
SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(ValueError):
    """The bytes are not a picture we can take; `message` is written for a person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    suffix: str = ".jpg"
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class NormalisedImage:
    full: Rendition
    display: Rendition
    thumbnail: Rendition
    source_format: str


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # Pillow refuses before we see the size: still a picture, just far too many pixels.
        raise ImageRejected(_too_many_pixels(str(exc), max_pixels), 413) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            "This file is not a picture Memorial can read. Use JPEG, PNG, WebP, GIF, TIFF or HEIC.",
            415,
        ) from None
    except Exception:
        raise ImageRejected(
            "This file could not be read as a picture; it may be damaged."
        ) from None
    if image.format not in ALLOWED_FORMATS:
        raise ImageRejected(
            f"{image.format} files are not accepted. Use JPEG, PNG, WebP, GIF, TIFF or HEIC.", 415
        )
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("This picture has no pixels.")
    if width * height > max_pixels:
        raise ImageRejected(
            f"This picture is {width}×{height} pixels, more than the limit of "
            f"{max_pixels / 1_000_000:.0f} megapixels. Please upload a smaller version.",
            413,
        )
    return image


def _too_many_pixels(pillow_message: str, max_pixels: int) -> str:
    found = re.search(r"\((\d+) pixels\)", pillow_message)
    size = f"{int(found.group(1)) / 1_000_000:,.0f} megapixels" if found else "too many pixels"
    return (
        f"This picture has {size}, more than the limit of {max_pixels / 1_000_000:.0f} "
        "megapixels. Please upload a smaller version."
    )


def _decode(image: Image.Image) -> Image.Image:
    """Load the first frame fully; a truncated or corrupt file fails here, not later."""
    try:
        image.seek(0)
        image.load()
    except Exception:
        raise ImageRejected(
            "This picture is damaged or incomplete (the file may have been cut short). "
            "Please upload it again from the original."
        ) from None
    return image


def _to_srgb_rgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array * (255.0 / peak), 0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    if icc and image.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(
                image, source, SRGB, outputMode="RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            image = image.convert("RGB")
    if image.mode == "CMYK" and not icc:
        # Adobe's CMYK JPEGs store inverted values; Pillow already accounts for that on decode.
        image = image.convert("RGB")
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def _encode(image: Image.Image, quality: int, *, small: bool = True) -> Rendition:
    """JPEG without metadata. Huffman optimisation and progressive scans pay off for the
    sizes browsers fetch often; on the full-size keeper they cost more time than bytes."""
    buffer = io.BytesIO()
    clean = Image.new("RGB", image.size)
    clean.paste(image)  # a fresh image carries no info dict: no EXIF, XMP, ICC or comments
    clean.save(
        buffer,
        "JPEG",
        quality=quality,
        optimize=small,
        progressive=small,
        subsampling=0 if quality >= 90 else 2,
    )
    return Rendition(buffer.getvalue(), clean.width, clean.height)


def _resized(image: Image.Image, edge: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return copy


def normalise(data: bytes, max_pixels: int) -> NormalisedImage:
    """Decode `data` and return the three renditions to store, or raise ImageRejected."""
    image = _open(data, max_pixels)
    source_format = image.format or ""
    image = _decode(image)
    # A broken EXIF block must not cost the family the photo: keep it as stored.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    image = _to_srgb_rgb(image)
    display = _resized(image, DISPLAY_EDGE)
    return NormalisedImage(
        full=_encode(image, 95, small=False),
        display=_encode(display, 88),
        thumbnail=_encode(_resized(display, THUMB_EDGE), 82),  # from the display size: cheaper
        source_format=source_format,
    )
