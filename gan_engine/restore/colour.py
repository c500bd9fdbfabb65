"""Is a photo black-and-white or sepia? Chroma statistics in CIE Lab.

A monochrome print, grey or toned, has all its colours on one line through the neutral axis: its
(a, b) points lie close to a single hue direction (none at all for grey). A colour photo, even a
faded one, spreads them in more than one direction (skin, clothes, sky). So: the chroma that is
*not* along the main hue direction, at its 95th percentile, decides; the mean chroma along it
tells grey from sepia.

One hue is not enough to call a photo monochrome: a blue sky over a white rocket, a stained
slide or a sunset has its colours along one direction too. What a toned print has and they do
not is one colour *per lightness*: the toner gives every grey level its tint. So a photo whose
colours lie along one hue is monochrome only when, at each lightness, its pixels share one
colour (the 90th percentile of their distance from the median colour of their lightness band is
under ``PER_LIGHTNESS_LIMIT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Tone = Literal["grey", "sepia", "colour"]
#: Off-axis chroma (Lab units) under which a photo counts as monochrome; measured on LFW colour
#: photos (all above) and their grey and sepia versions (all below): tests/engine/test_restore.py.
OFF_AXIS_LIMIT = 6.0
#: Mean on-axis chroma above which a monochrome photo is toned (sepia, selenium, cyanotype).
TONED_CHROMA = 4.0
#: Spread of colour at one lightness (Lab units, 90th percentile) under which a one-hue photo is
#: a toned print: grey and sepia versions of LFW photos measure under 1, with colour noise and
#: JPEG at quality 40 under 5; one-hue colour photos (scikit-image's rocket against a blue sky,
#: its stained slide) 14-17.
PER_LIGHTNESS_LIMIT = 10.0
#: Lightness bands (of 100) for that test.
BAND = 4.0
SAMPLE_EDGE = 256


@dataclass(frozen=True)
class ToneReport:
    tone: Tone
    off_axis: float
    chroma: float

    @property
    def monochrome(self) -> bool:
        return self.tone != "colour"


def tone_of(image: np.ndarray) -> ToneReport:
    """The tone of an HxWx3 float image in [0, 1] (measured on a copy at most 256 px wide)."""
    height, width = image.shape[:2]
    scale = min(1.0, SAMPLE_EDGE / max(height, width))
    small = (
        cv2.resize(
            image,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
        if scale < 1
        else image
    )
    lab = cv2.cvtColor(np.ascontiguousarray(small, dtype=np.float32), cv2.COLOR_RGB2Lab)
    ab = lab[..., 1:].reshape(-1, 2).astype(np.float64)
    mean = ab.mean(axis=0)
    chroma = float(np.hypot(*mean))
    # The main hue direction: the mean's own for a toned print, else the first principal axis.
    if chroma > 1e-6:
        axis = mean / chroma
    else:
        _, vectors = np.linalg.eigh(np.cov(ab.T))
        axis = vectors[:, -1]
    off = np.abs(ab @ np.array([-axis[1], axis[0]]))
    off_axis = float(np.percentile(off, 95))
    if off_axis >= OFF_AXIS_LIMIT or _spread_per_lightness(lab) >= PER_LIGHTNESS_LIMIT:
        return ToneReport("colour", off_axis, chroma)
    return ToneReport("sepia" if chroma >= TONED_CHROMA else "grey", off_axis, chroma)


def _spread_per_lightness(lab: np.ndarray) -> float:
    """How far pixels' colours lie from the median colour of their lightness band (90th
    percentile, Lab units): near 0 for a print toned one colour per grey level."""
    pixels = lab.reshape(-1, 3).astype(np.float64)
    bands = np.clip((pixels[:, 0] / BAND).astype(int), 0, int(100 / BAND))
    medians = np.zeros((bands.max() + 1, 2))
    for band in np.unique(bands):
        medians[band] = np.median(pixels[bands == band, 1:], axis=0)
    return float(np.percentile(np.hypot(*(pixels[:, 1:] - medians[bands]).T), 90))
