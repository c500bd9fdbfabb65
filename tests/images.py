"""Pictures made on the fly for tests, and real ones from ../shared/data when present."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
SHARED_FACES = ROOT.parent / "shared" / "data" / "faces" / "lfw"


def picture(width: int = 640, height: int = 480, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A distinct, photo-like picture per seed (gradient plus shapes), so hashes differ."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = (
            x0 + rng.randrange(10, max(11, width // 2)),
            y0 + rng.randrange(10, max(11, height // 2)),
        )
        draw.ellipse((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(seed: int = 0, width: int = 640, height: int = 480, **params) -> bytes:
    return encode(picture(width, height, seed), "JPEG", quality=90, **params)


def png(seed: int = 0, width: int = 320, height: int = 240) -> bytes:
    return encode(picture(width, height, seed), "PNG")


def real_face_photos(count: int) -> list[Path]:
    """Real photographs from the shared data set, or [] when it is not beside the checkout."""
    if not SHARED_FACES.is_dir():
        return []
    for person in sorted(p for p in SHARED_FACES.iterdir() if p.is_dir()):
        photos = sorted(person.glob("*.jpg"))
        if len(photos) >= count:  # one person, as a family's collection would be
            return photos[:count]
    return []
