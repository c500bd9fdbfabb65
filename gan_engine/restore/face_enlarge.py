"""Faces keep their likeness when a photo is enlarged: the general enlarger for the photo, the
face enlarger Memorial trained (or plain Lanczos) inside each face.

Why: on the small faces of old prints, Real-ESRGAN draws sharp detail that is not the person's
(bench/restore_quality.py: dlib descriptor distance 0.47 for x4plus against Lanczos' 0.30). The
background, clothes and hair gain from its sharpening; the face loses who it is. So each face
found (dlib's HOG detector, on a copy of the photo sized for it) gets a feathered ellipse, a bit
larger than the detector's box so brows, hairline and jaw are inside, and within it the result is
the face enlarger's (gan_engine.restore.models: trained on faces to add only the detail the small
face supports; or the person's own, gan_engine.restore.personal), or Lanczos (optionally with a
mild unsharp mask), blended into the general result over the feather so no edge shows. Work is
per face, on the face's crop only, so a big scan costs no full-size copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np

from gan_engine.restore.load import to_uint8

FaceMethod = Literal["lanczos", "lanczos_unsharp", "network"]
#: The ellipse's half-axes as multiples of the detector box's half-width/half-height: the HOG box
#: runs from the brows to the chin; the descriptor's aligned crop reaches a little beyond it.
ELLIPSE_WIDTH = 1.5
ELLIPSE_HEIGHT = 1.7
#: The ellipse's centre moved up by this share of the box height (forehead and hairline).
RAISE = 0.12
#: The feather (Gaussian sigma) as a share of the box's size.
FEATHER = 0.12
#: Detection runs on a copy with at most this many pixels on its long side.
DETECT_SIDE = 1024
UNSHARP_SIGMA = 1.0
UNSHARP_AMOUNT = 0.5


@dataclass(frozen=True)
class Box:
    """A face in the source photo's pixels: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float


@lru_cache(maxsize=1)
def tools():
    from gan_engine.faces import FaceTools

    return FaceTools(max_detect_side=DETECT_SIDE)


def find_faces(image: np.ndarray, factor: int) -> list[Box]:
    """Faces in an HxWx3 float image, in its own pixels. A small photo is looked at enlarged
    (Lanczos, up to ``factor`` times) because the detector misses faces under about 40 px."""
    faces, scale = detect_enlarged(image, factor, describe=False)
    return [Box(*(v / scale for v in face.box)) for face in faces]


def detect_enlarged(image: np.ndarray, factor: int, describe: bool) -> tuple[list, float]:
    """dlib's faces in a copy of ``image`` enlarged up to ``factor`` times (at most
    ``DETECT_SIDE`` px on its long side), and that copy's scale."""
    height, width = image.shape[:2]
    scale = min(float(factor), DETECT_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    copy = cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4) if scale != 1 else image
    return tools().detect(to_uint8(copy), describe=describe), scale


def keep_faces(
    enlarged: np.ndarray,
    source: np.ndarray,
    factor: int,
    faces: list[Box],
    method: FaceMethod = "lanczos",
    net=None,
) -> np.ndarray:
    """``enlarged`` (the general enlarger's result, ``factor`` times ``source``) with each face
    replaced, over a feathered ellipse, by the likeness-keeping enlargement. In place.
    ``net``: for ``method="network"``, a face enlarger other than the shipped one (the
    person's own, gan_engine.restore.personal)."""
    out_h, out_w = enlarged.shape[:2]
    for face in faces:
        w, h = (face.right - face.left) * factor, (face.bottom - face.top) * factor
        cx = (face.left + face.right) / 2 * factor
        cy = (face.top + face.bottom) / 2 * factor - RAISE * h
        ax, ay = ELLIPSE_WIDTH * w / 2, ELLIPSE_HEIGHT * h / 2
        sigma = max(1.0, FEATHER * max(w, h))
        reach = 3 * sigma
        # The crop, in source pixels (so the output crop is exactly ``factor`` times it).
        x0 = max(0, int(np.floor((cx - ax - reach) / factor)))
        y0 = max(0, int(np.floor((cy - ay - reach) / factor)))
        x1 = min(source.shape[1], int(np.ceil((cx + ax + reach) / factor)))
        y1 = min(source.shape[0], int(np.ceil((cy + ay + reach) / factor)))
        if x1 <= x0 or y1 <= y0:
            continue
        gentle = _enlarge_crop(source, (x0, y0, x1, y1), factor, method, net)
        oy0, ox0 = y0 * factor, x0 * factor
        oy1, ox1 = min(out_h, oy0 + gentle.shape[0]), min(out_w, ox0 + gentle.shape[1])
        gentle = gentle[: oy1 - oy0, : ox1 - ox0]
        alpha = np.zeros(gentle.shape[:2], np.float32)
        centre = (round(cx - ox0), round(cy - oy0))
        cv2.ellipse(alpha, centre, (round(ax), round(ay)), 0, 0, 360, 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)[..., None]
        region = enlarged[oy0:oy1, ox0:ox1]
        region += alpha * (gentle - region)
    return enlarged


def _enlarge_crop(
    source: np.ndarray,
    crop: tuple[int, int, int, int],
    factor: int,
    method: FaceMethod,
    net=None,
) -> np.ndarray:
    """The crop enlarged ``factor`` times, computed with a margin so its edges match what the
    whole photo enlarged would give."""
    x0, y0, x1, y1 = crop
    margin = 8 if method == "network" else 4
    mx0, my0 = max(0, x0 - margin), max(0, y0 - margin)
    mx1, my1 = min(source.shape[1], x1 + margin), min(source.shape[0], y1 + margin)
    patch = np.ascontiguousarray(source[my0:my1, mx0:mx1], dtype=np.float32)
    if method == "network":
        from gan_engine.restore.models import enlarge_face

        big = enlarge_face(patch, factor, net)
    else:
        big = cv2.resize(
            patch, ((mx1 - mx0) * factor, (my1 - my0) * factor), interpolation=cv2.INTER_LANCZOS4
        )
    if method == "lanczos_unsharp":
        blurred = cv2.GaussianBlur(big, (0, 0), UNSHARP_SIGMA * factor / 2)
        big += UNSHARP_AMOUNT * (big - blurred)
    np.clip(big, 0, 1, out=big)
    top, left = (y0 - my0) * factor, (x0 - mx0) * factor
    return big[top : top + (y1 - y0) * factor, left : left + (x1 - x0) * factor]
