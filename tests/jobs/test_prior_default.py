"""Every quality starts from the shipped face prior of its picture size by default: the form
preselects it (and says plainly when there is none), the job records it, the worker starts the
engine from it with the prior's networks, and a damaged prior fails the job clearly while a
training from scratch still works. The prior here is a tiny one trained by the test and installed
into the shipped location (GAN_ENGINE_SHIPPED_PRIORS); the real weights are never used."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from memorial.consent.models import Scope
from memorial.jobs import presets, services
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import TINY, approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def exported_prior(prepared_dir, tmp_path_factory) -> Path:
    """A 16 px prior of the suite's tiny networks, without the caption bias (as the real prior is
    trained), exported as it ships: weights.pt, prior.json, MODEL_CARD.md."""
    from gan_engine.prior import CardFacts, export_prior
    from gan_engine.train import TrainConfig, train

    work = tmp_path_factory.mktemp("prior-run")
    engine = {**TINY, "steps": 2, "sample_every": 0}
    result = train(
        TrainConfig(data=str(prepared_dir), out=str(work / "run"), caption_bias=False, **engine)
    )
    return export_prior(
        result.checkpoint.parent, work / "export" / "face-16", facts=CardFacts("test photos")
    )


@pytest.fixture
def shipped(exported_prior, tmp_path, monkeypatch, settings) -> Path:
    """The shipped-priors folder of this test holding a copy of the tiny prior, and training
    settings whose presets make 16 px pictures (so the Quick preset's size is the prior's)."""
    import shutil

    folder = tmp_path / "shipped"
    shutil.copytree(exported_prior, folder / "face-16")
    # With fine-tuning settings as face-64's manifest carries them (JSON numbers), scaled to the
    # tiny discriminator's stages: the worker must train with them as they are read.
    manifest = folder / "face-16" / "prior.json"
    values = json.loads(manifest.read_text())
    values["fine_tune"] = {"lr_g": 0.0002, "lr_d": 0.0002, "freeze_d": 1}
    manifest.write_text(json.dumps(values, indent=2))
    monkeypatch.setenv("GAN_ENGINE_SHIPPED_PRIORS", str(folder))
    settings.PRIORS_DIR = tmp_path / "admin-priors"
    settings.JOB_ENGINE_OVERRIDES = {**TINY, "steps": 2, "sample_every": 0}
    return folder


def _captioned_photo(family) -> None:
    from memorial.memorials.models import Photo

    Photo.objects.create(
        memorial=family.memorial,
        caption="smiling",
        kind="uploaded",
        content_type="image/jpeg",
        width=64,
        height=64,
        file_size=1,
        sha256="0" * 64,
    )


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_form_preselects_the_shipped_prior_and_the_job_records_it(
    family, client_as, shipped, monkeypatch
):
    from memorial.jobs import dispatch

    monkeypatch.setattr(dispatch, "send", lambda job: None)  # only the ledger matters here
    approve(family.memorial, Scope.TRAINING)
    _captioned_photo(family)
    client = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/train/"

    html = client.get(url).content.decode()
    assert '<option value="auto" selected>' in html and '<option value="face-16">' in html
    assert "Quick: 64 px: starts from the general face prior “face-16”." in html

    started = client.post(url, {"preset": "quick", "budget": "15", "prior": "auto"})
    assert started.status_code == 302
    assert Job.objects.get(kind=Kind.TRAIN).parameters["prior"] == "face-16"

    api = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/",
        {"kind": "train", "preset": "quick"},  # no prior given: the default
        content_type="application/json",
    )
    assert api.status_code == 201, api.content
    assert Job.objects.get(pk=api.json()["id"]).parameters["prior"] == "face-16"

    scratch = client.post(url, {"preset": "quick", "budget": "15", "prior": ""})
    assert scratch.status_code == 302
    assert "prior" not in Job.objects.filter(kind=Kind.TRAIN).latest("created_at").parameters


def test_without_a_prior_for_the_size_the_form_says_it_learns_from_scratch(
    family, client_as, shipped, settings
):
    settings.JOB_ENGINE_OVERRIDES = {}  # Quick makes 64 px pictures: the 16 px prior does not fit
    approve(family.memorial, Scope.TRAINING)
    html = client_as(family.contributor).get(f"/m/{family.memorial.pk}/train/").content.decode()
    assert (
        "Quick: 64 px: no face prior is installed for 64 px pictures, so the model learns from "
        "these photos alone" in html
    )
    assert presets.chosen_prior(presets.AUTO, 64) == ""

    _captioned_photo(family)
    with pytest.raises(services.Refused, match="is for 16 px pictures; this quality makes 64 px"):
        services.start_training(family.memorial, family.contributor, "quick", 15, prior="face-16")
    job = services.start_training(family.memorial, family.contributor, "quick", 15)
    assert "prior" not in job.parameters  # from scratch, as the form said


def test_the_default_job_config_starts_from_the_shipped_prior_with_its_networks(
    family, shipped, monkeypatch, tmp_path
):
    from memorial.jobs import dispatch, training

    monkeypatch.setattr(dispatch, "send", lambda job: None)
    approve(family.memorial, Scope.TRAINING)
    _captioned_photo(family)
    job = services.start_training(family.memorial, family.contributor, "quick", 15)
    params = job.parameters
    assert params["prior"] == "face-16"

    assert params["engine"]["caption_bias"] is False  # the job records the prior's networks...
    resumed = training.engine_config(params["engine"], tmp_path / "data", tmp_path / "run", True)
    assert resumed.caption_bias is False and resumed.init is None  # ...so a resume builds them

    scratch = {k: v for k, v in params["engine"].items() if k != "caption_bias"}
    config = training.engine_config(scratch, tmp_path / "data", tmp_path / "run", False)
    assert config.caption_bias is True  # the engine's default...
    config = training.start_from_prior(config, params["prior"], presets.prior_path(params["prior"]))
    assert config.init == str(shipped / "face-16")
    assert config.caption_bias is False  # ...replaced by the prior's architecture on the worker


def test_an_administrators_prior_of_the_same_name_wins(shipped, settings, exported_prior):
    import shutil

    shutil.copytree(exported_prior, settings.PRIORS_DIR / "face-16")
    assert presets.prior_path("face-16") == settings.PRIORS_DIR / "face-16"
    assert presets.installed_priors()["face-16"].shipped is False


def test_the_worker_trains_from_the_shipped_prior_and_a_tampered_one_fails_clearly(
    start_worker, own_broker, family, train_job, shipped
):
    approve(family.memorial, Scope.TRAINING)
    start_worker(GAN_ENGINE_SHIPPED_PRIORS=str(shipped))

    job = train_job(steps=2, sample_every=0)
    job.parameters["prior"] = "face-16"
    job.save(update_fields=["parameters"])
    own_broker.send("train", job.pk)
    wait_for(lambda: fresh(job).finished, "the training to finish")
    assert job.state == State.SUCCEEDED, dumps(job)
    assert any("started from the prior" in note for note in job.result["notes"]), job.result

    weights = shipped / "face-16" / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    before = _files(shipped / "face-16")
    bad = train_job(steps=2, sample_every=0)
    bad.parameters["prior"] = "face-16"
    bad.save(update_fields=["parameters"])
    own_broker.send("train", bad.pk)
    wait_for(lambda: fresh(bad).finished, "the training to fail")
    assert bad.state == State.FAILED, dumps(bad)
    assert str(weights) in bad.error and "changed or damaged" in bad.error
    assert "None: learn from these photos alone" in bad.error
    assert _files(shipped / "face-16") == before  # nothing repaired or replaced

    scratch = train_job(steps=2, sample_every=0)  # no prior: from scratch still works
    own_broker.send("train", scratch.pk)
    wait_for(lambda: fresh(scratch).finished, "the training from scratch to finish")
    assert scratch.state == State.SUCCEEDED, dumps(scratch)


def test_a_shipped_prior_without_its_card_is_named_on_the_form_and_training_starts_from_scratch(
    family, client_as, shipped, monkeypatch
):
    from memorial.jobs import dispatch

    monkeypatch.setattr(dispatch, "send", lambda job: None)
    approve(family.memorial, Scope.TRAINING)
    _captioned_photo(family)
    card = shipped / "face-16" / "MODEL_CARD.md"
    card.unlink()
    before = _files(shipped / "face-16")
    client = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/train/"

    html = client.get(url).content.decode()
    assert "Quick: 64 px: the face prior “face-16” cannot be used (" in html
    assert f"model card {card} is missing" in html
    assert "so the model learns from these photos alone." in html

    chosen = client.post(url, {"preset": "quick", "budget": "15", "prior": "face-16"})
    assert chosen.status_code == 400 and not Job.objects.filter(kind=Kind.TRAIN).exists()
    assert f"model card {card} is missing" in chosen.content.decode()

    default = client.post(url, {"preset": "quick", "budget": "15", "prior": "auto"})
    assert default.status_code == 302
    assert "prior" not in Job.objects.get(kind=Kind.TRAIN).parameters  # from scratch
    assert _files(shipped / "face-16") == before and not card.exists()  # nothing put back
