"""The job path as a family uses it, through pages, the API and a websocket served by daphne, with
the suite's real Celery worker: upload → prepare → train → generate → the gallery. Also the
consent gate in the view and the API, and a failed job retried from its last checkpoint."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import websockets
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from memorial.consent.models import Scope
from memorial.jobs.models import GeneratedImage, Job, Kind, ModelVersion, State
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from tests.jobs.conftest import CAPTIONS, TINY, approve, dumps, face_photo_paths, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def _model(family) -> ModelVersion:
    job = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.SUCCEEDED)
    return ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=16
    )


def test_training_without_consent_is_refused_by_the_page_and_the_api(family, client_as):
    client = client_as(family.contributor)

    page = client.get(f"/m/{family.memorial.pk}/train/")
    assert page.status_code == 200
    assert "No consent for" in page.content.decode() and "disabled" in page.content.decode()

    posted = client.post(f"/m/{family.memorial.pk}/train/", {"preset": "quick", "budget": "60"})
    assert posted.status_code == 403
    assert "No consent for" in posted.content.decode()

    api = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/",
        {"kind": "train", "preset": "quick"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api.json()["detail"].startswith("No consent for")
    assert not Job.objects.exists()


def test_generation_needs_consent_for_generated_photos(family, client_as):
    approve(family.memorial, Scope.TRAINING)  # training alone does not cover new photos
    model = _model(family)
    client = client_as(family.owner)

    api = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/",
        {"kind": "generate", "model_version": str(model.pk), "caption": "smiling", "count": 2},
        content_type="application/json",
    )
    page = client.post(model.get_absolute_url(), {"caption": "smiling", "count": 2, "seed": 0})

    assert api.status_code == 403 and "Generate new photos" in api.json()["detail"]
    assert page.status_code == 403 and "Generate new photos" in page.content.decode()
    assert not Job.objects.filter(kind=Kind.GENERATE).exists()


def test_upload_train_watch_generate_and_see_the_results(
    celery_worker, daphne_server, family, client_as, settings
):
    settings.JOB_ENGINE_OVERRIDES = TINY
    approve(family.memorial, Scope.TRAINING, Scope.GENERATED_PHOTOS)
    for i, path in enumerate(face_photo_paths()):
        ingest_photo(
            memorial=family.memorial,
            uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
            user=family.contributor,
            attested=True,
            caption=CAPTIONS[i % 4],
        )
    contributor = client_as(family.contributor)

    response = contributor.post(
        f"/m/{family.memorial.pk}/train/", {"preset": "quick", "budget": "15"}
    )
    assert response.status_code == 302
    job_id = re.search(r"/jobs/([0-9a-f-]{36})/", response["Location"]).group(1)

    cookie = _cookie(family.viewer)

    async def watch() -> list[dict]:
        url = daphne_server.url.replace("http", "ws") + f"/ws/jobs/{job_id}/"
        seen = []
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie}, origin=daphne_server.url
        ) as ws:
            while not seen or seen[-1]["state"] not in (
                "succeeded",
                "failed",
                "blocked",
                "cancelled",
            ):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=180)))
        return seen

    messages = asyncio.run(watch())
    train = Job.objects.get(pk=job_id)
    prepare = train.after
    assert prepare.state == State.SUCCEEDED, dumps(prepare)
    assert "photos can be used" in prepare.message
    assert messages[-1]["state"] == "succeeded", messages[-1]
    # The first message is the ledger's state at connection time, then live progress.
    assert messages[0]["state"] in ("queued", "running") and messages[0]["v"] == 1
    running = [m for m in messages if m["state"] == "running" and 0 < m["step"] < TINY["steps"]]
    assert running, "live progress between the first and the last step"
    assert {"percent", "eta_seconds", "losses", "images_per_second", "sample_url"} <= running[
        0
    ].keys()
    assert any(m["losses"] for m in running)
    assert messages[-1]["step"] == TINY["steps"] and messages[-1]["percent"] == 100.0
    sample_url = messages[-1]["sample_url"]
    assert sample_url.startswith(f"/media/jobs/{job_id}/sample/")

    viewer = client_as(family.viewer).get(sample_url)
    assert viewer.status_code == 200 and viewer["Content-Type"] == "image/png"
    assert client_as(family.outsider).get(sample_url).status_code == 404

    page = contributor.get(f"/m/{family.memorial.pk}/jobs/{job_id}/")
    assert page.status_code == 200 and "<progress" in page.content.decode()
    model = ModelVersion.objects.get(job_id=job_id)

    generated = contributor.post(
        model.get_absolute_url(), {"caption": "smiling, in a black suit", "count": 2, "seed": 5}
    )
    assert generated.status_code == 302
    gen_id = re.search(r"/jobs/([0-9a-f-]{36})/", generated["Location"]).group(1)
    job = wait_for(
        lambda: Job.objects.filter(pk=gen_id, state__in=["succeeded", "failed"]).first(),
        "generation",
    )
    assert job.state == State.SUCCEEDED, dumps(job)
    images = list(GeneratedImage.objects.filter(job=job).select_related("photo"))
    assert sorted(i.seed for i in images) == [5, 6]
    assert all(
        i.photo.kind == PhotoKind.GENERATED and i.caption == "smiling, in a black suit"
        for i in images
    )
    assert all(i.model_version == model for i in images)
    gallery = contributor.get(f"/m/{family.memorial.pk}/?kind=generated").content.decode()
    assert gallery.count("AI-generated") >= 2
    assert Photo.objects.filter(memorial=family.memorial, kind=PhotoKind.GENERATED).count() == 2


def test_a_failed_job_says_why_and_is_retried_from_its_last_checkpoint(
    celery_worker, family, train_job, client_as
):
    from memorial.jobs import dispatch

    approve(family.memorial, Scope.TRAINING)
    job = train_job(inject_nan_steps=[10], max_rollbacks=0)  # the loss turns NaN at step 10
    dispatch.send(job)  # outside a transaction: sent at once

    wait_for(lambda: fresh(job).state in (State.FAILED, State.SUCCEEDED), "the job to fail")
    assert job.state == State.FAILED, dumps(job)
    assert "training diverged" in job.error
    assert job.error.endswith("It can be retried from step 8.")
    assert job.checkpoint_step == 8

    job.parameters["engine"].pop("inject_nan_steps")  # the cause is fixed
    job.save(update_fields=["parameters"])
    response = client_as(family.contributor).post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 200 and response.json()["state"] == "queued"

    wait_for(lambda: fresh(job).state in (State.FAILED, State.SUCCEEDED), "the retry to finish")
    assert job.state == State.SUCCEEDED, dumps(job)
    assert job.resumed_from == 8 and "Resumed from step 8." in job.message
    assert job.step == TINY["steps"] and job.attempts == 2 and job.error == ""
