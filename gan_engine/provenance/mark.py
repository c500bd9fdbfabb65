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
    if picture is image:
        picture = picture.copy()
    mark_in_place(picture, corner, text)
    return picture


def mark_in_place(picture: Image.Image, corner: str | None, text: str = TEXT) -> None:
    """Draw ``text`` in ``corner`` of an RGB ``picture`` itself (nothing when ``corner`` is None).

    Only the plate's own rectangle is composited, so a 48-megapixel picture costs no full-size
    overlay."""
    if corner is None:
        return
    if corner not in CORNERS:
        raise ValueError(f"unknown corner {corner!r}; use one of {', '.join(CORNERS)}")
    size = max(8, picture.height // 22)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font
    )
    pad, margin = max(2, size // 4), max(2, size // 3)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x = margin if corner.endswith("left") else picture.width - box_w - margin
    y = margin if corner.startswith("top") else picture.height - box_h - margin
    area = (
        max(0, x),
        max(0, y),
        min(picture.width, x + box_w + 1),
        min(picture.height, y + box_h + 1),
    )
    overlay = Image.new("RGBA", (area[2] - area[0], area[3] - area[1]), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    ox, oy = x - area[0], y - area[1]
    draw.rectangle((ox, oy, ox + box_w, oy + box_h), fill=(0, 0, 0, 150))
    draw.text((ox + pad - left, oy + pad - top), text, font=font, fill=(255, 255, 255, 235))
    patch = picture.crop(area).convert("RGBA")
    picture.paste(Image.alpha_composite(patch, overlay).convert("RGB"), area[:2])
