"""The visible disclosure: a small "AI-generated" label burned into a corner of a picture.

Drawn with Pillow's built-in font (no font files to ship), on a translucent dark plate so that it
reads on any background; sized relative to the picture so it stays small but legible.
"""

from __future__ import annotations

from typing import Literal

from PIL import Image, ImageDraw, ImageFont

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
CORNERS: tuple[str, ...] = ("bottom-right", "bottom-left", "top-right", "top-left")
TEXT = "AI-generated"


def burn_mark(
    image: Image.Image, corner: str | None = "bottom-right", text: str = TEXT
) -> Image.Image:
    """A copy of ``image`` with ``text`` in ``corner``; unchanged copy when ``corner`` is None."""
    picture = image.convert("RGB")
    if corner is None:
        return picture.copy()
    if corner not in CORNERS:
        raise ValueError(f"unknown corner {corner!r}; use one of {', '.join(CORNERS)}")
    size = max(8, picture.height // 22)
    font = ImageFont.load_default(size=size)
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad, margin = max(2, size // 4), max(2, size // 3)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x = margin if corner.endswith("left") else picture.width - box_w - margin
    y = margin if corner.startswith("top") else picture.height - box_h - margin
    draw.rectangle((x, y, x + box_w, y + box_h), fill=(0, 0, 0, 150))
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=(255, 255, 255, 235))
    return Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
