"""Find scratches and specks, and fill them.

Two detectors and two fills. By default both are networks Memorial trained on synthetic damage
over LFW's general corpus (gan_engine.restore.networks, weights in
gan_engine/restore/weights/restore-*); the classical ones stay as the baseline the benchmark
compares them with.

The classical detector: a scratch or a speck is a thin structure much brighter or darker than
its neighbourhood. A median filter wider than the scratch
removes it but keeps real edges (the outline of a face, a collar), so the difference between
the photo and its median is large on damage and small elsewhere. Measured on synthetic damage
over LFW photos (bench/restore_quality.py): the kernel at 3.6 % of the short side and a
threshold of 0.22 (of 1.0) gave the best detection IoU with under 0.3 % of a clean photo marked.
Big scans are looked at on a copy at most ``WORK_EDGE`` px on the short side, so the time stays
bounded. The classical fill is OpenCV's inpainting (Telea). Either way only masked pixels
change.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from gan_engine.restore.load import to_uint8

Method = Literal["network", "classical"]
#: The trained detector marks a pixel when its probability is above this, chosen on 60 LFW general
#: photos the network never trained on (bench/restore_validate.py): detection IoU 0.69 at 0.8,
#: 0.67 at 0.5, 0.64 at 0.3; a clean photo 0.17 % marked at 0.8.
NETWORK_THRESHOLD = 0.8
#: The fill is given the pixels above this probability, grown by one pixel (see damage_masks).
FILL_THRESHOLD = 0.3
THRESHOLD = 0.22
KERNEL_FRACTION = 0.036
WORK_EDGE = 1024


def _kernel_size(short_side: int) -> int:
    size = min(41, max(5, round(short_side * KERNEL_FRACTION)))
    return size + 1 - size % 2


def damage_mask(image: np.ndarray, method: Method = "network") -> np.ndarray:
    """Boolean HxW mask of likely scratches and specks in an HxWx3 float image in [0, 1]."""
    return damage_masks(image, method)[0]


def damage_masks(image: np.ndarray, method: Method = "network") -> tuple[np.ndarray, np.ndarray]:
    """(what is damaged, what to fill): the detection, and a wider mask for the fill.

    Why two: a scratch's pixels the detector misses keep their full error after the fill, so the
    fill is given the pixels the detector is less sure of (the network's probability above
    :data:`FILL_THRESHOLD`) grown by one pixel. Measured on 40 LFW general photos the networks
    never trained on (bench/restore_validate.py's photos): PSNR inside the damage after Telea
    17.4 dB on the detection itself, 21.6 grown by a pixel, 22.3 at 0.3 and grown."""
    height, width = image.shape[:2]
    scale = min(1.0, WORK_EDGE / min(height, width))
    work = np.ascontiguousarray(image, dtype=np.float32)
    if scale < 1:
        work = cv2.resize(
            work, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    if method == "network":
        from gan_engine.restore.models import damage_probability

        probability = damage_probability(work)
        mask = (probability > NETWORK_THRESHOLD).astype(np.uint8)
        wider = (probability > FILL_THRESHOLD).astype(np.uint8)
    else:
        grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
        size = _kernel_size(min(grey.shape))
        median = cv2.medianBlur(to_uint8(grey), size).astype(np.float32) / 255.0
        mask = (np.abs(grey - median) > THRESHOLD).astype(np.uint8)
        wider = mask
    wider = cv2.dilate(wider, np.ones((3, 3), np.uint8))
    if scale < 1:
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
        wider = cv2.resize(wider, (width, height), interpolation=cv2.INTER_NEAREST)
    return mask.astype(bool), wider.astype(bool)


def fill(
    image: np.ndarray, mask: np.ndarray, method: Method = "network", radius: int = 3
) -> np.ndarray:
    """``image`` with the masked pixels inpainted; every other pixel unchanged."""
    if not mask.any():
        return image.copy()
    if method == "network":
        from gan_engine.restore.models import fill_damage

        return fill_damage(telea(image, mask, radius), mask, in_place=True)
    return telea(image, mask, radius)


def telea(image: np.ndarray, mask: np.ndarray, radius: int = 3) -> np.ndarray:
    """OpenCV's Telea inpainting of the masked pixels of an HxWx3 float image; the rest kept."""
    painted = cv2.inpaint(to_uint8(image), mask.astype(np.uint8), radius, cv2.INPAINT_TELEA)
    result = image.copy()
    result[mask] = painted[mask].astype(np.float32) / 255.0
    return result
