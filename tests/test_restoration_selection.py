"""Restoring several photos from the gallery's selection, and through the API: one job per
photo (a photo already being restored keeps its job), a summary in words, and bad requests
refused with the reason."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.jobs.models import Job, Kind
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from tests import images

FORM = {"action": "restore", "repair": "on", "enlarge": "2", "fidelity": "30"}


def _upload(family, seed: int, width: int = 200, height: int = 150, caption: str = "") -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(
            f"p{seed}.jpg", images.jpeg(seed=seed, width=width, height=height)
        ),
        user=family.contributor,
        attested=True,
        caption=caption,
    )


def _selection_url(family) -> str:
    return f"/m/{family.memorial.pk}/photos/restore/"


def _restoring(photo: Photo) -> list[Job]:
    return list(Job.objects.filter(kind=Kind.RESTORE, parameters__photo=str(photo.pk)))


@pytest.mark.django_db
def test_the_gallery_selection_starts_one_job_per_photo_and_says_what_happened(family, client_as):
    wedding = _upload(family, 80, caption="The wedding")
    beach = _upload(family, 81, caption="At the beach")
    huge = _upload(family, 82, width=4000, height=3000, caption="The whole family")
    untouched = _upload(family, 83, caption="Not chosen")
    client = client_as(family.contributor)
    already = client.post(f"/m/{family.memorial.pk}/photos/{beach.pk}/restore/", FORM)
    assert already.status_code == 302

    gallery = client.get(f"/m/{family.memorial.pk}/").content.decode()
    assert 'id="restore-selection"' in gallery and f'value="{wedding.pk}"' in gallery
    assert "Restore the selected photos" in gallery

    # The gallery posts only the checked photos; the options page keeps them checked.
    chosen = {"photo": [str(wedding.pk), str(beach.pk), str(huge.pk)]}
    options = client.post(_selection_url(family), chosen)
    assert options.status_code == 200
    page = options.content.decode()
    assert f'value="{wedding.pk}" id="restore-{wedding.pk}" checked' in page
    assert f'value="{untouched.pk}" id="restore-{untouched.pk}">' in page
    assert not Job.objects.filter(parameters__photo=str(wedding.pk)).exists()

    summary = client.post(_selection_url(family), {**chosen, **FORM, "enlarge": "4"})
    assert summary.status_code == 200
    text = summary.content.decode()
    assert "1 photo is being restored." in text
    assert "1 was already being restored." in text
    assert "1 could not be restored." in text and "more than the 50 allowed" in text
    assert len(_restoring(wedding)) == 1 and len(_restoring(beach)) == 1
    assert not _restoring(huge) and not _restoring(untouched)
    assert _restoring(wedding)[0].get_absolute_url() in text

    again = client.post(_selection_url(family), {**chosen, **FORM})
    assert "2 were already being restored." in again.content.decode()
    assert len(_restoring(wedding)) == 1 and len(_restoring(beach)) == 1


@pytest.mark.django_db
def test_a_selection_without_photos_or_choices_is_refused_in_words(family, client_as):
    photo = _upload(family, 84)
    made = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("g.png", images.png(seed=85)),
        user=family.contributor,
        attested=True,
        kind=PhotoKind.GENERATED,
    )
    client = client_as(family.owner)
    nothing = client.post(_selection_url(family), FORM)
    assert nothing.status_code == 400
    assert "Please select at least one photo first." in nothing.content.decode()
    only_ai = client.post(_selection_url(family), {**FORM, "photo": [str(made.pk), "not-an-id"]})
    assert only_ai.status_code == 400
    nothing_to_do = client.post(
        _selection_url(family), {"action": "restore", "photo": str(photo.pk), "enlarge": "1"}
    )
    assert nothing_to_do.status_code == 400
    assert "Choose at least one thing to do" in nothing_to_do.content.decode()
    assert not Job.objects.filter(kind=Kind.RESTORE).exists()

    family.memorial.ai_restoration_enabled = False
    family.memorial.save()
    off = client.post(_selection_url(family), {**FORM, "photo": str(photo.pk)})
    assert off.status_code == 403 and "turned off" in off.content.decode()
    assert 'id="restore-selection"' not in client.get(f"/m/{family.memorial.pk}/").content.decode()


def _api(client, photo: Photo, body) -> tuple[int, dict]:
    response = client.post(
        f"/api/photos/{photo.pk}/restore/", json.dumps(body), content_type="application/json"
    )
    return response.status_code, response.json()


@pytest.mark.django_db
def test_the_api_starts_one_restoring_job_and_refuses_in_words(family, client_as):
    photo = _upload(family, 86)
    big = _upload(family, 87, width=4000, height=3000)
    client = client_as(family.contributor)

    status, job = _api(client, photo, {"enlarge": 2, "fidelity": 40})
    assert status == 201 and job["kind"] == "restore" and job["state"] == "queued"
    assert Job.objects.get(pk=job["id"]).parameters == {
        "photo": str(photo.pk),
        "repair": True,
        "colourise": True,  # by default: a photo already in colour is left as it is
        "enlarge": 2,
        "fidelity": 0.4,
        "hints": [],
    }
    status, same = _api(client_as(family.owner), photo, {})
    assert status == 200 and same["id"] == job["id"]

    status, body = _api(client, big, {"enlarge": 4})
    assert status == 400 and "more than the 50 allowed" in body["detail"]
    status, body = _api(client, big, {"repair": False, "colourise": False, "enlarge": 1})
    assert status == 400 and "Choose at least one thing to do" in body["detail"]
    status, body = _api(client, big, {"enlarge": 3})
    assert status == 400
    status, body = _api(client, big, {"sharpen": True})
    assert status == 400 and "Unknown or read-only field: sharpen" in body["detail"]
    status, body = _api(client_as(family.viewer), big, {})
    assert status == 403 and "does not allow restoring photos" in body["detail"]
    assert not _restoring(big)
