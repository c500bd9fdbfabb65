"""Gentle viewing in a real Chromium against a real daphne server: a newly added viewer sees only
real photos until choosing (the browser never even requests an AI-made file), is never
autoplayed, and changes their mind from the memorial's menu; an owner switches "Speaking
portraits" off and "Make it speak" disappears."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import PhotoKind, Role
from memorial.memorials.services import add_member
from tests import images
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.videos import samples

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _session(user) -> str:
    """A signed-in session for ``user`` (made before Playwright's event loop starts)."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _signed_in(browser, server, session: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    host = server.url.split("//")[1].split(":")[0]
    context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])
    return context


def test_a_new_viewer_chooses_and_an_owner_switches_a_feature_off(
    daphne_server, family, make_user, artifacts_dir
):
    memorial = family.memorial
    real = ingest_photo(
        memorial=memorial,
        uploaded=SimpleUploadedFile("rose.jpg", samples.face_jpeg()),
        user=family.contributor,
        attested=True,
        caption="Rose in the garden",
    )
    made = ingest_photo(
        memorial=memorial,
        uploaded=SimpleUploadedFile("made.png", images.png(seed=7)),
        user=family.contributor,
        attested=True,
        caption="Rose by the sea",
        kind=PhotoKind.GENERATED,
    )
    video = samples.scene(family)["vid"]
    nina = make_user("nina@example.org", display_name="Nina")
    add_member(memorial, nina, Role.VIEWER)
    gallery = f"{daphne_server.url}/m/{memorial.pk}/"
    ai_requests: list[str] = []
    errors: list[str] = []
    sessions = {"nina": _session(nina), "owner": _session(family.owner)}

    def watch(request) -> None:
        if str(made.pk) in request.url or f"/media/videos/{video}/" in request.url:
            ai_requests.append(request.url)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = _signed_in(browser, daphne_server, sessions["nina"]).new_page()
        page.on("request", watch)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # First visit: the explanation and the choice; only the real photo; hidden items counted.
        page.goto(gallery)
        expect(
            page.get_by_role("heading", name="Before you look: pictures made by AI")
        ).to_be_visible()
        expect(page.locator("#gentle-hidden")).to_contain_text("1 AI-made photo is hidden.")
        expect(page.locator("#gentle-hidden")).to_contain_text(
            "1 speaking or living portrait is hidden."
        )
        expect(page.locator(f'[data-photo-id="{real.pk}"]')).to_be_visible()
        expect(page.locator(f'[data-photo-id="{made.pk}"]')).to_have_count(0)
        expect(page.locator("video")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "gentle-first-visit.png"))

        page.get_by_label("Only real photos").check()
        page.get_by_role("button", name="Save my choice").click()
        expect(
            page.get_by_role("heading", name="Before you look: pictures made by AI")
        ).to_have_count(0)
        expect(page.locator("#gentle-hidden")).to_contain_text("You chose not to see them.")
        page.goto(f"{daphne_server.url}/m/{memorial.pk}/videos/")
        expect(page.locator("video")).to_have_count(0)
        assert ai_requests == []  # not a single AI-made file was even requested

        # Changing their mind from the memorial's menu, with the keyboard.
        menu = page.get_by_role("navigation", name="Memorial sections")
        menu.get_by_role("link", name="What you see").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="What you see")).to_be_visible()
        page.get_by_label("Real photos, AI-made photos, and speaking and living portraits").check()
        page.get_by_role("button", name="Save my choice").click()
        page.goto(gallery)
        expect(page.locator(f'[data-photo-id="{made.pk}"]')).to_be_visible()
        expect(page.locator("#gentle-hidden")).to_have_count(0)

        # The portrait waits behind its poster and content note: nothing plays, nothing loads.
        player = page.locator(f'[data-video="{video}"] video')
        expect(player).to_be_visible()
        expect(page.locator(f'[data-video="{video}"] [data-content-note]')).to_contain_text(
            "AI-made video of Grandma Rose speaking with a recording of their voice"
        )
        assert player.evaluate("v => v.autoplay") is False
        assert player.evaluate("v => v.paused && v.currentTime === 0") is True
        assert not any("/file/" in url for url in ai_requests), ai_requests
        expect(page.locator(f'[data-photo-id="{made.pk}"] a.badge--ai')).to_have_attribute(
            "href", "/about-ai/"
        )
        page.screenshot(path=str(artifacts_dir / "gentle-after-choosing.png"))

        # The owner switches speaking portraits off: "Make it speak" disappears.
        owner = _signed_in(browser, daphne_server, sessions["owner"]).new_page()
        owner.goto(daphne_server.url + real.get_absolute_url())
        expect(owner.get_by_role("link", name="Make it speak…")).to_be_visible()
        owner.get_by_role("navigation", name="Memorial sections").get_by_role(
            "link", name="AI features"
        ).click()
        owner.get_by_label("Speaking portraits").uncheck()
        owner.get_by_role("button", name="Save").click()
        expect(owner.get_by_label("Speaking portraits")).not_to_be_checked()
        owner.goto(daphne_server.url + real.get_absolute_url())
        expect(owner.get_by_role("link", name="Make it speak…")).to_have_count(0)
        browser.close()
    assert errors == []
