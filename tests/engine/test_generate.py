"""Generation: reproducible per seed and caption, labelled as generated, interpolations in order."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_engine.evaluate import to_uint8
from gan_engine.generate import generate, interpolate, load_model, sample
from gan_engine.train import TrainConfig, train


@pytest.fixture(scope="module")
def model(prepared, encoder, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "run"
    config = TrainConfig(
        data=str(prepared),
        out=str(out),
        resolution=16,
        steps=3,
        batch=4,
        width=0.25,
        z_dim=32,
        cond_dim=32,
        device="cpu",
        sample_every=0,
        min_photos=2,
    )
    train(config, encoder=encoder)
    return load_model(out, device="cpu")


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_same_seed_and_caption_give_the_same_image(model, encoder, tmp_path):
    a = generate(model, tmp_path / "a", caption="smiling", seeds=[5, 6, 7], encoder=encoder)
    b = generate(model, tmp_path / "b", caption="smiling", seeds=[7], encoder=encoder, batch=1)
    assert [p.name for p in a] == ["seed-000005.png", "seed-000006.png", "seed-000007.png"]
    assert np.array_equal(pixels(a[2]), pixels(b[0]))  # independent of batch composition
    assert not np.array_equal(pixels(a[0]), pixels(a[1]))
    c = generate(model, tmp_path / "c", caption="a bowl of soup", seeds=[7], encoder=encoder)
    assert not np.array_equal(pixels(a[2]), pixels(c[0]))
    assert pixels(a[0]).shape == (16, 16, 3)


def test_evaluation_draws_the_pictures_that_generate_writes(model, encoder, tmp_path):
    """``evaluate`` and the benchmarks draw through ``sample``: their figures describe the
    pictures a user gets for the same seeds and captions."""
    drawn = to_uint8(sample(model, [3, 4], ["smiling", None], encoder=encoder))
    (smiling,) = generate(model, tmp_path / "a", caption="smiling", seeds=[3], encoder=encoder)
    (plain,) = generate(model, tmp_path / "b", seeds=[4])
    assert np.array_equal(drawn[0], pixels(smiling))
    assert np.array_equal(drawn[1], pixels(plain))
    with pytest.raises(ValueError, match="2 seeds but 1 captions"):
        sample(model, [3, 4], ["smiling"])


def test_generated_images_are_labelled(model, tmp_path):
    (path,) = generate(model, tmp_path, count=1)
    info = Image.open(path).text
    assert info["memorial:generated"] == "true"
    assert info["memorial:kind"] == "generated"
    assert info["memorial:seed"] == "0"


def test_interpolation_frames(model, encoder, tmp_path):
    frames = interpolate(model, tmp_path, seeds=[1, 2, 3], frames=4, encoder=encoder)
    assert [p.name for p in frames] == [f"frame-{i:05d}.png" for i in range(9)]
    start = generate(model, tmp_path / "ends", seeds=[1, 3], encoder=encoder)
    assert np.array_equal(pixels(frames[0]), pixels(start[0]))
    assert np.array_equal(pixels(frames[-1]), pixels(start[1]))
    by_caption = interpolate(
        model, tmp_path / "c", seeds=[1], captions=["smiling", "serious"], frames=3, encoder=encoder
    )
    assert len(by_caption) == 4
    with pytest.raises(ValueError, match="at least two seeds or two captions"):
        interpolate(model, tmp_path / "d", seeds=[1], frames=3)


def test_truncation_out_of_range_is_refused(model, tmp_path):
    with pytest.raises(ValueError, match="truncation must be in"):
        generate(model, tmp_path, truncation=1.5)
