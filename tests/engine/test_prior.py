"""Shipped face priors: export (fp16, no optimiser state, model card, checksum), listing without
torch, verified loading, and every kind of bad prior refused with the file named and what to do,
nothing changed on disk and a from-scratch training still possible."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_engine.checkpoint import read_checkpoint
from gan_engine.errors import EngineError
from gan_engine.prior import (
    CARD_NAME,
    MANIFEST_NAME,
    MAX_SHIPPED_BYTES,
    SHIPPED_DIR,
    WEIGHTS_NAME,
    CardFacts,
    PriorError,
    adopt_architecture,
    default_prior,
    export_prior,
    list_priors,
)
from gan_engine.train import train
from tests.engine.conftest import state_equal
from tests.engine.test_cli import run as run_cli

FACTS = CardFacts(
    data_note="Test photos (LFW, research use).",
    command="python -m gan_engine pretrain --data corpus --out prior --no-caption-bias",
    cpu_seconds=7200.0,
    metrics={"faces_detected": 0.97, "diversity": 0.41},
)


@pytest.fixture
def tiny_prior(tiny_config, encoder, tmp_path) -> Path:
    """A 16 px prior trained here for two steps without the caption bias, then exported."""
    result = train(
        tiny_config(out=str(tmp_path / "pretrain"), steps=2, caption_bias=False), encoder=encoder
    )
    return export_prior(result.checkpoint.parent, tmp_path / "shipped" / "face-16", facts=FACTS)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_writes_fp16_weights_without_optimiser_state_a_card_and_a_checksum(tiny_prior):
    assert sorted(p.name for p in tiny_prior.iterdir()) == sorted(
        [CARD_NAME, WEIGHTS_NAME, MANIFEST_NAME]
    )
    data = (tiny_prior / WEIGHTS_NAME).read_bytes()
    weights = torch.load(io.BytesIO(data), weights_only=True)
    assert not {"opt_g", "opt_d", "augment", "rng"} & weights.keys()
    assert {"G", "G_ema", "D", "config"} <= weights.keys()
    tensors = [t for key in ("G", "G_ema", "D") for t in weights[key].values()]
    assert all(t.dtype == torch.float16 for t in tensors if t.is_floating_point())

    manifest = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["size"] == len(data) <= MAX_SHIPPED_BYTES
    assert manifest["name"] == "face-16" and manifest["resolution"] == 16
    assert manifest["architecture"]["caption_bias"] is False
    assert manifest["step"] == 2 and manifest["images_seen"] == 2 * 4

    card = (tiny_prior / CARD_NAME).read_text()
    for fact in (FACTS.data_note, FACTS.command, "7200 CPU-seconds", "faces_detected", "0.97"):
        assert fact in card
    assert manifest["sha256"] in card and "8 images seen" in card


def test_export_from_the_command_line_and_never_over_existing_files(tiny_config, encoder, tmp_path):
    result = train(tiny_config(out=str(tmp_path / "pretrain"), steps=1), encoder=encoder)
    (tmp_path / "metrics.json").write_text(json.dumps({"identity_match": 0.5}))
    out = tmp_path / "face-16"
    args = ["export-prior", str(result.checkpoint.parent), str(out), "--name", "face-16"]
    args += ["--data-note", "LFW general", "--command", "pretrain ...", "--cpu-seconds", "60"]
    done = run_cli(*args, "--metrics", str(tmp_path / "metrics.json"))
    assert done.returncode == 0, done.stderr
    assert "identity_match" in (out / CARD_NAME).read_text()

    before = _files(out)
    again = run_cli(*args)
    assert again.returncode == 2 and "nothing is overwritten" in again.stderr
    assert _files(out) == before


def test_a_prior_continued_by_pretraining_counts_every_image_its_weights_have_seen(
    tiny_prior, tiny_config, encoder, tmp_path
):
    """The lineage is read when the run loads the prior and kept in its checkpoints: the prior's
    folder may be gone or replaced by the time the run is exported."""
    config = adopt_architecture(tiny_config(out=str(tmp_path / "more"), steps=1), tiny_prior)
    result = train(config, encoder=encoder)
    before = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    tiny_prior.rename(tmp_path / "replaced")
    again = export_prior(result.checkpoint.parent, tmp_path / "face-16-more", facts=FACTS)
    manifest = json.loads((again / MANIFEST_NAME).read_text())
    assert manifest["step"] == 1 and manifest["images_seen"] == 4 + before["images_seen"]
    assert manifest["continued_from"] == {
        "name": "face-16",
        "step": 2,
        "images_seen": 8,
        "sha256": before["sha256"],
    }
    assert "continuing face-16 (step 2, 8 images" in (again / CARD_NAME).read_text()
    assert "12 images seen in all" in (again / CARD_NAME).read_text()


def test_training_starts_from_a_verified_prior_with_its_weights(
    tiny_prior, tiny_config, encoder, tmp_path
):
    from gan_engine.train import Trainer

    config = adopt_architecture(tiny_config(out=str(tmp_path / "person"), steps=1), tiny_prior)
    assert config.caption_bias is False and config.init == str(tiny_prior)  # the prior's networks
    trainer = Trainer(config, encoder)
    trainer.load_prior(config.init)
    shipped = torch.load(tiny_prior / WEIGHTS_NAME, weights_only=True)
    assert state_equal(
        trainer.G_ema.state_dict(), {k: v.float() for k, v in shipped["G_ema"].items()}
    )
    result = train(config, encoder=encoder)
    assert result.step == 1
    assert any(note.startswith(f"started from the prior {tiny_prior}") for note in result.notes)


def test_a_model_started_from_a_prior_fine_tunes_with_the_settings_it_recommends(
    tiny_prior, tiny_config, tmp_path
):
    """A prior's manifest may carry the fine-tuning settings measured with it (face-64: frozen
    first discriminator stages, without which a family's model loses the likeness it first
    found); other fields in it are ignored."""
    manifest = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    before = adopt_architecture(tiny_config(out=str(tmp_path / "a"), steps=1), tiny_prior)
    manifest["fine_tune"] = {"lr_g": 5e-5, "lr_d": 6e-5, "freeze_d": 1, "batch": 999}
    (tiny_prior / MANIFEST_NAME).write_text(json.dumps(manifest))
    config = adopt_architecture(tiny_config(out=str(tmp_path / "b"), steps=1), tiny_prior)
    assert (before.lr_g, before.lr_d) == (tiny_config(out="x").lr_g, tiny_config(out="x").lr_d)
    assert (config.lr_g, config.lr_d, config.freeze_d) == (5e-5, 6e-5, 1)
    assert before.freeze_d == 0
    assert config.batch == before.batch and config.caption_bias is False
    assert type(config.freeze_d) is int  # JSON's 1 and 1.0 are one number; a layer count is not


def test_a_frozen_discriminator_stage_keeps_the_priors_weights_while_the_rest_learns(
    tiny_prior, tiny_config, encoder, tmp_path
):
    """``freeze_d`` (a prior may recommend it): D's first stages stay exactly as the prior learned
    them through a fine-tuning, the later ones and G move; without a prior it is refused."""
    manifest = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    manifest["fine_tune"] = {"freeze_d": 1.0}  # as the product reads it: from the prior's manifest
    (tiny_prior / MANIFEST_NAME).write_text(json.dumps(manifest))
    config = adopt_architecture(tiny_config(out=str(tmp_path / "run"), steps=3), tiny_prior)
    result = train(config, encoder=encoder)
    trained = read_checkpoint(result.checkpoint)["D"]
    shipped = torch.load(tiny_prior / WEIGHTS_NAME, weights_only=True)["D"]
    first = [k for k in shipped if k.startswith("from_rgb.") and "weight_orig" in k]
    later = [k for k in shipped if k.startswith("blocks.") and "weight_orig" in k]
    assert first and later
    for key in first:  # fp16 in the shipped file: compare at its precision
        assert torch.equal(trained[key].half(), shipped[key])
    assert any(not torch.equal(trained[key].half(), shipped[key]) for key in later)
    with pytest.raises(EngineError, match="needs init"):
        train(tiny_config(out=str(tmp_path / "scratch"), steps=1, freeze_d=1), encoder=encoder)


def test_the_shipped_face_prior_recommends_the_measured_fine_tuning_settings():
    """What ships: face-64 is found for 64 px models and carries its fine-tuning settings."""
    shipped = list_priors(SHIPPED_DIR, Path("/nonexistent"))
    prior = default_prior(64, shipped)
    assert prior is not None and prior.folder == SHIPPED_DIR / "face-64"
    assert prior.fine_tune == {"lr_g": 2e-4, "lr_d": 2e-4, "freeze_d": 3}


def _missing_weights(prior: Path) -> str:
    (prior / WEIGHTS_NAME).unlink()
    return f"{prior / WEIGHTS_NAME} are missing"


def _truncated(prior: Path) -> str:
    data = (prior / WEIGHTS_NAME).read_bytes()
    (prior / WEIGHTS_NAME).write_bytes(data[: len(data) // 2])
    return f"{prior / WEIGHTS_NAME} are truncated"


def _tampered(prior: Path) -> str:
    data = bytearray((prior / WEIGHTS_NAME).read_bytes())
    data[-100] ^= 0xFF  # same size, one byte changed
    (prior / WEIGHTS_NAME).write_bytes(bytes(data))
    return f"{prior / WEIGHTS_NAME} have been changed or damaged"


def _card_missing(prior: Path) -> str:
    (prior / CARD_NAME).unlink()
    return f"model card {prior / CARD_NAME} is missing"


@pytest.mark.parametrize(
    "damage", [_missing_weights, _truncated, _tampered, _card_missing], ids=lambda f: f.__name__
)
def test_a_bad_prior_is_refused_naming_the_file_and_from_scratch_still_trains(
    damage, tiny_prior, tiny_config, encoder, tmp_path
):
    expected = damage(tiny_prior)
    before = _files(tiny_prior)
    config = tiny_config(out=str(tmp_path / "person"), steps=1, caption_bias=False)
    config.init = str(tiny_prior)
    with pytest.raises(PriorError) as refused:
        train(config, encoder=encoder)
    message = str(refused.value)
    assert expected in message
    assert "train from scratch" in message and "reinstall Memorial / put back the file" in message
    assert _files(tiny_prior) == before  # nothing repaired, replaced or removed
    assert not (tmp_path / "person" / "checkpoint.pt").exists()

    config.init = None
    assert train(config, encoder=encoder).step == 1  # from scratch, in the same folder


def test_a_prior_of_another_resolution_or_architecture_is_refused(
    tiny_prior, tiny_config, encoder, tmp_path
):
    before = _files(tiny_prior)
    at_64 = tiny_config(out=str(tmp_path / "a"), resolution=64, caption_bias=False)
    at_64.init = str(tiny_prior)
    with pytest.raises(PriorError, match=r"face-16 is for 16 px pictures, not 64 px"):
        train(at_64, encoder=encoder)
    with pytest.raises(PriorError, match=r"for 16 px pictures, not 64 px"):
        adopt_architecture(at_64, tiny_prior)

    # Asked for explicitly with other networks (the command line): refused, naming the field.
    other = tiny_config(out=str(tmp_path / "b"), init=str(tiny_prior))  # caption_bias=True
    with pytest.raises(Exception, match=r"caption_bias=False; this run asks for caption_bias=True"):
        train(other, encoder=encoder)
    assert _files(tiny_prior) == before
    assert not (tmp_path / "a" / "checkpoint.pt").exists()
    assert not (tmp_path / "b" / "checkpoint.pt").exists()


def test_a_manifest_that_lies_about_the_architecture_is_refused(
    tiny_prior, tiny_config, encoder, tmp_path
):
    manifest = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    manifest["architecture"]["caption_bias"] = True
    (tiny_prior / MANIFEST_NAME).write_text(json.dumps(manifest))
    config = tiny_config(out=str(tmp_path / "person"), steps=1, init=str(tiny_prior))
    with pytest.raises(PriorError, match=r"says caption_bias=True, its weights were trained with"):
        train(config, encoder=encoder)


def test_listing_reads_manifests_without_torch_and_the_administrators_prior_wins(
    tiny_prior, tmp_path
):
    shipped = tiny_prior.parent
    admin = tmp_path / "admin"
    (admin / "face-16").mkdir(parents=True)
    manifest = json.loads((tiny_prior / MANIFEST_NAME).read_text())
    (admin / "face-16" / MANIFEST_NAME).write_text(json.dumps({**manifest, "sha256": "0" * 64}))
    (admin / "broken").mkdir()
    (admin / "broken" / MANIFEST_NAME).write_text("{not json")

    script = (
        "import sys, json; from gan_engine.prior import list_priors, default_prior; "
        f"found = list_priors({str(shipped)!r}, {str(admin)!r}); "
        "print(json.dumps({n: [str(p.folder), p.shipped] for n, p in found.items()})); "
        "print(default_prior(16, found).name, default_prior(64, found)); "
        "print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    listed, default, torch_loaded = done.stdout.strip().splitlines()
    assert json.loads(listed) == {"face-16": [str(admin / "face-16"), False]}
    assert default == "face-16 None"
    assert torch_loaded == "False"

    only_shipped = list_priors(shipped, tmp_path / "nowhere")
    assert only_shipped["face-16"].shipped and default_prior(16, only_shipped).folder == tiny_prior


def test_the_shipped_priors_stay_under_40_mb_with_cards_and_manifests():
    """What ships in the package (gan_engine/weights/): complete, verified, small."""
    from gan_engine.prior import verify

    folders = [p for p in SHIPPED_DIR.iterdir() if p.is_dir()] if SHIPPED_DIR.is_dir() else []
    total = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())
    assert total <= MAX_SHIPPED_BYTES
    for folder in folders:
        info, _data = verify(folder)
        assert info.name == folder.name


def test_a_prior_draws_samples_as_a_model_does(tiny_prior):
    """The prior's own quality is measured from its samples (bench/prior_quality.py): its folder
    loads as a model, drawing the same pictures as the run it was exported from (fp16 apart)."""
    from gan_engine.generate import load_model, sample

    model = load_model(tiny_prior, device="cpu")
    assert model.config["caption_bias"] is False and model.step == 2
    images = sample(model, [0, 1])
    assert images[0].shape == (3, 16, 16) and not torch.equal(images[0], images[1])
