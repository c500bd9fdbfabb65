"""Colourising through the product: colour points placed on the restore page are honoured by the
suite's real Celery worker, the family's colour photos of the person teach the colouriser (and
the face enlarger) the person only under approved consent for training, and bad points are
refused in words before any job starts."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gan_engine.provenance import verify
from gan_engine.restore.colour import tone_of
from gan_engine.restore.load import from_pil
from memorial.jobs.models import FINISHED, Job, Kind
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from memorial.provenance.authority import ensure_instance
from tests import images
from tests.jobs.conftest import approve, fresh, wait_for


def _grey_photo(side: int = 160) -> bytes:
    face = images.packaged_face(0, side=side).convert("L").convert("RGB")
    return images.encode(face, "PNG")


def _upload(family, data: bytes, name: str) -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(name, data),
        user=family.contributor,
        attested=True,
    )


def _url(photo: Photo) -> str:
    return f"/m/{photo.memorial_id}/photos/{photo.pk}/restore/"


COLOUR = {"colourise": "on", "enlarge": "1", "fidelity": "30"}


def _restored_pixels(photo: Photo) -> tuple[np.ndarray, bytes]:
    with photo.image.open("rb") as handle:
        data = handle.read()
    return from_pil(Image.open(io.BytesIO(data))), data


def _finished(job: Job) -> Job:
    wait_for(lambda: fresh(job).state in FINISHED, "the restoration to finish", 300)
    job = fresh(job)
    assert job.state == "succeeded", (job.error, job.message)
    return job


@pytest.mark.django_db(transaction=True)
def test_colour_points_on_the_page_colour_the_restored_copy(celery_worker, family, client_as):
    original = _upload(family, _grey_photo(), "grandad.png")
    client = client_as(family.contributor)
    page = client.get(_url(original)).content.decode()
    assert 'name="hints"' in page and "Add a colour point" in page and "colour-points.js" in page

    points = [{"x": 80, "y": 80, "colour": "#c08a6a"}, {"x": 80, "y": 150, "colour": "#3050a0"}]
    response = client.post(_url(original), {**COLOUR, "hints": json.dumps(points)})
    assert response.status_code == 302
    job = _finished(Job.objects.get(kind=Kind.RESTORE))
    assert job.parameters["hints"] == [[80, 80, "#c08a6a"], [80, 150, "#3050a0"]]
    assert "corrected by your colour points" in str(job.message)

    restored = Photo.objects.get(kind=PhotoKind.RESTORED)
    pixels, data = _restored_pixels(restored)
    assert tone_of(pixels).tone == "colour"
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab)
    at = round(80 * pixels.shape[0] / 160)  # the written copy may be larger (outputs' minimum)
    assert lab[at, at, 1] > 5 and lab[at, at, 2] > 5  # warm where the warm point was put
    result = verify(data, "image/png", ensure_instance()[0].authority.ca_cert)
    actions = next(
        a for a in result.manifest["assertions"] if a["label"].startswith("c2pa.actions")
    )
    assert "org.memorial.colourised" in [a["action"] for a in actions["data"]["actions"]]


@pytest.mark.django_db(transaction=True)
def test_family_colour_photos_teach_the_colouriser_only_under_training_consent(
    celery_worker, family, client_as
):
    for variant in (1, 2, 3):
        _upload(family, images.encode(images.packaged_face(variant), "PNG"), f"c{variant}.png")
    original = _upload(family, _grey_photo(), "grandad.png")
    client = client_as(family.contributor)

    client.post(_url(original), COLOUR)
    first = _finished(Job.objects.get(kind=Kind.RESTORE))
    assert "were not used for the colours" in str(first.message)
    assert "the colour model's best guess" in str(first.message)
    general = Photo.objects.get(kind=PhotoKind.RESTORED)

    approve(family.memorial, "training")
    client.post(_url(original), COLOUR)
    second = _finished(Job.objects.filter(kind=Kind.RESTORE).exclude(pk=first.pk).get())
    assert "taught by the family's colour photos of the person" in str(second.message)
    taught = Photo.objects.filter(kind=PhotoKind.RESTORED).exclude(pk=general.pk).get()
    for photo in (general, taught):
        pixels, _data = _restored_pixels(photo)
        assert tone_of(pixels).tone == "colour"
    assert not np.array_equal(_restored_pixels(general)[0], _restored_pixels(taught)[0])


@pytest.mark.django_db(transaction=True)
def test_the_persons_photos_teach_the_face_enlarger_only_under_training_consent(
    celery_worker, family, client_as
):
    for variant in (1, 2, 3):
        _upload(family, images.encode(images.packaged_face(variant), "PNG"), f"c{variant}.png")
    small = images.packaged_face(0).resize((62, 62), Image.Resampling.LANCZOS)
    original = _upload(family, images.encode(small, "PNG"), "small-print.png")
    client = client_as(family.contributor)
    enlarge = {"enlarge": "4", "fidelity": "30"}

    client.post(_url(original), enlarge)
    first = _finished(Job.objects.get(kind=Kind.RESTORE))
    assert "taught the person's own face" not in str(first.message)

    approve(family.memorial, "training")
    client.post(_url(original), enlarge)
    second = _finished(Job.objects.filter(kind=Kind.RESTORE).exclude(pk=first.pk).get())
    assert "Faces were enlarged by a model taught the person's own face" in str(second.message)
    assert Photo.objects.filter(kind=PhotoKind.RESTORED).count() == 2


@pytest.mark.django_db
def test_bad_colour_points_are_refused_in_words(family, client_as):
    photo = _upload(family, _grey_photo(), "grandad.png")
    client = client_as(family.contributor)

    def post(points) -> tuple[int, str]:
        value = points if isinstance(points, str) else json.dumps(points)
        response = client.post(_url(photo), {**COLOUR, "hints": value})
        return response.status_code, response.content.decode()

    status, page = post([{"x": 1, "y": 1, "colour": "#000000"}] * 21)
    assert status == 400 and "At most 20 colour points can be given; please remove 1." in page
    status, page = post([{"x": 160, "y": 10, "colour": "#ffffff"}])
    assert status == 400 and "Colour point 1 is outside the photo, which is 160 × 160" in page
    status, page = post([{"x": 10, "y": 10, "colour": "red"}])
    assert status == 400 and "needs a colour such as #a0522d" in page
    status, page = post("not json")
    assert status == 400 and "could not be read" in page

    api = client.post(
        f"/api/photos/{photo.pk}/restore/",
        {"colourise": True, "enlarge": 1, "hints": [{"x": -1, "y": 3, "colour": "#102030"}]},
        content_type="application/json",
    )
    assert api.status_code == 400 and "outside the photo" in api.json()["detail"]
    assert not Job.objects.filter(kind=Kind.RESTORE).exists()
