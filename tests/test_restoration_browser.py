"""The before/after comparison of a restored photo in a real Chromium against daphne: a labelled
slider that the keyboard moves, showing more of the original or of the restored copy, and saying
where the divide is to a screen reader."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect, sync_playwright

from memorial.jobs.models import Job, Kind
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import PhotoKind
from tests import images
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (the browser's settings)
from tests.test_captions_browser import session_of, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_comparison_slider_is_labelled_and_moves_with_the_keyboard(daphne_server, family):
    original = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("grandma.jpg", images.jpeg(seed=70, width=320, height=240)),
        user=family.contributor,
        attested=True,
    )
    restored = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("restored.png", images.png(seed=71, width=640, height=480)),
        user=family.contributor,
        attested=True,
        kind=PhotoKind.RESTORED,
        restored_from=original,
    )
    session = session_of(family.viewer)
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        try:
            page.goto(daphne_server.url + restored.get_absolute_url())
            slider = page.get_by_role("slider", name="Before and after")
            expect(slider).to_be_visible()
            expect(
                page.get_by_role("img", name="The original photo, before restoring")
            ).to_be_visible()
            after = page.locator(".compare__after")
            expect(after).to_have_css("clip-path", "inset(0px 0px 0px 50%)")
            # The original (half the restored copy's size here) covers exactly the same box, so
            # the divide compares the same place in both.
            page.wait_for_function(
                "[...document.querySelectorAll('.compare img')]"
                ".every((img) => img.complete && img.naturalWidth > 0)"
            )
            before_box = page.locator(".compare__before").bounding_box()
            after_box = after.bounding_box()
            assert before_box is not None and after_box is not None
            assert before_box == after_box and after_box["width"] > 320
            slider.focus()
            for _ in range(10):
                page.keyboard.press("ArrowRight")
            expect(slider).to_have_value("60")
            expect(slider).to_have_attribute("aria-valuetext", "Original on the left: 60 percent")
            expect(after).to_have_css("clip-path", "inset(0px 0px 0px 60%)")
            page.keyboard.press("Home")
            expect(after).to_have_css("clip-path", "inset(0px 0px 0px 0%)")  # all restored
            expect(page.get_by_text("AI-restored").first).to_be_visible()
        finally:
            browser.close()


def test_the_job_page_offers_the_restored_photo_as_soon_as_it_is_ready(
    celery_worker, daphne_server, family
):
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("grandma.jpg", images.jpeg(seed=72, width=96, height=72)),
        user=family.contributor,
        attested=True,
    )
    session = session_of(family.contributor)
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        try:
            page.goto(daphne_server.url + f"/m/{family.memorial.pk}/photos/{photo.pk}/restore/")
            page.get_by_label("Size").select_option("1")
            page.get_by_role("button", name="Restore").click()
            expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"), timeout=30_000)
            page.evaluate("() => { window.stayed = true; }")  # gone if the page reloads
            expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=20_000)
            opened = page.get_by_role("link", name="Open the restored photo")
            expect(opened).to_be_visible(timeout=300_000)
            assert page.evaluate("() => window.stayed === true")  # shown live, not by a reload
            opened.click()
            expect(page.get_by_role("slider", name="Before and after")).to_be_visible()
        finally:
            browser.close()


def test_photos_selected_in_the_gallery_are_restored_with_a_summary(daphne_server, family):
    chosen, other = (
        ingest_photo(
            memorial=family.memorial,
            uploaded=SimpleUploadedFile(f"{n}.jpg", images.jpeg(seed=n, width=120, height=90)),
            user=family.contributor,
            attested=True,
            caption=caption,
        )
        for n, caption in ((73, "The wedding"), (74, "At the beach"))
    )
    session = session_of(family.contributor)
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        try:
            page.goto(daphne_server.url + f"/m/{family.memorial.pk}/")
            tile = page.locator(f'.photo-tile[data-photo-id="{chosen.pk}"]')
            tile.get_by_role("checkbox", name="Select: The wedding").check()
            page.get_by_role("button", name="Restore the selected photos").click()
            expect(page.get_by_role("heading", name="Restore several photos")).to_be_visible()
            expect(page.get_by_role("checkbox", name="The wedding")).to_be_checked()
            expect(page.get_by_role("checkbox", name="At the beach")).not_to_be_checked()
            page.get_by_label("Size").select_option("1")
            page.get_by_role("button", name="Restore the selected photos").click()
            expect(page.get_by_role("status")).to_contain_text("1 photo is being restored.")
            page.get_by_role("link", name="The wedding").click()
            expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
        finally:
            browser.close()
    assert Job.objects.filter(kind=Kind.RESTORE, parameters__photo=str(chosen.pk)).count() == 1
    assert not Job.objects.filter(kind=Kind.RESTORE, parameters__photo=str(other.pk)).exists()


def test_colour_points_are_added_by_click_or_keyboard_and_removed(daphne_server, family):
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("grandad.jpg", images.jpeg(seed=72, width=400, height=300)),
        user=family.contributor,
        attested=True,
    )
    session = session_of(family.contributor)
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        try:
            page.goto(f"{daphne_server.url}/m/{family.memorial.pk}/photos/{photo.pk}/restore/")
            field = page.locator('input[name="hints"]')
            picture = page.locator("[data-colour-photo] img")
            box = picture.bounding_box()
            picture.click(position={"x": box["width"] / 4, "y": box["height"] / 2})
            colour = page.get_by_label("Colour", exact=True).first
            expect(colour).to_be_focused()  # the point's colour is chosen next
            colour.fill("#a0522d")
            # In the photo's own pixels (a quarter across, half down), whatever size it is shown.
            expect(field).to_have_value(
                re.compile(r'"x":(99|100|101),"y":(149|150|151),"colour":"#a0522d"')
            )

            add = page.get_by_role("button", name="Add a colour point")
            add.focus()
            page.keyboard.press("Enter")  # the keyboard way: a point at the middle, then typed
            across = page.get_by_label("Across (pixels from the left)").nth(1)
            expect(across).to_be_focused()
            across.fill("300")
            expect(field).to_have_value(re.compile(r'\{"x":300,"y":150,"colour":"#b08060"\}'))
            expect(page.locator(".colour-points__marker")).to_have_count(2)

            page.get_by_role("button", name="Remove").first.click()
            expect(page.locator(".colour-point")).to_have_count(1)
            expect(field).to_have_value('[{"x":300,"y":150,"colour":"#b08060"}]')
        finally:
            browser.close()
