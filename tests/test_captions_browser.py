"""Describing many photos, in a real Chromium against daphne: the caption editor's keyboard
flow (Enter saves and moves on, Shift+Enter back), saving as typed with a visible "Saved",
the "needs a caption" filter, shared details for several selected photos (safe to send
twice), and a caption typed on the upload page that survives leaving the page at once."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.consent.models import Scope
from memorial.memorials.models import Photo
from tests import images
from tests.factories import add_photo
from tests.jobs.conftest import approve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, drop_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_of(user) -> str:
    """A signed-in session for `user` (made before Playwright's event loop starts)."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def signed_in_page(pw, server_url: str, session: str):
    """A Chromium page with that session's cookie (the sign-in page has its own test)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    host = server_url.split("//")[1].split(":")[0]
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


def wait_for_caption(page, photo_id, caption: str) -> None:
    """Poll the photo API from the page until the stored caption is `caption`."""
    page.wait_for_function(
        """async ([id, caption]) => {
          const r = await fetch('/api/photos/' + id + '/', {headers: {Accept: 'application/json'}});
          return r.ok && (await r.json()).caption === caption;
        }""",
        arg=[str(photo_id), caption],
        polling=250,
        timeout=20_000,
    )


def test_caption_editor_keyboard_flow_filter_and_shared_details(
    daphne_server, family, artifacts_dir: Path
):
    done = add_photo(family, 1, "Already described: the garden in June")
    todo = [add_photo(family, seed) for seed in (2, 3, 4, 5)]
    done_id = str(done.pk)
    approve(family.memorial, Scope.TRAINING)
    train = f"/m/{family.memorial.pk}/train/"
    errors: list[str] = []
    session, gallery = session_of(family.contributor), family.memorial.get_absolute_url()
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(daphne_server.url + gallery)
        page.get_by_role("link", name="Captions").click()
        expect(page.get_by_role("heading", name="Describe the photos")).to_be_visible()
        expect(page.locator(".caption-row")).to_have_count(5)
        # Typing can start at once, in the first photo without a caption; the shared details
        # wait until a photo is ticked.
        expect(page.locator(f"#caption-{todo[0].pk}")).to_be_focused()
        expect(page.locator("#shared-details")).to_be_hidden()

        page.get_by_role("link", name="Needs a caption").click()
        rows = page.locator("#caption-list > .caption-row")
        expect(rows).to_have_count(4)
        assert done_id not in [r.get_attribute("data-photo-id") for r in rows.all()]
        box = page.locator(".caption-box")
        width = box.first.evaluate("b => b.getBoundingClientRect().width")
        assert width >= 500  # roomy: room for a sentence, not a word or two
        thumb = rows.first.locator("img").evaluate("i => i.getBoundingClientRect().width")
        assert thumb >= 160

        # Keyboard alone: type, Enter saves and moves on; Shift+Enter goes back. The editor's
        # script focuses the first empty box once its keys work: wait for that, not just the DOM.
        expect(box.first).to_be_focused()
        page.keyboard.type("Birthday party, red sweater")
        page.keyboard.press("Enter")
        expect(box.nth(1)).to_be_focused()
        expect(page.locator(".caption-status").first).to_have_text("Saved")
        page.keyboard.type("At the seaside")
        page.keyboard.press("Enter")
        expect(box.nth(2)).to_be_focused()
        page.keyboard.press("Shift+Enter")
        expect(box.nth(1)).to_be_focused()
        expect(page.locator(".caption-status").nth(1)).to_have_text("Saved")
        # Saved as typed: no Enter, no leaving the box.
        box.nth(2).focus()
        page.keyboard.type("Reading by the fire")
        expect(page.locator(".caption-status").nth(2)).to_have_text("Saved", timeout=10_000)
        expect(box.nth(2)).to_be_focused()

        # Two selected photos get the same tags, date and place; sending it twice is harmless.
        page.get_by_label("Select photo 3").check()
        expect(page.locator("#shared-details")).to_be_visible()
        page.get_by_label("Select photo 4").check()
        expect(page.locator("#selected-count")).to_have_text("2 photos selected.")
        page.get_by_label("Add tags").fill("Holiday, Cornwall")
        page.get_by_label("Date").fill("1998-07-04")
        page.get_by_label("Place", exact=True).fill("St Ives")
        page.screenshot(path=str(artifacts_dir / "captions-editor.png"), full_page=True)
        page.get_by_role("button", name="Save for the selected photos").click()
        expect(page.get_by_text("The details have been saved for 2 photos.")).to_be_visible()
        # The same again from the full list (photos 4 and 5 there): nothing is doubled.
        page.get_by_role("link", name="All photos").click()
        page.get_by_label("Select photo 4").check()
        page.get_by_label("Select photo 5").check()
        page.get_by_label("Add tags").fill("Holiday, Cornwall")
        page.get_by_label("Date").fill("1998-07-04")
        page.get_by_label("Place", exact=True).fill("St Ives")
        page.get_by_role("button", name="Save for the selected photos").click()
        expect(page.get_by_text("The details have been saved for 2 photos.")).to_be_visible()
        # The filter now shows only the one photo still without a caption.
        page.get_by_role("link", name="Needs a caption").click()
        expect(page.locator("#caption-list > .caption-row")).to_have_count(1)

        # The train form counts the captions; the uncaptioned photo is used all the same.
        page.goto(daphne_server.url + train)
        expect(page.locator("#train-captions")).to_contain_text("4 of 5 photos have a caption.")
        page.locator("#train-captions").get_by_role(
            "link", name="Describe the other photos"
        ).click()
        expect(page.locator("#caption-list > .caption-row")).to_have_count(1)
        browser.close()

    assert errors == []
    stored = {p.pk: p for p in Photo.objects.prefetch_related("tags")}
    assert stored[todo[0].pk].caption == "Birthday party, red sweater"
    assert stored[todo[1].pk].caption == "At the seaside"
    assert stored[todo[2].pk].caption == "Reading by the fire"
    assert stored[done.pk].caption == "Already described: the garden in June"
    for photo in (stored[todo[2].pk], stored[todo[3].pk]):
        assert sorted(t.name for t in photo.tags.all()) == ["cornwall", "holiday"]
        assert photo.taken_on == datetime.date(1998, 7, 4)
        assert photo.place == "St Ives"
    assert stored[todo[0].pk].place == ""


def test_shared_details_need_a_selection_and_a_valid_date(client_as, family):
    photo = add_photo(family, 9)
    url = f"/m/{family.memorial.pk}/captions/"
    client = client_as(family.contributor)
    nothing = client.post(url, {"action": "shared", "place": "Leeds"})
    assert nothing.status_code == 400
    assert "Please select at least one photo first." in nothing.content.decode()
    future = client.post(
        url, {"action": "shared", "photo": [str(photo.pk)], "taken_on": "2999-01-01"}
    )
    assert future.status_code == 400
    assert "The date cannot be in the future." in future.content.decode()
    assert client_as(family.viewer).get(url).status_code == 403


def test_caption_editor_saves_every_box_without_script(client_as, family):
    first, second = add_photo(family, 11), add_photo(family, 12)
    client = client_as(family.owner)
    response = client.post(
        f"/m/{family.memorial.pk}/captions/",
        {"action": "captions", f"caption-{first.pk}": " Wedding day ", f"caption-{second.pk}": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 caption has been saved." in response.content.decode()
    first.refresh_from_db()
    assert first.caption == "Wedding day"


def test_caption_typed_on_the_upload_page_survives_leaving_at_once(daphne_server, family):
    errors: list[str] = []
    session, gallery = session_of(family.owner), family.memorial.get_absolute_url()
    upload = f"/m/{family.memorial.pk}/upload/"
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(daphne_server.url + upload)
        page.check("#attested")
        drop_files(page, "#dropzone", [("party.jpg", images.jpeg(seed=77, width=640, height=480))])
        expect(page.locator('.upload-row[data-state="done"]')).to_have_count(1, timeout=60_000)
        photo_id = page.locator(".upload-row").first.get_attribute("data-photo-id")
        page.locator(".caption-input").first.fill("Grandma at the party")
        # Leave at once: no Enter, no pause, no blur.
        page.goto(daphne_server.url + gallery)
        wait_for_caption(page, photo_id, "Grandma at the party")
        browser.close()
    assert errors == []
    assert Photo.objects.get(pk=photo_id).caption == "Grandma at the party"
