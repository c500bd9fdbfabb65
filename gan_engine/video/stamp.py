"""Provenance on video frames: the visible "AI-generated" mark on every frame and the invisible
watermark on a regular subset of frames.

Why a subset: DWT-DCT-SVD embedding costs 20-80 ms per frame at 256-512 px on this CPU, which at
25 fps alone would take longer than real time; one marked frame every :data:`WATERMARK_EVERY`
frames (about twice a second) costs a few per cent, and any one decoded frame of those carries
the whole payload (BENCHMARKS.md, "Video"). Frames smaller than the watermark library's 256 px
minimum are upscaled (Lanczos) so the whole video keeps one size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import cv2
import numpy as np
from PIL import Image

from gan_engine.provenance import Provenance
from gan_engine.provenance.mark import burn_mark
from gan_engine.provenance.watermark import MIN_SIDE, Payload, embed

#: Watermark frames 0, k, 2k, ... (12: about twice a second at 24-30 fps).
WATERMARK_EVERY = 12


def marked_size(width: int, height: int) -> tuple[int, int]:
    """The frame size after provenance: the short side at least :data:`MIN_SIDE`, both even."""
    short = min(width, height)
    if short >= MIN_SIDE:
        return width, height
    factor = MIN_SIDE / short
    return (
        max(MIN_SIDE, round(width * factor / 2) * 2),
        max(MIN_SIDE, round(height * factor / 2) * 2),
    )


def is_watermarked(index: int) -> bool:
    """Whether frame ``index`` carries the invisible watermark."""
    return index % WATERMARK_EVERY == 0


def stamp(frames: Iterable[np.ndarray], provenance: Provenance) -> Iterator[np.ndarray]:
    """``frames`` (HxWx3 uint8 RGB) upscaled to ≥ 256 px if needed, every
    :data:`WATERMARK_EVERY`-th one watermarked, all with the visible mark (if any)."""
    payload = Payload.for_ids(provenance.instance_id, provenance.item_id)
    for index, frame in enumerate(frames):
        height, width = frame.shape[:2]
        size = marked_size(width, height)
        if size != (width, height):
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_LANCZOS4)
        picture = Image.fromarray(np.ascontiguousarray(frame), "RGB")
        if is_watermarked(index):
            picture = embed(picture, payload)
        if provenance.mark is not None:
            picture = burn_mark(picture, provenance.mark)
        yield np.asarray(picture)
