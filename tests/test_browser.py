"""A family member's first visit, in a real Chromium against a real daphne server:
sign in, create a memorial, drag five photos onto the upload area, watch every
progress bar reach 100 %, caption them, and find them in the gallery."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests import images
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CAPTIONS = [
    "Laughing at her 80th birthday party, in a red sweater",
    "In the garden with the roses, summer 1975",
    "Reading to the grandchildren <b>by the fire</b>",
    "At the seaside, wind in her hair",
    "Smiling at the camera on her wedding day",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def five_photos() -> list[tuple[str, bytes]]:
    """Real photographs when ../shared/data is beside the checkout, else pictures made here."""
    real = images.real_face_photos(5)
    if len(real) == 5:
        return [(p.name, p.read_bytes()) for p in real]
    return [(f"photo-{i}.jpg", images.jpeg(seed=500 + i, width=1200, height=900)) for i in range(5)]


def drop_files(page, selector: str, files: list[tuple[str, bytes]]) -> None:
    """Dispatch the same drag-and-drop events a person's drop produces, with real File objects."""
    payload = [{"name": n, "data": base64.b64encode(d).decode()} for n, d in files]
    page.evaluate(
        """([selector, files]) => {
          const dt = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, {type: 'image/jpeg'}));
          }
          const zone = document.querySelector(selector);
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
          }
        }""",
        [selector, payload],
    )


def test_sign_in_create_upload_caption_and_browse(daphne_server, make_user, artifacts_dir: Path):
    make_user("rose.family@example.org", display_name="June")
    files = five_photos()
    base = daphne_server.url
    js_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda exc: js_errors.append(str(exc)))

        page.goto(base + "/")
        page.get_by_label("E-mail address").fill("rose.family@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")

        page.goto(base + "/m/new/")
        page.locator("#id_name").fill("Rose Whitfield")
        page.get_by_role("button", name="Create the memorial").click()
        expect(page.get_by_role("heading", name="Rose Whitfield")).to_be_visible()
        memorial_url = page.url

        page.get_by_role("link", name="Add photos").first.click()
        page.check("#attested")
        drop_files(page, "#dropzone", files)
        rows = page.locator("#upload-list > .upload-row")
        expect(rows).to_have_count(5)
        expect(page.locator('.upload-row[data-state="done"]')).to_have_count(5, timeout=60_000)
        for i in range(5):
            assert rows.nth(i).locator("progress").evaluate("p => p.value") == 100
        assert page.locator("#overall-progress").evaluate("p => p.value") == 100

        captions = page.locator(".caption-input")
        expect(captions).to_have_count(5)
        for i, text in enumerate(CAPTIONS):
            captions.nth(i).fill(text)
            captions.nth(i).press("Enter")
        for i in range(5):
            expect(page.locator(".caption-status").nth(i)).to_have_text("Saved")
        page.screenshot(path=str(artifacts_dir / "browser-upload.png"), full_page=True)

        page.goto(memorial_url)
        tiles = page.locator(".photo-tile")
        expect(tiles).to_have_count(5)
        shown = page.locator("[data-caption-text]").all_inner_texts()
        assert sorted(shown) == sorted(CAPTIONS)  # HTML in a caption stays text
        for img in page.locator(".photo-tile img").all():
            # Every thumbnail arrives and decodes (a broken one never gets a width).
            page.wait_for_function(
                "i => i.complete && i.naturalWidth > 0", arg=img.element_handle()
            )

        page.locator(".photo-tile__link").first.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#lightbox")).to_be_visible()
        before = page.locator("#lightbox-counter").inner_text()
        page.keyboard.press("ArrowRight")
        expect(page.locator("#lightbox-counter")).not_to_have_text(before)
        page.keyboard.press("Escape")
        expect(page.locator("#lightbox")).to_be_hidden()
        page.screenshot(path=str(artifacts_dir / "browser-gallery.png"), full_page=True)
        browser.close()

    assert js_errors == []
    from memorial.memorials.models import Photo

    stored = Photo.objects.filter(memorial__name="Rose Whitfield")
    assert sorted(p.caption for p in stored) == sorted(CAPTIONS)
    assert all(p.ready_for_training for p in stored)
