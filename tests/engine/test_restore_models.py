"""The restoration networks Memorial trains and ships: checked on load, better than the plain
methods on photos of people they never saw, trainable and resumable from the command line, and
the face enlarger taught a person's own face from their photos."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from gan_engine.errors import CheckpointError
from gan_engine.restore import (
    Options,
    damage,
    models,
    personal,
    pipeline,
    repair,
    restore,
    training,
)
from gan_engine.restore.load import from_pil
from tests import images
from tests.engine.test_restore import portraits, psnr

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (models.FACE_ENLARGER, models.DAMAGE, models.FILL, models.COLOURISER)


def test_the_shipped_restoration_models_are_small_carded_and_checked():
    total = 0
    for name in SHIPPED:
        folder = models.WEIGHTS / name
        manifest = json.loads((folder / "model.json").read_text())
        card = (folder / "MODEL_CARD.md").read_text()
        assert manifest["sha256"] in card  # the card names the file it describes
        assert "lfw-general" in card and "restore-train" in card  # its data and its command
        total += (folder / manifest["weights"]).stat().st_size
        assert isinstance(models.load(folder), torch.nn.Module)
    assert total < 10_000_000  # the feature's budget is 40 MB


def test_a_damaged_or_missing_restoration_model_is_named(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(models.WEIGHTS / models.DAMAGE, folder)
    weights = folder / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        models.load(folder)
    weights.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        models.load(folder)
    (folder / "model.json").unlink()
    with pytest.raises(CheckpointError, match=r"model\.json"):
        models.load(folder)


def test_the_face_enlarger_adds_detail_a_plain_enlargement_lacks():
    gains = []
    for photo in portraits(4):
        h, w = (photo.shape[0] // 4) * 4, (photo.shape[1] // 4) * 4
        truth = np.ascontiguousarray(photo[:h, :w])
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        big = models.enlarge_face(small, 4)
        assert big.shape == truth.shape
        bicubic = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        gains.append(psnr(big, truth) - psnr(bicubic, truth))
        half = models.enlarge_face(small, 2)
        assert half.shape == (h // 2, w // 2, 3)
    assert np.mean(gains) > 1.0  # bench/restore_quality.py has the held-out figures


def test_the_trained_detector_and_fill_beat_the_classical_ones():
    ious: dict[str, list[float]] = {"network": [], "classical": []}
    fills: dict[str, list[float]] = {"network": [], "classical": []}
    for seed, photo in enumerate(portraits(6)):
        hurt, truth = damage.scratch(photo, seed=seed)
        for method in ious:
            found = repair.damage_mask(hurt, method=method)
            ious[method].append((found & truth).sum() / (found | truth).sum())
            filled = repair.fill(hurt, truth, method=method)
            assert np.array_equal(filled[~truth], hurt[~truth])  # only the damage changes
            fills[method].append(psnr(filled[truth], photo[truth]))
        assert repair.damage_mask(photo).mean() < 0.01  # a clean photo is left nearly alone
    assert np.mean(ious["network"]) > max(0.5, np.mean(ious["classical"]))
    assert np.mean(fills["network"]) > np.mean(fills["classical"])


def test_a_big_scan_is_looked_at_in_tiles_with_no_seams():
    photo = portraits(1)[0]
    scan = cv2.resize(photo, (700, 600), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    hurt, _truth = damage.scratch(scan, seed=3)
    whole = models.damage_probability(hurt, tile=2048)
    tiled = models.damage_probability(hurt, tile=256, margin=32)
    assert np.abs(whole - tiled).max() < 0.05  # the margin gives each tile its context


def _person_photos(count: int) -> list[np.ndarray]:
    paths = images.real_face_photos(count)
    if paths:
        from gan_engine.restore.load import load_photo

        return [load_photo(p) for p in paths]
    return [from_pil(images.packaged_face(i)) for i in range(count)]


def test_the_face_enlarger_learns_only_the_persons_own_face():
    photos = _person_photos(4)
    stranger = from_pil(images.another_person(0))
    person = personal.person_in(photos[0], 1)
    assert person is not None
    crops = personal.face_crops([*photos[1:], stranger], person)
    assert crops.shape == (3, personal.SIDE, personal.SIDE, 3)  # the stranger is left out
    tiny = cv2.resize(photos[1], (60, 60), interpolation=cv2.INTER_AREA)
    assert len(personal.face_crops([tiny], person)) == 0  # too small to hold detail

    general = models.shipped(models.FACE_ENLARGER)
    before = {k: v.clone() for k, v in general.state_dict().items()}
    own = personal.personalise(crops, cpu_seconds=2)
    assert all(torch.equal(before[k], v) for k, v in general.state_dict().items())
    assert any(not torch.equal(before[k], v) for k, v in own.state_dict().items())


def test_a_restore_with_the_persons_photos_says_whether_it_learned_their_face():
    photos = _person_photos(3)
    small = cv2.resize(photos[0], (62, 62), interpolation=cv2.INTER_AREA)
    options = Options(enlarge=4, network="compact", faces="network", personal_seconds=2)
    learned = restore(small, options, references=photos[1:])
    assert pipeline.PERSONAL in learned.notes and pipeline.FACES_KEPT in learned.notes
    stranger = [from_pil(images.another_person(1))]
    general = restore(small, options, references=stranger)
    assert pipeline.NOT_LEARNED in general.notes


def test_restore_train_trains_resumes_and_exports(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    for index in range(3):
        images.packaged_face(index).save(data / f"{index}.jpg")
    checkpoint, out = tmp_path / "run" / "fill.pt", tmp_path / "restore-fill"

    def run(minutes: float) -> dict:
        command = [sys.executable, "-m", "gan_engine", "restore-train", "fill"]
        command += ["--data", str(data), "--checkpoint", str(checkpoint), "--batch", "2"]
        command += ["--cpu-minutes", str(minutes), "--export", str(out)]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)
        return json.loads((out / "model.json").read_text())

    first = run(0.05)
    second = run(0.1)  # the same checkpoint: continues, never starts again
    assert second["step"] > first["step"] and second["cpu_seconds"] >= 6
    assert models.load(out)(torch.zeros(1, 3, 16, 16), torch.zeros(1, 16, 16)).shape == (
        1,
        3,
        16,
        16,
    )
    assert not checkpoint.with_suffix(".partial").exists()

    # Fine-tuning from an exported model: a new checkpoint that starts from its weights.
    tuned = tmp_path / "restore-fill-tuned"
    command = [sys.executable, "-m", "gan_engine", "restore-train", "fill", "--data", str(data)]
    command += ["--checkpoint", str(tmp_path / "tuned.pt"), "--batch", "2", "--cpu-minutes"]
    command += ["0.02", "--init", str(out), "--export", str(tuned)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)
    assert json.loads((tuned / "model.json").read_text())["init"] == str(out)


def test_the_colouriser_learns_against_its_critic_and_resumes_both(tmp_path):
    photos = np.stack([np.asarray(images.packaged_face(i)) for i in range(3)])
    checkpoint = tmp_path / "colour.pt"
    plan = training.Plan("colouriser", 0.02, batch=2)
    training.train(plan, photos, checkpoint)
    first = torch.load(checkpoint, weights_only=False)
    assert {"critic", "critic_optimiser"} <= set(first)  # the critic is kept to resume
    fresh = training.ColourCritic().state_dict()
    assert any(not torch.equal(first["critic"][k], fresh[k]) for k in fresh)  # it learned
    training.train(training.Plan("colouriser", 0.04, batch=2), photos, checkpoint)
    second = torch.load(checkpoint, weights_only=False)
    assert second["step"] > first["step"]
    assert any(not torch.equal(second["critic"][k], first["critic"][k]) for k in fresh)
    # A person's fine-tuning has no trained critic to learn against: L1 alone, nothing kept.
    tuned = training.train(
        training.Plan("colouriser", 0.02, batch=2, adversarial=False), photos, None
    )
    assert isinstance(tuned, torch.nn.Module)
