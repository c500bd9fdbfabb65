"""Film grain, scanner noise and JPEG blocks: found, and cleaned only where they are.

Why only where found: smoothing a clean photo takes away detail it really has (skin, hair), so
the step first measures the photo. Noise is estimated from the finest wavelet band of its
lightness (scikit-image's ``estimate_sigma``, Donoho's robust median); blocks as the share by
which steps across the 8×8 grid of a JPEG exceed the steps inside its blocks. Either above its
threshold, the photo is cleaned by OpenCV's non-local means (Buades et al.), whose strength
follows the noise measured: each patch is averaged with similar patches from nearby, so edges
and texture that recur survive and noise, which does not recur, does not.

Non-local means works on 8-bit pixels; the change it makes is added to the photo's own float
pixels, so a 16-bit scan keeps its depth where nothing changed. Big scans are measured on a copy
at most ``WORK_PIXELS`` and cleaned in bands of rows, so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gan_engine.restore.load import to_uint8

#: The copy the noise and blocks are measured on.
WORK_PIXELS = 1_000_000
#: Noise as measured (0-1 scale; the estimate reads about two thirds of the true standard
#: deviation of added Gaussian noise) above which a photo is cleaned. Chosen on 24 LFW general
#: photos no network trained on (bench/restore_denoise.py --tune): clean ones measure at most
#: 0.003, noise of σ 0.02 measures 0.013.
NOISE_THRESHOLD = 0.008
#: Blockiness above which a photo is deblocked: 0 is no grid at all. The same photos as LFW ships
#: them (JPEG, quality about 90) measure up to 0.32, at quality 40 0.54, at 25 0.66, at 15 1.07;
#: non-local means gains 0.4 dB at quality 15-25 and loses at 40, so only heavy blocks are cleaned.
BLOCK_THRESHOLD = 0.6
#: Non-local means' strength h (8-bit levels) per level of noise measured (best of 0.6-1.3 on
#: those photos: +2.3 dB at σ 0.02, +4.2 dB at σ 0.04), and for blocks alone (best of 3-12).
STRENGTH_PER_SIGMA = 1.2
BLOCK_STRENGTH = 4.0
BAND_ROWS = 512
#: Rows of context above and below each band, so its patches see their neighbours.
BAND_MARGIN = 16


@dataclass(frozen=True)
class Measured:
    noise: float
    blockiness: float

    @property
    def needs_cleaning(self) -> bool:
        return self.noise > NOISE_THRESHOLD or self.blockiness > BLOCK_THRESHOLD

    @property
    def strength(self) -> float:
        """Non-local means' h for this photo, in 8-bit levels."""
        from_noise = STRENGTH_PER_SIGMA * self.noise * 255 if self.noise > NOISE_THRESHOLD else 0
        from_blocks = BLOCK_STRENGTH if self.blockiness > BLOCK_THRESHOLD else 0
        return float(max(from_noise, from_blocks))


def _work_copy(image: np.ndarray) -> np.ndarray:
    """The photo's lightness (0-1), on a copy of at most ``WORK_PIXELS`` cut (not shrunk: shrinking
    averages the noise and the grid away) from its middle."""
    height, width = image.shape[:2]
    side = int(WORK_PIXELS**0.5)
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    crop = np.ascontiguousarray(image[top : top + side, left : left + side], np.float32)
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)


def blockiness(lightness: np.ndarray) -> float:
    """How much more the lightness steps across the 8-pixel grid than beside it (0: no grid)."""
    steps = np.abs(np.diff(lightness.astype(np.float64), axis=1)).mean(axis=0)
    rows = np.abs(np.diff(lightness.astype(np.float64), axis=0)).mean(axis=1)
    if steps.size < 16 or rows.size < 16:
        return 0.0
    grid = np.concatenate([steps[7::8], rows[7::8]]).mean()
    inside = np.concatenate([np.delete(steps, np.s_[7::8]), np.delete(rows, np.s_[7::8])]).mean()
    return float(grid / max(inside, 1e-6) - 1.0)


def measure(image: np.ndarray) -> Measured:
    """The noise and the blockiness of an HxWx3 float image in [0, 1]."""
    from skimage.restoration import estimate_sigma

    lightness = _work_copy(image)
    return Measured(noise=float(estimate_sigma(lightness)), blockiness=blockiness(lightness))


def clean(image: np.ndarray, measured: Measured | None = None) -> np.ndarray:
    """``image`` cleaned by non-local means at the strength its noise asks for (a new float32
    array), or the image itself when it needs no cleaning."""
    measured = measured or measure(image)
    if not measured.needs_cleaning:
        return image
    return smooth(image, measured.strength)


def smooth(image: np.ndarray, h: float) -> np.ndarray:
    """``image`` smoothed by non-local means of strength ``h`` (8-bit levels), in bands of rows,
    its change added to the float pixels (a new float32 array)."""
    height = image.shape[0]
    out = np.empty(image.shape, np.float32)
    for top in range(0, height, BAND_ROWS):
        y0, y1 = max(0, top - BAND_MARGIN), min(height, top + BAND_ROWS + BAND_MARGIN)
        band = np.ascontiguousarray(image[y0:y1], np.float32)
        pixels = to_uint8(band)
        cleaned = cv2.fastNlMeansDenoisingColored(pixels, None, h, h, 7, 15)
        change = (cleaned.astype(np.float32) - pixels.astype(np.float32)) / 255.0
        inner = np.s_[top - y0 : top - y0 + min(BAND_ROWS, height - top)]
        out[top : top + min(BAND_ROWS, height - top)] = np.clip(band[inner] + change[inner], 0, 1)
    return out
