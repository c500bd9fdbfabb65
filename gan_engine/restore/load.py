"""Read a photo for restoring: upright, RGB, as floats in [0, 1] at the file's own precision.

A 16-bit scan keeps its 16 bits up to the point where a model needs 8; every step works on
floats so that blending (fidelity) and inpainting do not round twice.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
from PIL import Image, ImageOps

from gan_engine.errors import DataError

MIN_SIDE = 16


def load_photo(path: str | os.PathLike[str], max_pixels: int = 100_000_000) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; DataError with a plain sentence when it cannot be used."""
    try:
        image = Image.open(path)
        if image.width * image.height > max_pixels:
            raise DataError(
                f"This photo has {image.width * image.height / 1e6:.0f} megapixels, more than "
                f"the {max_pixels / 1e6:.0f} that can be restored."
            )
        image.load()
    except DataError:
        raise
    except Exception:
        raise DataError("This file could not be read as a photo; it may be damaged.") from None
    return from_pil(image)


def from_pil(image: Image.Image) -> np.ndarray:
    """Floats in [0, 1] from any Pillow mode (16-bit greyscale included), upright."""
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    if min(image.size) < MIN_SIDE:
        raise DataError(
            f"This photo is {image.width}×{image.height} pixels; at least {MIN_SIDE} pixels on "
            "each side are needed to restore it."
        )
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        grey = np.clip(array / peak, 0, 1)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


#: Rows converted at a time by :func:`to_uint8`, so a 48-megapixel result needs no full-size float
#: temporaries (each would be 576 MB) besides itself.
BAND_ROWS = 256


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] to 8-bit, rounded; in bands of rows."""
    out = np.empty(image.shape, np.uint8)
    for top in range(0, image.shape[0], BAND_ROWS):
        band = image[top : top + BAND_ROWS] * 255.0
        band += 0.5
        np.clip(band, 0, 255, out=band)
        out[top : top + BAND_ROWS] = band
    return out
