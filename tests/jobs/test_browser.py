"""The job page in a real Chromium against daphne, with the suite's real worker: the progress bar
and the sample grid change live over the websocket, Cancel stops the run, the page says so. Then
the whole path from the forms: train a tiny model to the end, generate four photos from a
caption, watch them arrive on the job page and find them in the gallery, labelled AI-generated."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.consent.models import Scope
from memorial.jobs import dispatch, workers
from memorial.jobs import lease as leases
from memorial.jobs.estimate import for_memorial
from memorial.jobs.models import GeneratedImage, Job, Kind, State
from memorial.memorials.ingest import ingest_photo
from tests.jobs.conftest import CAPTIONS, TINY, approve, dumps, face_photo_paths, fresh, wait_for
from tests.servers import Daphne
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_watch_a_training_run_live_and_cancel_it(
    celery_worker, daphne_server, family, train_job, artifacts_dir
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=100_000, sample_every=20, checkpoint_every_steps=50)
    client = Client()
    client.force_login(family.contributor)
    session = client.cookies["sessionid"].value
    url = daphne_server.url + job.get_absolute_url()
    dispatch.send(job)  # the page gets the ledger's state first, whenever it connects

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        host = daphne_server.url.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=20_000)

        bar = page.locator("#job-progress")
        page.wait_for_function(
            "() => document.getElementById('job-progress').value > 0", timeout=120_000
        )
        first = bar.evaluate("el => el.value")
        page.wait_for_function(
            "(first) => document.getElementById('job-progress').value > first",
            arg=first,
            timeout=60_000,
        )
        sample = page.locator("[data-field=sample]")
        expect(sample).to_have_attribute(
            "src", re.compile(r"/media/jobs/.+/sample/\?step=\d+"), timeout=60_000
        )
        src = sample.get_attribute("src")
        page.wait_for_function(
            "(src) => document.querySelector('[data-field=sample]').getAttribute('src') !== src",
            arg=src,
            timeout=60_000,
        )  # a newer grid replaced it, without reloading the page
        page.wait_for_function(  # and it is a picture the browser could load and show
            "() => { const i = document.querySelector('[data-field=sample]');"
            " return i.complete && i.naturalWidth > 0; }",
            timeout=30_000,
        )
        page.screenshot(path=str(artifacts_dir / "job-running.png"))

        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("[data-field=state_label]")).to_have_text("Cancelled", timeout=60_000)
        expect(page.locator("[data-field=message]")).to_contain_text("Cancelled at step")
        expect(page.get_by_role("button", name="Retry")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "job-cancelled.png"))
        browser.close()
    wait_for(lambda: fresh(job).state == "cancelled", "the ledger to say cancelled")
    assert 0 < job.step < 100_000 and job.checkpoint_step == job.step


@pytest.fixture(scope="module")
def tiny_daphne(django_db_setup, django_db_blocker, artifacts_dir):
    """Daphne whose "Train a model" form queues the tests' tiny engine settings (the form runs
    in the server's process, so the setting must be in its environment)."""
    with django_db_blocker.unblock():
        server = Daphne(artifacts_dir, MEMORIAL_JOB_ENGINE_OVERRIDES=json.dumps(TINY))
    yield server
    server.stop()


@pytest.fixture
def measured_speed():
    """Store a worker's speed test (online, as its heartbeat says); removed afterwards."""
    name = "browser-trainer@test-host"

    def store(images_per_second: float) -> None:
        figure = {"device": "cpu", "device_name": "CPU", "resolution": 64, "batch": 16}
        figure |= {"threads": 2, "steps": 5, "images_per_second": images_per_second}
        workers.store_speed(name, [figure | {"images_per_cpu_second": images_per_second / 2}])
        workers.beat(name, ["cpu", "gpu"])

    yield store
    leases.client().hdel(workers.SPEED_KEY, name)
    leases.client().hdel(workers.KEY, name)


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _browser_for(pw, server, session: str):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    host = server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": session,
                "domain": host,
                "path": "/",
            }
        ]
    )
    return browser, context.new_page()


