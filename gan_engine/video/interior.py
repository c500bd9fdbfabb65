"""The inside of the person's own open mouth (teeth, tongue, shadow), taken from a photo of them.

Why: a painted cavity is a dark oval that hides the person's teeth and smile; a family's photos
often show the person laughing or talking. When one does, the region between its inner lips is
resampled column by column into a canonical frame (left to right between the inner-lip corners
60 and 64; top to bottom from the upper inner lip to the lower one), its colours matched to the
portrait (per-channel gains from the lender's lips to the portrait's: the lips see the same
light as the teeth). In the video, the upper half of that frame (the upper teeth) hangs under the upper
lip at the photo's own proportions (teeth do not stretch), fading into the painted cavity below
it; the lower teeth stay hidden behind the lower lip, as they mostly are in speech. No such photo: the painted cavity alone (:mod:`warp`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

#: The canonical mouth frame, in pixels.
WIDTH, HEIGHT = 96, 48
#: How much of the photo's lower half shows above the lower lip. None: in speech the lower
#: teeth hide behind the lower lip, and a bright band on it reads as lip to a landmark detector
#: (with both halves the rendered "ah" measured 0.04 eye distances more open than a "mmm"
#: instead of 0.08 or more, ``tests/video/test_mouth.py``).
LOWER_TEETH = 0.0
#: A photo's mouth must be open at least this much (inner-lip gap over eye distance) to give an
#: interior: below it the region is a sliver of lip edge, not teeth and mouth.
MIN_OPENING = 0.12


@dataclass(frozen=True)
class Interior:
    """An open mouth's inside in the canonical frame (HEIGHT x WIDTH x 3 uint8, RGB)."""

    texture: np.ndarray
    opening: float  # the source photo's inner-lip gap over eye distance
    depth: np.ndarray  # WIDTH: the photo's lip-to-lip gap at each column over the mouth's width
    source: int = 0  # which of the photos given to :func:`best_interior` it comes from


def opening(points: np.ndarray) -> float:
    """Inner-lip gap over eye distance (as :func:`gan_engine.video.measure.mouth_opening`)."""
    gap = np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1).mean()
    eyes = np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0))
    return float(gap / max(eyes, 1e-6))


def lip_pixels(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The lips' pixels (between the outer and inner lip contours), N x 3."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[48:60]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 0)
    return image[mask.astype(bool)]


def match_colours(
    texture: np.ndarray, source_lips: np.ndarray, target_lips: np.ndarray
) -> np.ndarray:
    """Per-channel gains that turn the lender's lips into the portrait's (von Kries: another
    light or camera scales each colour channel), applied to the texture."""
    if len(source_lips) < 10 or len(target_lips) < 10:
        return texture
    source = source_lips.reshape(-1, 3).astype(np.float32).mean(0) + 1.0
    target = target_lips.reshape(-1, 3).astype(np.float32).mean(0) + 1.0
    gains = np.clip(target / source, 0.5, 2.0)
    return np.clip(texture.astype(np.float32) * gains, 0, 255).astype(np.uint8)


def lip_lines(points: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower inner lip's height at each of ``xs`` (interpolated landmarks)."""

    def line(indices: list[int]) -> np.ndarray:
        chosen = points[indices]
        order = np.argsort(chosen[:, 0])
        return np.interp(xs, chosen[order, 0], chosen[order, 1])

    return line([60, 61, 62, 63, 64]), line([60, 67, 66, 65, 64])


def extract(image: np.ndarray, points: np.ndarray) -> Interior | None:
    """The inside of the mouth of one photo's face, or None when the mouth is not open enough."""
    wide = opening(points)
    left, right = float(points[60, 0]), float(points[64, 0])
    if wide < MIN_OPENING or right - left < 4:
        return None
    xs = left + (np.arange(WIDTH) + 0.5) / WIDTH * (right - left)
    upper, lower = lip_lines(points, xs)
    rows = (np.arange(HEIGHT) + 0.5) / HEIGHT
    map_y = (upper[None, :] + rows[:, None] * (lower - upper)[None, :]).astype(np.float32)
    map_x = np.broadcast_to(xs[None, :], map_y.shape).astype(np.float32)
    texture = cv2.remap(np.ascontiguousarray(image), map_x, map_y, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    depth = np.maximum(lower - upper, 0.0) / (right - left)
    return Interior(texture=texture, opening=wide, depth=depth)


def best_interior(
    photos: Iterable[tuple[np.ndarray, np.ndarray]], target: tuple[np.ndarray, np.ndarray]
) -> Interior | None:
    """The widest open mouth among ``photos`` (image, 68 landmarks), colour-matched to
    ``target`` (the portrait and its landmarks); None when no photo shows an open mouth."""
    best: tuple[Interior, np.ndarray, int] | None = None
    for index, (image, points) in enumerate(photos):
        found = extract(image, points)
        if found is not None and (best is None or found.opening > best[0].opening):
            best = (found, lip_pixels(image, points), index)
    if best is None:
        return None
    interior, source_lips, index = best
    texture = match_colours(interior.texture, source_lips, lip_pixels(*target))
    return Interior(texture=texture, opening=interior.opening, depth=interior.depth, source=index)


def sample(
    interior: Interior, points: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The interior drawn into ``box`` (left, top, right, bottom) of a frame whose landmarks are
    ``points``: the colours (HxWx3 float32) and where they apply (HxWx1 float32 in [0, 1];
    0 leaves the painted cavity, between the two halves or outside the corners)."""
    left, top, right, bottom = box
    width = float(points[64, 0] - points[60, 0])
    xs = np.arange(left, right, dtype=np.float64)
    ys = np.arange(top, bottom, dtype=np.float64)[:, None]
    upper, lower = lip_lines(points, xs)
    column = (xs - points[60, 0]) / max(width, 1e-6) * WIDTH - 0.5
    # Half of the photo's own lip-to-lip gap at this column, in this frame's pixels.
    half = np.interp(column, np.arange(WIDTH), interior.depth) * width / 2
    half = np.maximum(half, 1e-3)
    middle = (upper + lower) / 2
    below_upper, above_lower = ys - upper[None, :], lower[None, :] - ys
    top_half = ys <= middle[None, :]
    row = np.where(top_half, below_upper / (2 * half), 1 - above_lower / (2 * half)) * HEIGHT - 0.5
    reach = np.where(top_half, below_upper, above_lower)  # distance from the nearer lip
    # Full under the lip, fading out over the last 40 % of the half towards the cavity.
    weight = np.clip((half[None, :] - reach) / (0.4 * half[None, :]), 0.0, 1.0)
    weight *= np.where(top_half, 1.0, LOWER_TEETH)
    weight *= ((column >= -0.5) & (column <= WIDTH - 0.5))[None, :]
    map_x = np.broadcast_to(column[None, :], row.shape).astype(np.float32)
    colours = cv2.remap(interior.texture, map_x, row.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return colours.astype(np.float32), weight.astype(np.float32)[..., None]
