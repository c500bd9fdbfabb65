"""Covers painted over a real face's mouth, placed from its own 68 landmarks: a hand (skin of
the face's own cheek, finger gaps, softened edges) and a surgical mask (pale blue, pleats)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from gan_engine.video.face import find_faces


def _eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[42:48].mean(axis=0) - points[36:42].mean(axis=0)))


def hand(picture: Image.Image) -> Image.Image:
    """The picture with a hand held over the mouth of its largest face."""
    image = np.asarray(picture.convert("RGB"))
    points = find_faces(image)[0].points
    eye = _eye_distance(points)
    cheek = (points[2] + points[31]) / 2
    skin = tuple(int(v) for v in image[int(cheek[1]), int(cheek[0])])
    gap = tuple(int(v * 0.85) for v in skin)
    x, y = points[48:68].mean(axis=0)
    out = picture.convert("RGB")
    draw = ImageDraw.Draw(out)
    draw.ellipse((x - eye, y - 0.45 * eye, x + eye, y + 0.55 * eye), fill=skin)
    for finger in range(3):
        top = y - 0.2 * eye + finger * 0.22 * eye
        draw.line((x - 0.9 * eye, top, x + 0.9 * eye, top + 0.05 * eye), fill=gap,
                  width=max(1, int(0.03 * eye)))  # fmt: skip
    return out.filter(ImageFilter.GaussianBlur(1))


def mask(picture: Image.Image) -> Image.Image:
    """The picture with a surgical mask from the bridge of the nose to the chin."""
    points = find_faces(np.asarray(picture.convert("RGB")))[0].points
    eye = _eye_distance(points)
    top, bottom = points[29][1], points[8][1]
    left, right = points[3][0], points[13][0]
    out = picture.convert("RGB")
    draw = ImageDraw.Draw(out)
    draw.rounded_rectangle((left, top, right, bottom), radius=int(0.3 * eye), fill=(170, 200, 225))
    for pleat in range(1, 4):
        level = top + (bottom - top) * pleat / 4
        draw.line((left, level, right, level), fill=(150, 180, 205), width=max(1, int(0.03 * eye)))
    return out
