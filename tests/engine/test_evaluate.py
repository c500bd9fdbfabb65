"""Shape similarity: the variety figure that copies of one face in many exposures cannot fool."""

from __future__ import annotations

import numpy as np
import torch

from gan_engine.evaluate import pairwise_mean, shape_similarity, ssim, structure


def squares(shifts: list[int], gains: list[float]) -> np.ndarray:
    """64 px uint8 pictures of a bright square (moved by each shift) at each exposure gain."""
    images = np.full((len(shifts), 64, 64, 3), 40.0)
    for image, shift, gain in zip(images, shifts, gains, strict=True):
        image[16:40, 8 + shift : 32 + shift] = 200.0
        image *= gain
    return images.clip(0, 255).astype(np.uint8)


def test_one_shape_in_many_exposures_reads_as_one_shape():
    exposures = squares([0] * 6, [0.4, 0.6, 0.8, 1.0, 1.1, 1.2])
    poses = squares([0, 8, 16, 24, 28, 30], [1.0] * 6)
    assert shape_similarity(exposures) > 0.99
    assert shape_similarity(poses) < 0.6
    # Pairwise SSIM counts exposure alone as variety (identical pictures score 1): why this
    # figure exists.
    assert pairwise_mean(list(exposures), ssim) < 0.9


def test_unrelated_pictures_are_near_zero_and_one_picture_has_no_figure():
    noise = np.random.default_rng(0).integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
    assert abs(shape_similarity(noise)) < 0.1
    assert shape_similarity(noise[:1]) is None
    flat = np.full((3, 16, 16, 3), 128, dtype=np.uint8)  # no shape at all: not a division by 0
    assert shape_similarity(flat) == 0.0


def faces(count: int, shift: int = 0) -> torch.Tensor:
    """Images of a bright square on dark ground; ``shift`` moves it (a change of pose)."""
    images = torch.full((count, 3, 32, 32), -1.0)
    images[:, :, 8:20, 8 + shift : 20 + shift] = 1.0
    return images


def test_structure_ignores_colour_and_brightness():
    image = faces(1)
    recoloured = image * 0.5 + torch.tensor([0.3, -0.2, 0.1])[None, :, None, None]
    assert torch.allclose(structure(image), structure(recoloured), atol=1e-3)
    assert not torch.allclose(structure(image), structure(faces(1, shift=8)), atol=1e-1)
