"""After a training run succeeds, an `evaluate` job (queue cpu, the suite's real worker) measures
the model on the held-out photos with gan_engine's evaluation; the model page shows its figures
beside the real photos' ceiling, with the report's pictures behind a permission check."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from memorial.consent.models import Scope
from memorial.jobs import dispatch
from memorial.jobs.models import Job, Kind, ModelVersion, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_trained_model_gets_an_evaluation_report_on_its_page(
    celery_worker, family, train_job, client_as
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=4, sample_every=0)
    job.parameters["evaluation"] = {"samples": 4}  # as the "Train a model" form asks, but tiny
    job.save(update_fields=["parameters"])
    dispatch.send(job)

    wait_for(lambda: fresh(job).finished, "the training to finish")
    assert job.state == State.SUCCEEDED, dumps(job)
    model = ModelVersion.objects.get(job=job)
    evaluation = wait_for(
        lambda: Job.objects.filter(
            kind=Kind.EVALUATE, state__in=[State.SUCCEEDED, State.FAILED]
        ).first(),
        "the evaluation to finish",
    )
    assert evaluation.state == State.SUCCEEDED, dumps(evaluation)
    assert evaluation.queue == "cpu" and evaluation.parameters["model_version"] == str(model.pk)
    report = evaluation.result["report"]
    assert report["samples"] == 4 and report["photos"]["heldout"] >= 1
    assert 0.0 <= report["identity"]["identity_match_rate"] <= 1.0
    assert report["ceiling"] is not None  # the real photos' own figures
    files = evaluation.result["files"]
    folder = f"memorials/{family.memorial.pk}/models/{job.pk}/evaluation/{evaluation.pk}/"
    assert set(files) == {"json", "heldout_pairs", "samples"}
    assert all(key.startswith(folder) and default_storage.exists(key) for key in files.values())

    page = client_as(family.viewer).get(model.get_absolute_url()).content.decode()
    assert 'id="evaluation-figures"' in page
    labels = ("Identity match rate", "Face detection rate", "SSIM", "PSNR", "Variety", "shape")
    for label in labels:
        assert label in page
    assert "Real photos (ceiling)" in page
    picture = f"{model.get_absolute_url()}evaluation/heldout_pairs.png"
    assert f'src="{picture}"' in page

    shown = client_as(family.viewer).get(picture)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(b"".join(shown.streaming_content)))
    assert image.text["memorial:kind"] == "report"
    sheet = client_as(family.viewer).get(f"{model.get_absolute_url()}evaluation/samples.png")
    sheet_image = Image.open(io.BytesIO(b"".join(sheet.streaming_content)))
    assert sheet_image.text["memorial:generated"] == "true"  # labelled as generated
    assert client_as(family.outsider).get(picture).status_code == 404
    assert (
        client_as(family.viewer).get(f"{model.get_absolute_url()}evaluation/nope.png").status_code
        == 404
    )


def test_a_model_page_says_when_there_is_no_report_yet(family, client_as):
    job = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.SUCCEEDED)
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=16
    )
    page = client_as(family.viewer).get(model.get_absolute_url()).content.decode()
    assert "No evaluation report for this model." in page

    Job.objects.create(
        kind=Kind.EVALUATE,
        memorial=family.memorial,
        parameters={"model_version": str(model.pk)},
        queue="cpu",
    )
    page = client_as(family.viewer).get(model.get_absolute_url()).content.decode()
    assert "the report appears here when it is ready" in page
