"""Small things a family (or a reviewer) meets, in a real Chromium against daphne: the
gallery counts AI-made photos apart, the film form picks photos by their thumbnails, the
consent review card keeps its content off its border, the evaluation speaks in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from memorial.consent.models import ConsentRecord, Scope
from memorial.jobs.models import Job, Kind, ModelVersion, State
from memorial.memorials.models import PhotoKind
from tests.factories import add_photo
from tests.jobs.conftest import approve
from tests.jobs.test_evaluation_words import REPORT
from tests.test_captions_browser import session_of, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _model(family) -> ModelVersion:
    train = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.SUCCEEDED)
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=train, checkpoint="none", resolution=64
    )
    Job.objects.create(
        kind=Kind.EVALUATE,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        parameters={"model_version": str(model.pk)},
        result={"report": REPORT},
    )
    return model


def test_gallery_count_film_thumbnails_and_evaluation_in_words(daphne_server, family):
    add_photo(family, 61, "At the lake")
    add_photo(family, 62, "In the garden")
    add_photo(family, 63, "Made by the model", kind=PhotoKind.GENERATED)
    model = _model(family)
    approve(family.memorial, Scope.GENERATED_VIDEOS)
    session = session_of(family.owner)
    gallery, film = family.memorial.get_absolute_url(), f"{model.get_absolute_url()}film/"
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        page.goto(daphne_server.url + gallery)
        expect(page.locator("#photo-count")).to_have_text("2 photos · 1 AI-made")

        page.goto(daphne_server.url + film)
        picker = page.locator("#picker-start_photo")
        expect(picker.locator("img")).to_have_count(2)  # the family photos, by thumbnail
        assert page.locator("select[name=start_photo]").count() == 0
        picker.get_by_label("In the garden").check()
        expect(picker.get_by_label("In the garden")).to_be_checked()
        page.goto(daphne_server.url + model.get_absolute_url())
        expect(page.locator("#evaluation-words")).to_contain_text(
            "about 8 in 10 of the photos it makes are recognised as this person"
        )
        expect(page.locator("#evaluation-figures")).to_be_hidden()
        page.get_by_text("Figures for staff and the curious").click()
        expect(page.locator("#evaluation-figures")).to_contain_text("PSNR")
        browser.close()


def test_the_consent_review_card_keeps_its_content_off_the_border(daphne_server, family):
    ConsentRecord.objects.create(
        memorial=family.memorial,
        attested_by=family.owner,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
    )
    session = session_of(family.staff)
    with sync_playwright() as pw:
        browser, page = signed_in_page(pw, daphne_server.url, session)
        page.goto(daphne_server.url + "/moderation/consent/")
        card = page.locator(".consent-record").first
        expect(card).to_be_visible()
        box = card.bounding_box()
        title = card.locator(".panel__title").bounding_box()
        form = card.locator("textarea").first.bounding_box()
        assert title["x"] - box["x"] >= 16 and title["y"] - box["y"] >= 16
        assert (box["x"] + box["width"]) - (form["x"] + form["width"]) >= 16
        browser.close()
