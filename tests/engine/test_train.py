"""The training loop: reproducible, exactly resumable, recovering, cancellable, never losing a checkpoint."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from gan_engine import CHECKPOINT_FORMAT
from gan_engine.checkpoint import (
    CHECKPOINT_NAME,
    PREVIOUS_NAME,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from gan_engine.errors import (
    CheckpointError,
    DataError,
    DeviceError,
    OutOfMemory,
    TrainingDiverged,
)
from gan_engine.generate import load_model
from gan_engine.train import train
from tests.engine.conftest import state_equal


def weights(run: Path) -> dict:
    state = read_checkpoint(Path(run) / CHECKPOINT_NAME)
    return {
        key: state[key]
        for key in ("G", "D", "G_ema", "opt_g", "opt_d", "augment", "step", "lr_scale")
    }


def test_same_seed_gives_the_same_weights(tiny_config, encoder, tmp_path):
    first = train(tiny_config(out=str(tmp_path / "a"), steps=3), encoder=encoder)
    second = train(tiny_config(out=str(tmp_path / "b"), steps=3), encoder=encoder)
    other = train(tiny_config(out=str(tmp_path / "c"), steps=3, seed=1), encoder=encoder)
    assert first.status == second.status == "completed"
    assert state_equal(weights(first.checkpoint.parent), weights(second.checkpoint.parent))
    assert not state_equal(
        weights(first.checkpoint.parent)["G"], weights(other.checkpoint.parent)["G"]
    )


def test_resume_continues_exactly(tiny_config, encoder, tmp_path):
    """N steps + resume N steps == 2N steps: step, schedule, augmentation state and weights."""
    common = dict(warmup_steps=5, ada_interval=1, ada_speed_images=40, ada_target=0.0)
    straight = train(
        tiny_config(out=str(tmp_path / "straight"), steps=6, **common), encoder=encoder
    )
    half = train(tiny_config(out=str(tmp_path / "split"), steps=3, **common), encoder=encoder)
    assert half.step == 3
    resumed = train(
        tiny_config(out=str(tmp_path / "split"), steps=6, resume=True, **common), encoder=encoder
    )
    assert resumed.step == straight.step == 6

    a, b = read_checkpoint(straight.checkpoint), read_checkpoint(resumed.checkpoint)
    assert a["augment"] == b["augment"]
    assert a["augment"]["p"] > 0  # the controller actually moved, and kept moving after resume
    assert [g["lr"] for g in a["opt_g"]["param_groups"]] == [
        g["lr"] for g in b["opt_g"]["param_groups"]
    ]
    assert state_equal(weights(straight.checkpoint.parent), weights(resumed.checkpoint.parent))
    assert torch.equal(a["rng"]["cpu"], b["rng"]["cpu"])


def test_resuming_with_other_learning_rates_says_so(tiny_config, encoder):
    train(tiny_config(steps=2, lr_d=2e-4), encoder=encoder)
    same = train(tiny_config(steps=3, resume=True, lr_d=2e-4), encoder=encoder)
    assert not [note for note in same.notes if "lr_" in note]
    faster = train(tiny_config(steps=4, resume=True, lr_d=4e-4), encoder=encoder)
    assert "the checkpoint was trained with lr_d=0.0002; training continues with lr_d=0.0004" in (
        faster.notes
    )
    state = read_checkpoint(faster.checkpoint)
    assert [group["lr"] for group in state["opt_d"]["param_groups"]] == [4e-4]


def test_a_fresh_run_never_overwrites_an_existing_checkpoint(tiny_config, encoder):
    config = tiny_config(steps=2)
    train(config, encoder=encoder)
    before = Path(config.out, CHECKPOINT_NAME).read_bytes()
    with pytest.raises(CheckpointError, match="already holds a training run"):
        train(config, encoder=encoder)
    assert Path(config.out, CHECKPOINT_NAME).read_bytes() == before


def test_nan_rolls_back_to_the_last_good_checkpoint_with_a_lower_learning_rate(
    tiny_config, encoder
):
    events = []
    result = train(
        tiny_config(steps=4, checkpoint_every_steps=2, inject_nan_steps=(3,)),
        progress=events.append,
        encoder=encoder,
    )
    assert result.status == "completed"
    assert result.step == 4
    assert result.rollbacks == 1
    rollback = next(e for e in events if e.event == "rollback")
    assert rollback.step == 2  # back to the checkpoint written at step 2
    assert rollback.lr_scale == 0.5
    state = read_checkpoint(result.checkpoint)
    assert state["lr_scale"] == 0.5
    assert state["opt_g"]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.5)


def test_repeated_nan_fails_clearly_after_three_rollbacks(tiny_config, encoder):
    config = tiny_config(steps=4, inject_nan_steps=(2, 2, 2, 2))
    with pytest.raises(TrainingDiverged, match="rolled back 3 times"):
        train(config, encoder=encoder)
    # The good step-0 checkpoint is still there and loadable.
    assert load_checkpoint(config.out, resolution=16)["step"] == 0


def test_out_of_memory_halves_the_batch_and_carries_on(tiny_config, encoder):
    events = []
    result = train(
        tiny_config(steps=3, batch=4, inject_oom_steps=(2,)),
        progress=events.append,
        encoder=encoder,
    )
    assert result.status == "completed" and result.step == 3
    reduced = next(e for e in events if e.event == "batch_reduced")
    assert (reduced.step, reduced.previous_batch, reduced.batch) == (1, 4, 2)
    assert reduced.message == "out of GPU memory at batch size 4: retrying with batch size 2"
    assert [e.batch for e in events if e.event == "step"] == [4, 2, 2]


def test_out_of_memory_even_at_batch_one_is_a_clear_error(tiny_config, encoder):
    with pytest.raises(OutOfMemory, match="even at batch size 1"):
        train(tiny_config(steps=3, batch=2, inject_oom_steps=(2, 2)), encoder=encoder)


def test_cancel_stops_within_a_step_and_leaves_a_loadable_checkpoint(tiny_config, encoder):
    seen = []

    def cancel_after_two() -> bool:
        return len([s for s in seen if s.event == "step"]) >= 2

    config = tiny_config(steps=50)
    result = train(config, progress=seen.append, should_cancel=cancel_after_two, encoder=encoder)
    assert result.status == "cancelled"
    assert result.step == 2
    assert seen[-1].event == "cancelled"
    assert load_checkpoint(config.out, resolution=16)["step"] == 2
    resumed = train(tiny_config(steps=3, resume=True), encoder=encoder)
    assert resumed.step == 3


def test_progress_reports_real_numbers_and_sample_grids(tiny_config, encoder):
    seen = []
    result = train(tiny_config(steps=4, sample_every=2), progress=seen.append, encoder=encoder)
    steps = [s for s in seen if s.event == "step"]
    assert [s.step for s in steps] == [1, 2, 3, 4]
    assert all(s.total == 4 and s.images_per_second > 0 and s.eta_seconds >= 0 for s in steps)
    assert steps[-1].eta_seconds == 0
    assert set(steps[0].losses) >= {"d", "g", "recon"}
    assert [p.name for p in result.samples] == ["step-00000002.png", "step-00000004.png"]
    assert all(p.is_file() for p in result.samples)
    assert seen[-1].event == "done"


def test_slow_steps_get_sample_grids_by_time_and_one_where_a_cancel_stops_them(
    tiny_config, encoder
):
    """A CPU run may need hours for ``sample_every`` steps: grids also come every
    ``sample_every_seconds`` of training, and a cancelled (or out-of-time) run ends with one."""
    seen = []

    def steps_done() -> int:
        return len([s for s in seen if s.event == "step"])

    def clock() -> float:  # every step "takes" 50 s
        return 50.0 * steps_done()

    config = tiny_config(steps=50, sample_every=1000, sample_every_seconds=120.0)
    result = train(
        config,
        progress=seen.append,
        should_cancel=lambda: steps_done() >= 7,
        encoder=encoder,
        clock=clock,
    )
    assert result.status == "cancelled" and result.step == 7
    # 150 s after the start at step 3, 150 s later at step 6, and step 7 where it stopped.
    names = ["step-00000003.png", "step-00000006.png", "step-00000007.png"]
    assert [p.name for p in result.samples] == names
    assert all(p.is_file() for p in result.samples)
    reported = [Path(s.path).name for s in seen if s.event == "sample"]
    assert reported == names
    assert [s.event for s in seen[-2:]] == ["sample", "cancelled"]


def test_a_finished_run_reports_its_last_grid(tiny_config, encoder):
    seen = []
    result = train(tiny_config(steps=3), progress=seen.append, encoder=encoder)
    assert [p.name for p in result.samples] == ["step-00000003.png"]
    assert [(s.event, Path(s.path).name) for s in seen if s.event == "sample"] == [
        ("sample", "step-00000003.png")
    ]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_checkpoint_is_a_clear_error_and_is_not_overwritten(tiny_config, encoder, damage):
    config = tiny_config(steps=2)
    train(config, encoder=encoder)
    path = Path(config.out, CHECKPOINT_NAME)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        train(tiny_config(steps=4, resume=True), encoder=encoder)
    assert path.read_bytes() == bytes(data)  # left for the user to inspect, not replaced
    assert (
        load_checkpoint(Path(config.out, PREVIOUS_NAME))["step"] == 0
    )  # the earlier one is intact


def test_checkpoint_from_another_resolution_or_version_is_refused(tiny_config, encoder, tmp_path):
    config = tiny_config(steps=1)
    train(config, encoder=encoder)
    with pytest.raises(CheckpointError, match="is for 16 px images, not 64 px"):
        load_checkpoint(config.out, resolution=64)
    state = read_checkpoint(Path(config.out, CHECKPOINT_NAME))
    state["format"] = CHECKPOINT_FORMAT + 1
    save_checkpoint(state, tmp_path / "future")
    with pytest.raises(CheckpointError, match=f"format version {CHECKPOINT_FORMAT + 1}"):
        load_checkpoint(tmp_path / "future")
    with pytest.raises(CheckpointError, match="not a gan_engine checkpoint"):
        (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 something else")
        load_checkpoint(tmp_path / "junk.pt")


def test_checkpoint_from_before_a_new_architecture_option_still_resumes(
    tiny_config, encoder, tmp_path
):
    """Fields added to the config later (``padding``, ``caption_bias``) take the value old
    checkpoints were trained with (``padding`` "zeros", though "reflect" is the default now);
    asking for another value is refused by name rather than crashing on weights (or, for
    ``padding``, which changes no weight, silently drawing other images)."""
    config = tiny_config(steps=2, padding="zeros")
    train(config, encoder=encoder)
    path = Path(config.out, CHECKPOINT_NAME)
    state = read_checkpoint(path)
    del state["config"]["padding"]  # as written before the options existed
    del state["config"]["caption_bias"]
    save_checkpoint(state, Path(config.out))
    generator = load_model(config.out, device="cpu").generator
    assert generator.config.padding == "zeros"
    with pytest.raises(
        CheckpointError, match="padding='zeros', this run asks for padding='reflect'"
    ):
        train(tiny_config(steps=3, resume=True), encoder=encoder)
    old = {"resume": True, "padding": "zeros"}
    assert train(tiny_config(steps=3, **old), encoder=encoder).step == 3
    with pytest.raises(
        CheckpointError, match="caption_bias=True, this run asks for caption_bias=False"
    ):
        train(tiny_config(steps=4, caption_bias=False, **old), encoder=encoder)


def test_a_model_is_generated_with_the_padding_it_trained_with(tiny_config, encoder):
    config = tiny_config(steps=1, padding="zeros")
    train(config, encoder=encoder)
    generator = load_model(config.out, device="cpu").generator
    assert generator.to_rgb.padding_mode == "zeros"


def test_no_disk_space_keeps_the_good_checkpoint(tiny_config, encoder, monkeypatch):
    config = tiny_config(steps=2)
    train(config, encoder=encoder)
    before = Path(config.out, CHECKPOINT_NAME).read_bytes()

    def full_disk(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(
        CheckpointError, match=r"the disk is full; the last good checkpoint .* is kept"
    ):
        train(tiny_config(steps=4, resume=True), encoder=encoder)
    assert Path(config.out, CHECKPOINT_NAME).read_bytes() == before
    assert not list(Path(config.out).glob(".checkpoint.*.tmp"))


def test_bad_settings_are_clear_errors(tiny_config, encoder):
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        train(tiny_config(device="tpu"), encoder=encoder)
    with pytest.raises(DataError, match=r"only 7 usable training photo\(s\).*at least 20"):
        train(tiny_config(min_photos=20), encoder=encoder)
    with pytest.raises(CheckpointError, match="no checkpoint to resume"):
        train(tiny_config(resume=True), encoder=encoder)
