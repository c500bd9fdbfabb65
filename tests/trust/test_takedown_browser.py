"""A takedown from the public form to "actioned", in a real Chromium against a real daphne server.

A family has uploaded photos, trained a tiny model on them and generated photos with it (real job
tasks). The owner sees the generated photos labelled in the lightbox. A visitor with no account
files a takedown for one source photo's address and gets a reference; a staff member signs in,
opens the request, starts the review, sees the impact (the photo, the model trained on it, its
jobs and the photos it made), actions it with a reason; the photo and everything made from it are
gone from the gallery, and their files are gone from the storage folder.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from memorial.moderation.models import TakedownRequest, TakedownStatus
from tests.conftest import PASSWORD
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.trust.made import make_everything, stored, under

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REFERENCE = re.compile(r"TD-\d{4}-[2-9A-HJ-NP-Z]{6}")


def _sign_in(browser, base: str, email: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/(\?.*)?$"))
    return page


def test_public_takedown_to_actioned_removes_the_photo_and_its_files(
    daphne_server, family, artifacts_dir
):
    made = make_everything(family)
    m = made.memorial_id
    source = made.uploads[0]  # the model learnt from it; a talking portrait was made of it
    assert str(source.pk) in made.prepare.result["photos"]
    removed = [source, *made.generated]
    assert all(under(stored(m), "memorials", m, "photos", p.pk) for p in removed)
    base = daphne_server.url
    js_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        # The owner's gallery: generated photos are labelled, in the lightbox too.
        owner = _sign_in(browser, base, family.owner.email)
        owner.on("pageerror", lambda exc: js_errors.append(str(exc)))
        owner.goto(f"{base}/m/{m}/")
        tile = owner.locator(f'.photo-tile[data-photo-id="{made.generated[0].pk}"]')
        expect(tile.locator(".badge--ai")).to_have_text("AI-generated")
        tile.locator(".photo-tile__link").click()
        expect(owner.locator("#lightbox")).to_be_visible()
        expect(owner.locator("#lightbox-badge")).to_be_visible()
        image = owner.locator("#lightbox-image")
        expect(image).to_have_attribute("alt", re.compile(r"^AI-generated image"))
        expect(image).to_have_attribute("title", re.compile(r"^AI-generated image"))
        owner.keyboard.press("Escape")

        # A visitor without an account files the request.
        visitor = browser.new_context().new_page()
        visitor.on("pageerror", lambda exc: js_errors.append(str(exc)))
        visitor.goto(base + "/takedown/")
        visitor.locator("#id_contact_name").fill("Pat Passerby")
        visitor.locator("#id_contact_email").fill("pat@example.net")
        visitor.locator("#id_relationship").fill("the person in the photo")
        visitor.locator("#id_url").fill(f"{base}/m/{m}/photos/{source.pk}/")
        visitor.locator('input[name="reason"][value="depicted"]').check()
        visitor.locator("#id_explanation").fill("That is me at a private party.")
        visitor.locator("#id_good_faith").check()
        visitor.get_by_role("button", name="Send the request").click()
        reference = visitor.locator("[data-reference]")
        expect(reference).to_have_text(REFERENCE)
        number = reference.inner_text().strip()

        # Staff review it, see the impact, and action it with a reason.
        staff = _sign_in(browser, base, family.staff.email)
        staff.on("pageerror", lambda exc: js_errors.append(str(exc)))
        staff.goto(base + "/moderation/takedowns/")
        staff.get_by_role("link", name=number).click()
        staff.get_by_role("button", name="Start the review").click()
        expect(staff.locator(".status-pill")).to_have_attribute("data-status", "under_review")
        impact = staff.locator('input[name="item"]')
        values = set(impact.evaluate_all("boxes => boxes.map(b => b.value)"))
        assert f"photo:{source.pk}" in values and f"model:{made.model.pk}" in values
        assert {f"photo:{p.pk}" for p in made.generated} <= values
        assert {f"video:{v.pk}" for v in made.extra["videos"]} <= values
        assert not any(f"photo:{p.pk}" in values for p in made.uploads if p.pk != source.pk)
        expect(staff.get_by_text("Trained model", exact=False).first).to_be_visible()
        staff.screenshot(path=str(artifacts_dir / "takedown-impact.png"), full_page=True)
        staff.get_by_label("Reasons for your decision").fill("The person depicted objects.")
        staff.get_by_role("button", name="Remove the chosen items").click()
        expect(staff.locator(".status-pill")).to_have_attribute("data-status", "actioned")

        # Gone from the gallery.
        owner.goto(f"{base}/m/{m}/")
        for photo in removed:
            expect(owner.locator(f'.photo-tile[data-photo-id="{photo.pk}"]')).to_have_count(0)
        expect(owner.locator(".photo-tile")).to_have_count(len(made.uploads) - 1)
        browser.close()

    assert js_errors == []
    takedown = TakedownRequest.objects.get(reference=number)
    assert takedown.status == TakedownStatus.ACTIONED
    # Gone from the storage folder: the photo, the photos made, the model and its data set.
    after = stored(m)
    for photo in removed:
        assert not under(after, "memorials", m, "photos", photo.pk)
    assert not under(after, "memorials", m, "models")
    assert not under(after, "memorials", m, "videos")
    for photo in made.uploads:
        if photo.pk != source.pk:
            assert under(after, "memorials", m, "photos", photo.pk)
