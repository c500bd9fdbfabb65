"""Options the engine no longer has (``noise``, ``upsample``, ``mbstd_group``, ``mode_seeking``):
checkpoints and priors saved with them at the value the engine still draws with keep working
(resume, generate, start a model); those trained with another value are refused by name."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import torch

from gan_engine.checkpoint import CHECKPOINT_NAME, load_checkpoint, read_checkpoint, save_checkpoint
from gan_engine.errors import CheckpointError
from gan_engine.generate import load_model
from gan_engine.prior import (
    MANIFEST_NAME,
    WEIGHTS_NAME,
    CardFacts,
    PriorError,
    adopt_architecture,
    export_prior,
    list_priors,
    problem,
    read_manifest,
)
from gan_engine.train import train
from tests.engine.test_cli import run as run_cli

#: What a checkpoint written before the options were removed holds (their defaults then).
OLD_DEFAULTS = {"noise": "everywhere", "upsample": "nearest", "mbstd_group": 0, "mode_seeking": 0.0}
#: One value per removed option that the engine can no longer draw with, and how it is named.
OTHER_VALUES = [
    ("noise", "seed", "--noise seed"),
    ("upsample", "bilinear", "--upsample bilinear"),
    ("mbstd_group", 4, "--mbstd 4"),
    ("mode_seeking", 0.1, "--mode-seeking 0.1"),
]
FACTS = CardFacts(data_note="Test photos.", command="python -m gan_engine pretrain ...")


def _old_run(tiny_config, encoder, out: Path, **config_values) -> Path:
    """A two-step run whose checkpoint config holds the removed fields, as older code wrote it."""
    result = train(tiny_config(out=str(out), steps=2, caption_bias=False), encoder=encoder)
    path = result.checkpoint
    state = read_checkpoint(path)
    state["config"].update({**OLD_DEFAULTS, **config_values})
    save_checkpoint(state, out)
    return out


def _manifest_with(folder: Path, **fields) -> None:
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["architecture"].update(fields)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def test_a_checkpoint_and_a_prior_with_the_removed_fields_at_their_defaults_keep_working(
    tiny_config, encoder, tmp_path
):
    run = _old_run(tiny_config, encoder, tmp_path / "pretrain")
    assert load_checkpoint(run)["config"]["noise"] == "everywhere"
    assert load_model(run, device="cpu").step == 2
    resumed = train(
        tiny_config(out=str(run), steps=3, caption_bias=False, resume=True), encoder=encoder
    )
    assert resumed.step == 3
    # Started from the run's checkpoint (train --init).
    person = tiny_config(out=str(tmp_path / "a"), steps=1, caption_bias=False, init=str(run))
    assert train(person, encoder=encoder).step == 1

    # Its shipped form, with a manifest that lists the fields as older code wrote it.
    prior = export_prior(run, tmp_path / "shipped" / "face-16", facts=FACTS)
    _manifest_with(prior, **OLD_DEFAULTS)
    info = list_priors(shipped=tmp_path / "shipped")["face-16"]
    assert info.architecture["noise"] == "everywhere" and problem(info) is None
    config = adopt_architecture(tiny_config(out=str(tmp_path / "b"), steps=1), prior)
    assert config.caption_bias is False
    result = train(config, encoder=encoder)
    assert result.step == 1
    assert f"started from the prior {prior} (step 3)" in result.notes


@pytest.mark.parametrize(("field", "value", "named"), OTHER_VALUES)
def test_a_checkpoint_trained_with_a_removed_option_is_refused_by_name(
    tiny_config, encoder, tmp_path, field, value, named
):
    run = _old_run(tiny_config, encoder, tmp_path / "old", **{field: value})
    before = (run / CHECKPOINT_NAME).read_bytes()
    refusal = f"trained with {named}, which Memorial no longer supports; train a new model"
    with pytest.raises(CheckpointError, match=refusal):
        load_checkpoint(run)
    with pytest.raises(CheckpointError, match=refusal):
        load_model(run, device="cpu")
    with pytest.raises(CheckpointError, match=refusal):
        train(tiny_config(out=str(run), steps=3, caption_bias=False, resume=True), encoder=encoder)
    person = tiny_config(out=str(tmp_path / "a"), steps=1, caption_bias=False, init=str(run))
    with pytest.raises(CheckpointError, match=refusal):
        train(person, encoder=encoder)
    assert (run / CHECKPOINT_NAME).read_bytes() == before  # nothing changed on disk


@pytest.mark.parametrize(("field", "value", "named"), OTHER_VALUES)
def test_a_prior_trained_with_a_removed_option_is_refused_by_name(
    tiny_config, encoder, tmp_path, field, value, named
):
    prior = export_prior(
        _old_run(tiny_config, encoder, tmp_path / "pretrain"),
        tmp_path / "shipped" / "face-16",
        facts=FACTS,
    )
    # The weights say so (the manifest kept in step with them, checksum and all).
    weights = torch.load(io.BytesIO((prior / WEIGHTS_NAME).read_bytes()), weights_only=True)
    weights["config"][field] = value
    buffer = io.BytesIO()
    torch.save(weights, buffer)
    data = buffer.getvalue()
    (prior / WEIGHTS_NAME).write_bytes(data)
    manifest = json.loads((prior / MANIFEST_NAME).read_text())
    manifest.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (prior / MANIFEST_NAME).write_text(json.dumps(manifest))
    refusal = f"trained with {named}, which Memorial no longer supports; train a new model"
    person = tiny_config(out=str(tmp_path / "a"), steps=1, caption_bias=False, init=str(prior))
    with pytest.raises(PriorError, match=refusal):
        train(person, encoder=encoder)

    # The manifest says so: refused before any weight is read, and listed with the reason.
    _manifest_with(prior, **{field: value})
    assert refusal in (problem(read_manifest(prior)) or "")
    with pytest.raises(PriorError, match=refusal):
        adopt_architecture(tiny_config(out=str(tmp_path / "b")), prior)
    assert not (tmp_path / "a" / CHECKPOINT_NAME).exists()


def test_the_command_line_refuses_a_removed_option_in_one_line(tiny_config, encoder, tmp_path):
    run = _old_run(tiny_config, encoder, tmp_path / "old", noise="seed")
    done = run_cli("generate", str(run), str(tmp_path / "out"), "--count", "1", "--device", "cpu")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ")
    assert "trained with --noise seed, which Memorial no longer supports" in done.stderr
    assert "Traceback" not in done.stderr
    assert run_cli("train", "--help").stdout.count("--noise") == 0
