"""The "Train a model" form: an estimated duration from the ledger's measured throughput, the
preparation and the queue; and an optional general face prior handed to the engine (`init`)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from memorial.consent.models import Scope
from memorial.jobs import estimate
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import TINY, approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _estimate_data(html: str) -> dict:
    found = re.search(
        r'<script id="train-estimate-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "the form carries the estimate's parts for its script"
    return json.loads(found.group(1))


def _captioned_photos(family, n: int, uncaptioned: int = 0) -> None:
    from memorial.memorials.models import Photo

    for i in range(n + uncaptioned):
        Photo.objects.create(
            memorial=family.memorial,
            caption=f"photo {i}" if i < n else "",
            kind="uploaded",
            content_type="image/jpeg",
            width=64,
            height=64,
            file_size=1,
            sha256=f"{i:064d}",
        )


def test_before_the_server_measured_its_speed_the_form_says_the_time_is_not_known(
    family, client_as
):
    approve(family.memorial, Scope.TRAINING)
    page = client_as(family.contributor).get(f"/m/{family.memorial.pk}/train/")
    assert page.status_code == 200
    html = page.content.decode()
    data = _estimate_data(html)
    quick = data["presets"]["quick"]
    assert quick == {
        "training_seconds": 20_000 * 16 / 400,
        "images_per_second": 400.0,
        "measured": False,
        "source": "default",
    }
    assert data["wait_seconds"] == 0.0  # nothing runs: a worker is free now
    assert data["known"] is False
    assert 'id="train-estimate"' in html and "Estimated duration" in html
    # The preset's default is a GPU's speed: 13 minutes here would be hours on a CPU.
    assert "about 13 minutes" not in html and "not known yet" in html
    assert "Reload this page in a moment for an estimate" in html
    assert "GPU" not in html


def test_the_estimate_follows_measured_throughput_preparation_and_the_queue(family):
    now = timezone.now()
    Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        parameters={"engine": {"resolution": 64, "steps": 100}},
        images_per_second=800.0,
        finished_at=now,
    )
    Job.objects.create(
        kind=Kind.PREPARE,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        step=10,
        started_at=now - timedelta(seconds=20),
        finished_at=now,
    )
    Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.other_memorial,
        state=State.RUNNING,
        queue="gpu",
        eta_seconds=120.0,
    )
    _captioned_photos(family, 3, uncaptioned=2)  # every photo is prepared, captioned or not

    guess = estimate.for_memorial(family.memorial)

    assert guess.presets["quick"].measured and guess.presets["quick"].images_per_second == 800.0
    assert guess.presets["quick"].training_seconds == 20_000 * 16 / 800
    assert not guess.presets["standard"].measured  # no run at 128 px finished yet
    assert guess.prepare_seconds == 5 * 2.0  # 2 s per photo, measured
    assert guess.wait_seconds == 120.0  # the running job's ETA
    assert guess.total("quick", 15) == 10 + 120 + 400
    assert guess.total("high", 15) == 10 + 120 + 15 * 60  # the budget caps training


def test_a_busy_queue_without_an_eta_gives_no_wait_figure(family):
    Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.RUNNING, queue="gpu")
    assert estimate.for_memorial(family.memorial).wait_seconds is None


@pytest.fixture
def priors_dir(tmp_path, settings) -> Path:
    settings.PRIORS_DIR = tmp_path / "priors"
    (settings.PRIORS_DIR / "faces-v1").mkdir(parents=True)
    return settings.PRIORS_DIR


def test_the_form_offers_installed_priors_and_queues_the_chosen_one(
    family, client_as, priors_dir, settings, monkeypatch
):
    from memorial.jobs import dispatch

    monkeypatch.setattr(dispatch, "send", lambda job: None)  # only the ledger matters here
    approve(family.memorial, Scope.TRAINING)
    _captioned_photos(family, 3)
    client = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/train/"
    assert 'name="prior"' not in client.get(url).content.decode()  # nothing installed yet

    (priors_dir / "faces-v1" / "checkpoint.pt").write_bytes(b"x")
    (priors_dir / "older.pt").write_bytes(b"x")
    html = client.get(url).content.decode()
    assert 'name="prior"' in html and '<option value="faces-v1">' in html
    assert '<option value="older">' in html

    refused = client.post(url, {"preset": "quick", "budget": "15", "prior": "../../etc"})
    assert refused.status_code == 400 and not Job.objects.filter(kind=Kind.TRAIN).exists()

    started = client.post(url, {"preset": "quick", "budget": "15", "prior": "faces-v1"})
    assert started.status_code == 302
    job = Job.objects.get(kind=Kind.TRAIN)
    assert job.parameters["prior"] == "faces-v1"

    api = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/",
        {"kind": "train", "preset": "quick", "prior": "missing"},
        content_type="application/json",
    )
    assert api.status_code == 400 and "not installed" in api.json()["detail"]


def test_a_prior_missing_on_the_worker_fails_the_job_clearly(broker, job_worker, family, train_job):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=4)
    job.parameters["prior"] = "faces-v1"  # the worker's priors folder does not have it
    job.save(update_fields=["parameters"])

    broker.send("train", job.pk)
    wait_for(lambda: fresh(job).finished, "the job to fail")

    assert job.state == State.FAILED, dumps(job)
    assert job.error == "The prior “faces-v1” is not installed on this worker."


def test_training_starts_from_the_chosen_prior(
    start_worker, own_broker, family, train_job, priors_dir, prepared_dir
):
    """The prior is a tiny model trained here (a person's model works as a prior, with a note)."""
    from gan_engine.train import TrainConfig, train

    approve(family.memorial, Scope.TRAINING)
    engine = {**TINY, "steps": 2, "sample_every": 0}
    train(TrainConfig(data=str(prepared_dir), out=str(priors_dir / "faces-v1"), **engine))
    job = train_job(steps=4, sample_every=0)
    job.parameters["prior"] = "faces-v1"
    job.save(update_fields=["parameters"])

    start_worker(MEMORIAL_PRIORS_DIR=str(priors_dir))  # the worker's own copy of the folder

    own_broker.send("train", job.pk)
    wait_for(lambda: fresh(job).finished, "the training to finish")

    assert job.state == State.SUCCEEDED, dumps(job)
    assert any("started from the prior" in note for note in job.result["notes"]), job.result
