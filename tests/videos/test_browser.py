"""The talking portrait in a real Chromium against daphne and the suite's real worker: upload a
voice clip on a photo's page, watch the job page reach "Finished" live, follow "Watch the video"
and play it in the browser's own player (its duration is the clip's, and playback advances)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.consent.models import Scope
from memorial.jobs.models import Job
from memorial.videos.models import Video
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.videos import samples

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_a_voice_watch_the_job_and_play_the_video(
    celery_worker, daphne_server, family, face_photo, consent, artifacts_dir
):
    consent(Scope.GENERATED_VIDEOS, Scope.VOICE)
    client = Client()
    client.force_login(family.contributor)
    session = client.cookies["sessionid"].value
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        host = daphne_server.url.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(daphne_server.url + face_photo.get_absolute_url())

        page.get_by_role("link", name="Make it speak…").click()
        expect(page.get_by_role("heading", name="Make it speak")).to_be_visible()
        page.get_by_label("Upload a recording of the voice").set_input_files(
            {"name": "grandma.wav", "mimeType": "audio/wav", "buffer": samples.voice_wav(2.0)}
        )
        page.get_by_role("button", name="Make the video").click()

        # The job page, live over the websocket: it reaches "Finished" with a full bar.
        expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"), timeout=30_000)
        # Every message the page shows, in order (what a person reads while waiting).
        page.evaluate(
            """() => { const m = document.querySelector('[data-field=message]');
              window.said = [m.textContent];
              new MutationObserver(() => window.said.push(m.textContent))
                .observe(m, {childList: true, characterData: true, subtree: true}); }"""
        )
        expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=20_000)
        expect(page.locator("[data-field=state_label]")).to_have_text("Finished", timeout=240_000)
        said = page.evaluate("() => window.said")
        assert "Moving the face." in said, said  # plain words, not step counts
        assert "The video is ready." in said[-1], said
        # A video job belongs under Videos and shows no training figures.
        expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Videos")
        assert page.locator("#job-details").count() == 0
        body = page.locator("#job").inner_text()
        assert "images/s" not in body and "Losses" not in body and "step " not in body
        page.wait_for_function(
            "() => { const b = document.getElementById('job-progress');"
            " return b.max > 1 && b.value === b.max; }",
            timeout=30_000,
        )
        expect(page.locator("[data-field=sample]")).to_have_attribute(
            "src", re.compile(r"/media/jobs/.+/sample/\?step=\d+"), timeout=30_000
        )  # the live preview frame
        page.screenshot(path=str(artifacts_dir / "video-job-finished.png"))

        watch = page.get_by_role("link", name="Watch the video")
        expect(watch).to_be_visible(timeout=30_000)
        watch.click()
        player = page.locator("video")
        expect(player).to_have_attribute("aria-label", "AI-generated talking portrait")
        expect(page.locator(".video-figure .badge--ai")).to_have_text("AI-generated")

        # Nothing is fetched before the person asks (preload="none", no autoplay); asked, the
        # browser reads the metadata through the permission-checked media view …
        expect(player).to_have_attribute("preload", "none")
        player.evaluate("v => { v.preload = 'metadata'; v.load(); }")
        page.wait_for_function(
            "() => document.querySelector('video').readyState >= 1", timeout=30_000
        )
        duration = player.evaluate("v => v.duration")
        assert abs(duration - 2.0) <= 0.1, duration
        # The page's length is the player's, written as the player writes it (whole seconds).
        whole = int(duration)
        shown = f"{whole // 60}:{whole % 60:02d}"
        expect(page.locator("dd[data-video-length]")).to_have_text(shown)
        expect(page.locator("figcaption [data-video-length]")).to_have_text(shown)
        # … and plays it: the current time advances (muted, so no gesture is needed).
        player.evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function(
            "() => document.querySelector('video').currentTime > 0.2", timeout=30_000
        )
        # Seeking works too (the media view answers HTTP ranges).
        player.evaluate("v => { v.pause(); v.currentTime = 1.5; }")
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return !v.seeking && Math.abs(v.currentTime - 1.5) < 0.1; }",
            timeout=30_000,
        )
        page.screenshot(path=str(artifacts_dir / "video-playing.png"))
        browser.close()

    job = Job.objects.get(kind="speak")
    assert job.state == "succeeded"
    assert Video.objects.filter(job=job, source_photo=face_photo).exists()
    assert errors == []
