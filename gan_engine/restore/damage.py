"""Synthetic damage: thin scratches (bright or dark, straight or bent) and specks of dust, with
the exact mask of what was damaged. For tests and benchmarks of the repair step."""

from __future__ import annotations

import cv2
import numpy as np


def scratch(
    image: np.ndarray, seed: int = 0, scratches: int = 6, specks: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """A damaged copy of an HxWx3 float image in [0, 1], and the boolean damage mask."""
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    values = np.zeros((height, width), np.float32)
    for index in range(scratches):
        points = [(rng.uniform(0, width), rng.uniform(0, height))]
        heading = rng.uniform(0, np.pi)
        length = rng.uniform(0.3, 0.8) * max(height, width)
        for _ in range(4):
            heading += rng.normal(0, 0.15)
            step = length / 4
            x, y = points[-1]
            points.append((x + step * np.cos(heading), y + step * np.sin(heading)))
        curve = np.round(np.array(points)).astype(np.int32).reshape(-1, 1, 2)
        thickness = int(rng.integers(1, 3 if min(height, width) < 400 else 5))
        layer = np.zeros_like(mask)
        cv2.polylines(layer, [curve], False, 1, thickness, lineType=cv2.LINE_8)
        bright = index % 3 != 2  # most scratches in prints are light (emulsion gone)
        values[layer > 0] = rng.uniform(0.85, 1.0) if bright else rng.uniform(0.0, 0.12)
        mask |= layer
    for _ in range(specks):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        radius = int(rng.integers(1, 3))
        layer = np.zeros_like(mask)
        cv2.circle(layer, (x, y), radius, 1, -1)
        values[layer > 0] = rng.choice([rng.uniform(0.88, 1.0), rng.uniform(0.0, 0.1)])
        mask |= layer
    damaged = image.copy()
    damaged[mask > 0] = values[mask > 0, None]
    return damaged, mask.astype(bool)
