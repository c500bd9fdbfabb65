"""Faded prints: their blacks lifted toward the paper, brought back down.

A print that has faded (or a scan of one with the paper's tint) no longer reaches black: its
darkest pixels sit well above it. A photo as it was taken almost always holds a little
near-black (an eye, hair, a shadow), so the darkest half percent of its lightness is the sign:
above ``BLACK_LIFTED`` the photo counts as faded. Its CIE lightness is then stretched by one
straight-line map that takes the darkest half percent down to ``BLACK`` and leaves the brightest
half percent where it is; the colours (a*, b*) are kept. Only the dark end moves because where
the whites were is not known: a dim photo and a faded one look alike there
(bench/restore_levels.py measures the gain). A photo not faded is left exactly as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The darkest and the brightest share of lightness measured (percent): a few specks of dust or
#: a scratch must not decide.
DARK_PERCENT, BRIGHT_PERCENT = 0.5, 99.5
#: Luma (Rec. 601, 0-1) of the darkest half percent above which a photo counts as faded. Chosen on
#: 297 LFW general photos (bench/restore_levels.py --tune): as LFW ships them 95 % measure under
#: 0.054 (3 % above the threshold); faded to 85 % of their contrast all measure 0.097 or more.
BLACK_LIFTED = 0.08
#: CIE L* (0-100) where a faded photo's darkest half percent goes.
BLACK = 2.0
#: Pixels measured at most (a regular subsample of a big scan).
WORK_PIXELS = 1_000_000


@dataclass(frozen=True)
class Fade:
    dark: float  # luma of the darkest half percent: the sign of a fade
    dark_lightness: float  # CIE L* of the darkest and the brightest half percent
    bright_lightness: float

    @property
    def faded(self) -> bool:
        return self.dark > BLACK_LIFTED


def measure(image: np.ndarray) -> Fade:
    """How dark the darkest half percent of an HxWx3 float image is, and its lightness range."""
    step = max(1, int(np.ceil(np.sqrt(image.shape[0] * image.shape[1] / WORK_PIXELS))))
    sample = np.ascontiguousarray(image[::step, ::step], np.float32)
    luma = sample @ np.array([0.299, 0.587, 0.114], np.float32)
    lightness = cv2.cvtColor(sample, cv2.COLOR_RGB2Lab)[..., 0]
    dark, low, high = (
        float(np.percentile(luma, DARK_PERCENT)),
        *np.percentile(lightness, [DARK_PERCENT, BRIGHT_PERCENT]).tolist(),
    )
    return Fade(dark, low, high)


def stretch(image: np.ndarray, fade: Fade) -> np.ndarray:
    """``image`` with the fade taken out (a new float32 array), or the image itself when it is
    not faded."""
    if not fade.faded or fade.bright_lightness <= fade.dark_lightness:
        return image
    lab = cv2.cvtColor(np.asarray(image, np.float32), cv2.COLOR_RGB2Lab)
    scale = (fade.bright_lightness - BLACK) / (fade.bright_lightness - fade.dark_lightness)
    lightness = lab[..., 0]
    lightness -= fade.dark_lightness
    lightness *= scale
    lightness += BLACK
    np.clip(lightness, 0, 100, out=lightness)
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(out, 0, 1, out=out)
