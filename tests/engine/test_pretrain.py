"""A general face prior: a corpus of many people (prepare --any-person), pretrain, train --init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan_engine.checkpoint import read_checkpoint
from gan_engine.data import prepare
from gan_engine.errors import CheckpointError, DataError
from gan_engine.generate import load_model
from gan_engine.train import Trainer, pretrain, train
from tests.engine.conftest import astronaut_variants, state_equal
from tests.images import SHARED_FACES

OTHER_PEOPLE = ("Bill_McBride", "Ian_Thorpe", "Jacques_Rogge")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two photos each of three people, one folder per person (LFW's layout), prepared as a corpus."""
    photos = tmp_path_factory.mktemp("corpus-photos")
    people = [SHARED_FACES / name for name in OTHER_PEOPLE]
    if all(person.is_dir() for person in people):
        for person in people:
            (photos / person.name).mkdir()
            for source in sorted(person.glob("*.jpg"))[:2]:
                (photos / person.name / source.name).symlink_to(source.resolve())
    else:
        (photos / "astronaut").mkdir()
        astronaut_variants(photos / "astronaut", 6)
    out = tmp_path_factory.mktemp("corpus")
    prepare(photos, out, sizes=(64,), any_person=True)
    return out


def test_a_corpus_keeps_every_persons_face_and_holds_nothing_out(corpus):
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["mode"] == "corpus"
    assert manifest["person_descriptor"] is None
    assert manifest["counts"]["used"] == 6 and manifest["counts"]["heldout"] == 0
    assert not [s for s in manifest["skipped"] if s["reason"] == "not_target_person"]


def test_pretrain_then_train_from_the_prior(corpus, tiny_config, encoder, tmp_path):
    prior = pretrain(
        tiny_config(data=str(corpus), out=str(tmp_path / "prior"), steps=2, keep_best=True),
        encoder=encoder,
        min_photos=6,
    )
    assert prior.status == "completed" and prior.step == 2
    state = read_checkpoint(prior.checkpoint)
    assert state["config"]["role"] == "prior"
    assert state["best"] is None and prior.kept is None  # a prior is of no one: every step is kept

    person = tiny_config(out=str(tmp_path / "person"), steps=2, init=str(prior.checkpoint))
    trainer = Trainer(person, encoder)
    trainer.load_prior(person.init)
    assert state_equal(trainer.G.state_dict(), state["G"])
    assert state_equal(trainer.D.state_dict(), state["D"])
    assert trainer.step == 0  # a fresh schedule: only the weights come from the prior

    result = train(person, encoder=encoder)
    assert result.step == 2
    assert any("started from the prior" in note for note in result.notes)


def test_pretrain_refuses_one_persons_data_and_a_small_corpus(
    corpus, tiny_config, encoder, tmp_path
):
    with pytest.raises(DataError, match="--any-person"):
        pretrain(tiny_config(out=str(tmp_path / "a")), encoder=encoder, min_photos=2)
    with pytest.raises(DataError, match="at least 200"):
        pretrain(tiny_config(data=str(corpus), out=str(tmp_path / "b")), encoder=encoder)


def test_a_prior_of_another_architecture_is_refused_clearly(corpus, tiny_config, encoder, tmp_path):
    prior = pretrain(
        tiny_config(data=str(corpus), out=str(tmp_path / "prior"), steps=1),
        encoder=encoder,
        min_photos=6,
    )
    wider = tiny_config(out=str(tmp_path / "person"), width=0.5, init=str(prior.checkpoint))
    with pytest.raises(CheckpointError, match=r"width=0\.25"):
        train(wider, encoder=encoder)
    assert not (tmp_path / "person" / "checkpoint.pt").exists()


def test_a_prior_drawn_with_zero_padding_still_starts_a_reflect_padded_model(
    corpus, tiny_config, encoder, tmp_path
):
    """Padding changes no weight: a prior trained with zero padding is a valid start for a
    reflect-padded model, and the model says what it changed."""
    prior = pretrain(
        tiny_config(data=str(corpus), out=str(tmp_path / "prior"), steps=1, padding="zeros"),
        encoder=encoder,
        min_photos=6,
    )
    person = tiny_config(out=str(tmp_path / "person"), steps=1, init=str(prior.checkpoint))
    result = train(person, encoder=encoder)
    assert result.step == 1
    assert "the prior was trained with padding='zeros'; this model uses 'reflect'" in result.notes
    assert load_model(result.checkpoint, device="cpu").generator.config.padding == "reflect"


def test_pretrain_from_the_command_line(corpus, tmp_path):
    from tests.engine.test_cli import run

    common = ["--resolution", "16", "--steps", "1", "--batch", "2", "--width", "0.25"]
    common += ["--device", "cpu", "--sample-every", "0"]
    done = run("pretrain", "--data", str(corpus), "--out", str(tmp_path / "prior"), *common)
    assert done.returncode == 2 and "at least 200" in done.stderr  # the corpus is tiny
    done = run(
        "pretrain",
        "--data",
        str(corpus),
        "--out",
        str(tmp_path / "prior"),
        "--min-photos",
        "6",
        *common,
    )
    assert done.returncode == 0, done.stderr
    assert read_checkpoint(tmp_path / "prior" / "checkpoint.pt")["config"]["role"] == "prior"
