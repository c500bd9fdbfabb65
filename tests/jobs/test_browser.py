"""The job page in a real Chromium against daphne, with the suite's real worker: the progress bar
and the sample grid change live over the websocket, Cancel stops the run, the page says so."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.consent.models import Scope
from memorial.jobs import dispatch
from tests.jobs.conftest import approve, fresh, wait_for
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
