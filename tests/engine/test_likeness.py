"""Keeping the best snapshot: a person's model measures how much it looks like the person at
every sample grid, and the model a family generates from is the snapshot that measured best,
through resumes, while training itself goes on from the latest weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gan_engine.checkpoint import read_checkpoint
from gan_engine.data import prepare
from gan_engine.generate import load_model
from gan_engine.likeness import Likeness
from gan_engine.prior import SHIPPED_DIR, adopt_architecture
from gan_engine.train import train
from tests.engine.conftest import state_equal

PRIOR = SHIPPED_DIR / "face-64"


@pytest.fixture
def from_prior(tiny_config):
    """A 64 px run started from the shipped face prior: its samples are faces from the first step,
    so every measurement finds faces and tells snapshots apart."""

    def make(**overrides):
        values = dict(
            resolution=64, width=1.0, z_dim=128, cond_dim=128, keep_best=True, likeness_samples=8
        )
        return adopt_architecture(tiny_config(**{**values, **overrides}), PRIOR)

    return make


def measured(progress: list) -> list[Likeness]:
    return [p.likeness for p in progress if p.event == "sample"]


def best_of(likenesses: list[Likeness]) -> Likeness:
    kept = None
    for likeness in likenesses:
        if likeness.replaces(kept):
            kept = likeness
    assert kept is not None
    return kept


def test_the_closer_match_wins_and_a_tie_goes_to_the_newer_snapshot():
    far = Likeness(step=2, match_rate=0.5, mean_distance=0.40)
    closer = Likeness(step=4, match_rate=0.5, mean_distance=0.35)
    more = Likeness(step=6, match_rate=0.75, mean_distance=0.50)
    faceless = Likeness(step=8, match_rate=0.0, mean_distance=None)
    assert closer.replaces(far) and not far.replaces(closer)
    assert more.replaces(closer) and not closer.replaces(more)
    assert not faceless.replaces(far)
    assert Likeness(step=10, match_rate=0.0, mean_distance=None).replaces(faceless)
    assert Likeness.from_dict(closer.to_dict()) == closer


def test_generation_uses_the_snapshot_most_like_the_person_and_training_the_latest(
    from_prior, encoder, tmp_path
):
    seen: list = []
    result = train(
        from_prior(out=str(tmp_path / "run"), steps=6, sample_every=2),
        progress=seen.append,
        encoder=encoder,
    )
    likenesses = measured(seen)
    assert [m.step for m in likenesses] == [2, 4, 6]
    assert all(m.mean_distance is not None for m in likenesses)  # the prior draws faces
    kept = best_of(likenesses)
    assert result.kept == kept
    assert [p.kept for p in seen if p.event == "sample"][-1] == kept

    state = read_checkpoint(result.checkpoint)
    assert state["step"] == 6  # training resumes from the latest weights
    assert Likeness.from_dict(state["best"]["likeness"]) == kept
    model = load_model(result.checkpoint.parent, "cpu")
    assert model.step == kept.step
    assert state_equal(model.generator.state_dict(), state["best"]["G_ema"])
    if kept.step != 6:
        assert any(f"snapshot of step {kept.step}" in note for note in result.notes)


def test_without_keep_best_generation_uses_the_last_step(from_prior, encoder, tmp_path):
    seen: list = []
    result = train(
        from_prior(out=str(tmp_path / "run"), steps=4, sample_every=2, keep_best=False),
        progress=seen.append,
        encoder=encoder,
    )
    assert measured(seen) == [None, None] and result.kept is None
    state = read_checkpoint(result.checkpoint)
    assert state["best"] is None
    model = load_model(result.checkpoint.parent, "cpu")
    assert model.step == 4 and state_equal(model.generator.state_dict(), state["G_ema"])


def test_a_resumed_run_compares_against_every_snapshot_before_it(from_prior, encoder, tmp_path):
    before: list = []
    train(
        from_prior(out=str(tmp_path / "run"), steps=4, sample_every=2),
        progress=before.append,
        encoder=encoder,
    )
    after: list = []
    result = train(
        from_prior(out=str(tmp_path / "run"), steps=8, sample_every=2, resume=True),
        progress=after.append,
        encoder=encoder,
    )
    assert [m.step for m in measured(after)] == [6, 8]
    assert result.kept == best_of(measured(before) + measured(after))


def test_new_photos_start_the_comparison_again(from_prior, encoder, face_photos, tmp_path):
    """A continued model whose photos changed was measured against other photos: its kept
    snapshot no longer counts, and the next measurement starts the comparison again."""
    train(from_prior(out=str(tmp_path / "run"), steps=2, sample_every=2), encoder=encoder)
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for photo in sorted(face_photos.glob("*.jpg"))[:6]:
        shutil.copy(photo, fewer / photo.name)
    data = tmp_path / "fewer-prepared"
    prepare(fewer, data, sizes=(64,))
    after: list = []
    result = train(
        from_prior(out=str(tmp_path / "run"), data=str(data), steps=4, sample_every=2, resume=True),
        progress=after.append,
        encoder=encoder,
    )
    assert any("training photos changed" in note for note in result.notes)
    assert [m.step for m in measured(after)] == [4]
    assert result.kept == measured(after)[0]
    assert Path(result.checkpoint).is_file()
