"""The visible "AI-generated" mark: drawn in the chosen corner only, and optional."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_engine.provenance.mark import burn_mark


def changed(a: Image.Image, b: Image.Image) -> np.ndarray:
    return np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).sum(axis=2) > 0


@pytest.mark.parametrize("corner", ["bottom-right", "top-left"])
def test_mark_is_in_its_corner(corner: str) -> None:
    plain = Image.new("RGB", (256, 256), (200, 180, 160))
    diff = changed(plain, burn_mark(plain, corner))
    ys, xs = np.nonzero(diff)
    assert diff.any() and diff.mean() < 0.1  # small
    if corner == "bottom-right":
        assert ys.min() > 200 and xs.min() > 128
    else:
        assert ys.max() < 56 and xs.max() < 128


def test_no_mark_and_bad_corner() -> None:
    plain = Image.new("RGB", (64, 64), (10, 20, 30))
    assert not changed(plain, burn_mark(plain, None)).any()
    with pytest.raises(ValueError, match="corner"):
        burn_mark(plain, "middle")
