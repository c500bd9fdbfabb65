"""The one door for image files: PNG only, atomic, labelled."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_engine.outputs import grid, write_image


def test_tensor_is_written_labelled_and_exact(tmp_path):
    tensor = torch.linspace(-1, 1, 3 * 4 * 4).reshape(3, 4, 4)
    path = write_image(tensor, tmp_path / "sub" / "x.png", kind="generated", metadata={"seed": 3})
    picture = Image.open(path)
    assert picture.text["memorial:generated"] == "true"
    assert picture.text["memorial:seed"] == "3"
    expected = ((tensor + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(np.asarray(picture), expected)
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temporary left behind


def test_crops_are_not_labelled_generated(tmp_path):
    path = write_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "c.png", kind="crop")
    assert Image.open(path).text["memorial:generated"] == "false"


def test_only_png_and_failed_writes_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match="PNG files only"):
        write_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "x.jpg", kind="crop")
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        write_image(np.zeros((8, 8), np.float32), tmp_path / "y.png", kind="crop")
    assert list(tmp_path.iterdir()) == []


def test_grid_tiles_in_rows():
    tiles = [np.full((4, 4, 3), value, np.uint8) for value in (0, 100, 200)]
    sheet = grid(tiles, columns=2, pad=1)
    assert sheet.size == (2 * 5 + 1, 2 * 5 + 1)
    assert sheet.getpixel((1, 1)) == (0, 0, 0)
    assert sheet.getpixel((6, 1)) == (100, 100, 100)
    assert sheet.getpixel((1, 6)) == (200, 200, 200)