def test_train_to_the_end_generate_four_and_find_them_in_the_gallery(
    celery_worker, tiny_daphne, family, artifacts_dir, measured_speed
):
    approve(family.memorial, Scope.TRAINING, Scope.GENERATED_PHOTOS)
    for i, path in enumerate(face_photo_paths()):
        ingest_photo(
            memorial=family.memorial,
            uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
            user=family.contributor,
            attested=True,
            caption=CAPTIONS[i % 4],
        )
    base = tiny_daphne.url
    session = _session(family.contributor)
    measured_speed(20.0)  # the worker's own speed test, as a worker stores it when it starts
    speeds = {
        key: f"{p.images_per_second:g} images/s"
        for key, p in for_memorial(family.memorial, TINY).presets.items()
    }

    with sync_playwright() as pw:
        browser, page = _browser_for(pw, tiny_daphne, session)
        page.goto(f"{base}/m/{family.memorial.pk}/train/")
        estimate = page.locator("#train-estimate")
        detail = estimate.locator('[data-estimate="detail"]')
        expect(estimate).to_have_attribute("data-seconds", re.compile(r"\d+"))
        expect(detail).to_contain_text(f"this server's own speed test: {speeds['quick']}")
        page.get_by_label("Standard: 128 px").check()  # the estimate follows the choice live
        expect(detail).to_contain_text(speeds["standard"])
        page.get_by_label("Quick: 64 px").check()
        page.get_by_label("Time budget").select_option("15")
        expect(detail).to_contain_text(speeds["quick"])
        page.screenshot(path=str(artifacts_dir / "train-form.png"))
        page.get_by_role("button", name="Start training").click()

        expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=20_000)
        expect(page.locator("[data-field=state_label]")).to_have_text("Finished", timeout=180_000)
        page.get_by_role("link", name="Open the model").click()

        model_url = page.url
        page.get_by_label("Description").fill("smiling, in a black suit")
        page.get_by_label("How many photos").fill("4")
        page.get_by_label("Seed").fill("7")
        page.get_by_role("button", name="Generate").click()

        photos = page.locator("[data-field=photos] li")
        expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=20_000)
        expect(photos).to_have_count(4, timeout=180_000)  # each one as it finished, live
        expect(page.locator("[data-field=state_label]")).to_have_text("Finished", timeout=60_000)
        expect(photos.locator(".status-pill")).to_have_text(["AI-generated"] * 4)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-field=photos] img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            timeout=30_000,
        )
        page.screenshot(path=str(artifacts_dir / "generated-on-job-page.png"))

        page.goto(model_url)  # its evaluation ran meanwhile (queued before the generation)
        # In words for the family; the figures for staff behind a disclosure.
        expect(page.locator("#evaluation-words")).to_contain_text("never saw while learning")
        expect(page.locator("#evaluation-figures")).to_be_hidden()
        page.get_by_text("Figures for staff and the curious").click()
        expect(page.locator("#evaluation-figures")).to_be_visible()
        expect(page.locator("#evaluation-figures")).to_contain_text("Identity match rate")
        page.wait_for_function(
            "() => { const p = [...document.querySelectorAll('.evaluation__picture img')];"
            " return p.length === 2 && p.every(i => i.complete && i.naturalWidth > 0); }",
            timeout=30_000,
        )
        page.screenshot(path=str(artifacts_dir / "model-evaluation.png"), full_page=True)

        page.goto(f"{base}/m/{family.memorial.pk}/?kind=generated")
        tiles = page.locator(".badge--ai:not(#lightbox-badge)")  # one per photo tile
        expect(tiles).to_have_count(4, timeout=20_000)
        page.screenshot(path=str(artifacts_dir / "generated-in-gallery.png"), full_page=True)
        browser.close()

    train = Job.objects.get(kind=Kind.TRAIN)
    assert train.state == State.SUCCEEDED and train.step == TINY["steps"], dumps(train)
    generated = GeneratedImage.objects.filter(job__kind=Kind.GENERATE).select_related("photo")
    assert sorted(g.seed for g in generated) == [7, 8, 9, 10]
    assert all(g.caption == "smiling, in a black suit" for g in generated)
    assert all(g.photo.kind == "generated" for g in generated)
