"""Pictures made on the fly for tests, and real ones from ../shared/data when present."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
#: Set to 1 to run as on a fresh clone: every test takes its fallback (made or packaged) data.
WITHOUT_SHARED_ENV = "MEMORIAL_TEST_WITHOUT_SHARED"


def shared_data() -> Path:
    """../shared/data beside the checkout, or a folder that never exists when
    MEMORIAL_TEST_WITHOUT_SHARED=1, so every `is_dir()` check below takes its fallback and a
    fresh clone's path can be tested on a machine that has the shared data."""
    if os.environ.get(WITHOUT_SHARED_ENV, "") not in ("", "0"):
        return ROOT / "tests" / ".shared-data-hidden"  # never created
    return ROOT.parent / "shared" / "data"


SHARED_DATA = shared_data()
SHARED_FACES = SHARED_DATA / "faces" / "lfw"
SHARED_AUDIO = SHARED_DATA / "audio"


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


def packaged_face(variant: int = 0, side: int = 250) -> Image.Image:
    """A real face photo that ships with scikit-image (its astronaut), cut to a head-and-shoulders
    portrait of ``side`` px like LFW's photos; each ``variant`` is a slightly different crop
    (and every other one mirrored), so tests get distinct photos of one person.

    The whole astronaut picture is no stand-in for a portrait: its badge passes for a second
    face, and its small face leaves a video crop room to grow."""
    from skimage import data

    left, top = 100 + 6 * (variant % 4), 4 * (variant % 3)  # the face ~40 % wide, as in LFW
    crop = Image.fromarray(data.astronaut()).crop((left, top, left + 230, top + 230))
    crop = crop.resize((side, side), Image.Resampling.LANCZOS)
    return crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if variant % 2 else crop


def another_person(variant: int = 0) -> Image.Image:
    """A real photo of someone who is neither the astronaut nor anyone in the shared LFW folders:
    Grace Hopper, from matplotlib's bundled sample data (a U.S. Navy portrait). Tests that need a
    second person use her with or without ``../shared``; each ``variant`` is another crop."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    whole = Image.open(path).convert("RGB")  # 512 x 600, the face about 190 px wide
    if variant == 0:
        return whole
    left, top = 40 + 10 * (variant % 4), 20 + 8 * (variant % 3)
    crop = whole.crop((left, top, left + 440, top + 440))
    return crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if variant % 2 else crop
