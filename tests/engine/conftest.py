"""Fixtures for the engine: real face photos (LFW beside the checkout, or scikit-image's astronaut),
a prepared data set, the real caption encoder, and tiny 16 px training configurations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.images import SHARED_FACES

PERSON = "Abdullah_Gul"  # 19 photos in LFW; the tests use a few


def astronaut_variants(folder: Path, count: int) -> list[Path]:
    """Several distinct photos of one real face: crops, flips and scales of the astronaut photo."""
    from skimage import data

    base = Image.fromarray(data.astronaut())
    paths = []
    for i in range(count):
        left, top = 40 + 12 * i, 10 + 6 * (i % 4)
        crop = base.crop((left, top, left + 340, top + 340)).resize((300 - 8 * i, 300 - 8 * i))
        if i % 2:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = folder / f"astronaut-{i}.jpg"
        crop.save(path, quality=92)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def face_photos(tmp_path_factory) -> Path:
    """A folder of 8 real photos of one person with captions; the LFW photos are linked, not copied."""
    folder = tmp_path_factory.mktemp("photos")
    person = SHARED_FACES / PERSON
    if person.is_dir():
        sources = sorted(person.glob("*.jpg"))[:8]
        for source in sources:
            (folder / source.name).symlink_to(source.resolve())
        names = [s.name for s in sources]
    else:
        names = [p.name for p in astronaut_variants(folder, 8)]
    captions = [
        "smiling, in a dark suit",
        "looking at the camera",
        "speaking at a press conference",
        "with a tie",
    ]
    (folder / "captions.json").write_text(
        json.dumps({name: captions[i % 4] for i, name in enumerate(names)})
    )
    return folder


@pytest.fixture(scope="session")
def prepared(face_photos, tmp_path_factory) -> Path:
    from gan_engine.data import prepare

    out = tmp_path_factory.mktemp("prepared")
    prepare(face_photos, out, sizes=(64,))
    return out


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    from gan_engine.text import CaptionEncoder

    return CaptionEncoder(cache_dir=tmp_path_factory.mktemp("text-cache"))


@pytest.fixture
def tiny_config(prepared, tmp_path) -> Callable[..., object]:
    """A 16 px, narrow, small-batch configuration: a step takes tens of milliseconds."""
    from gan_engine.train import TrainConfig

    def make(**overrides) -> TrainConfig:
        values = dict(
            data=str(prepared),
            out=str(tmp_path / "run"),
            resolution=16,
            steps=4,
            batch=4,
            width=0.25,
            z_dim=32,
            cond_dim=32,
            device="cpu",
            sample_every=0,
            sample_every_seconds=0.0,  # tests that want grids by time pass a fake clock
            sample_count=4,
            likeness_samples=4,
            checkpoint_every_steps=1000,
            checkpoint_every_seconds=1e9,
            min_photos=2,
        )
        values.update(overrides)
        return TrainConfig(**values)

    return make


def state_equal(a: dict, b: dict) -> bool:
    """Deep equality of (nested) state dicts holding tensors."""
    import torch

    if isinstance(a, dict):
        return a.keys() == b.keys() and all(state_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(state_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    return a == b
