"""Restoring a photo through the product: a contributor asks on the photo's page, the suite's real
Celery worker repairs and enlarges it, and a labelled, signed, AI-restored copy joins the gallery
beside the original, which stays byte for byte as it was. Asking twice makes one job; bad
requests are refused in words; takedown and gentle viewing reach the copy."""

from __future__ import annotations

import hashlib
import io
import re

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gan_engine.provenance import verify
from gan_engine.provenance.watermark import decode
from gan_engine.restore import damage
from gan_engine.restore.load import from_pil, to_uint8
from memorial.jobs.models import FINISHED, Job, Kind
from memorial.memorials.export import photo_entries
from memorial.memorials.export_names import Namer
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from memorial.moderation import items
from memorial.provenance.authority import ensure_instance
from tests import images
from tests.jobs.conftest import fresh, wait_for


def _old_photo(side: int = 80) -> bytes:
    """A real face, sepia-toned, scratched and small: what a family scans from an old print."""
    face = from_pil(images.packaged_face(0).resize((side, side), Image.Resampling.LANCZOS))
    grey = np.repeat(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    damaged, _ = damage.scratch(grey * np.array([1.0, 0.82, 0.6], np.float32), seed=5)
    return images.encode(Image.fromarray(to_uint8(damaged)), "JPEG", quality=92)


def _upload(family, data: bytes, name: str = "grandma-1931.jpg") -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(name, data),
        user=family.contributor,
        attested=True,
        caption="Grandma in 1931",
    )


def _stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def _restore_url(photo: Photo) -> str:
    return f"/m/{photo.memorial_id}/photos/{photo.pk}/restore/"


FORM = {"repair": "on", "enlarge": "2", "fidelity": "30"}


@pytest.mark.django_db(transaction=True)
def test_a_scratched_sepia_photo_is_restored_beside_its_original(celery_worker, family, client_as):
    original = _upload(family, _old_photo(140))
    before = hashlib.sha256(_stored(original.image)).hexdigest()
    client = client_as(family.contributor)
    page = client.get(original.get_absolute_url()).content.decode()
    assert _restore_url(original) in page  # "Restore this photo…"

    response = client.post(_restore_url(original), FORM)
    job = Job.objects.get(kind=Kind.RESTORE)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    wait_for(lambda: fresh(job).state in FINISHED, "the restoration to finish", 300)
    assert job.state == "succeeded", (job.error, job.message)
    assert job.percent == 100.0 and job.sample.name  # progress and a preview, like other jobs

    restored = Photo.objects.get(kind=PhotoKind.RESTORED)
    assert job.result["photo"] == str(restored.pk)
    assert restored.restored_from == original
    assert (restored.width, restored.height) == (280, 280)
    assert hashlib.sha256(_stored(original.image)).hexdigest() == before  # never changed
    data = _stored(restored.image)
    picture = Image.open(io.BytesIO(data))
    assert picture.text["memorial:label"] == "AI-restored"
    result = verify(data, "image/png", ensure_instance()[0].authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    assert [i["title"] for i in result.manifest["ingredients"]] == ["Original photo"]
    actions = next(
        a for a in result.manifest["assertions"] if a["label"].startswith("c2pa.actions")
    )
    names = [a["action"] for a in actions["data"]["actions"]]
    assert names[0] == "c2pa.opened" and "c2pa.resized" in names
    assert decode(picture) is not None  # the invisible watermark

    shown = client.get(restored.get_absolute_url()).content.decode()
    assert "AI-restored" in shown and 'type="range"' in shown
    assert "Before and after" in shown and original.get_absolute_url() in shown
    assert restored.get_absolute_url() in client.get(original.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_colouring_is_asked_for_unless_the_person_unticks_it(family, client_as):
    """A family restoring a black-and-white scan should not have to find a box to get colour:
    it is ticked, and the worker leaves a photo already in colour as it is."""
    photo = _upload(family, _old_photo(120))
    client = client_as(family.contributor)
    page = client.get(_restore_url(photo)).content.decode()
    box = re.search(r"<input[^>]*name=\"colourise\"[^>]*>", page)
    assert box is not None and "checked" in box.group(0)
    assert "A photo already in colour is left as it is." in page

    client.post(_restore_url(photo), {**FORM, "colourise": "on"})
    assert Job.objects.get(kind=Kind.RESTORE).parameters["colourise"] is True
    Job.objects.filter(kind=Kind.RESTORE).update(state="cancelled")
    client.post(_restore_url(photo), FORM)  # unticked: the form sends no "colourise"
    assert (
        Job.objects.filter(kind=Kind.RESTORE).latest("created_at").parameters["colourise"] is False
    )


@pytest.mark.django_db
def test_asking_twice_makes_one_job(family, client_as):
    photo = _upload(family, images.jpeg(seed=60, width=200, height=150))
    first = client_as(family.contributor).post(_restore_url(photo), FORM)
    second = client_as(family.owner).post(_restore_url(photo), FORM, follow=True)
    assert Job.objects.filter(kind=Kind.RESTORE).count() == 1
    job = Job.objects.get(kind=Kind.RESTORE)
    assert first["Location"] == job.get_absolute_url()
    assert "already being restored" in second.content.decode()

    # A cancelled restoration can be retried, without any consent record.
    Job.objects.filter(pk=job.pk).update(state="cancelled")
    retried = client_as(family.contributor).post(f"/m/{family.memorial.pk}/jobs/{job.pk}/retry/")
    assert retried.status_code == 302
    assert fresh(job).state == "queued"


@pytest.mark.django_db
def test_bad_requests_are_refused_in_words(family, client_as):
    client = client_as(family.contributor)
    photo = _upload(family, images.jpeg(seed=61, width=4000, height=3000))

    nothing = client.post(_restore_url(photo), {"enlarge": "1", "fidelity": "30"})
    assert nothing.status_code == 400
    assert "Choose at least one thing to do" in nothing.content.decode()

    huge = client.post(_restore_url(photo), {**FORM, "enlarge": "4"})
    assert huge.status_code == 400
    assert "192 megapixels, more than the 50 allowed" in huge.content.decode()

    made = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("g.png", images.png(seed=62)),
        user=family.contributor,
        attested=True,
        kind=PhotoKind.GENERATED,
    )
    generated = client.post(_restore_url(made), FORM)
    assert generated.status_code == 400 and "not AI-made ones" in generated.content.decode()

    family.memorial.ai_restoration_enabled = False
    family.memorial.save()
    off = client.post(_restore_url(photo), FORM)
    assert off.status_code == 403 and "turned off" in off.content.decode()
    assert not Job.objects.filter(kind=Kind.RESTORE).exists()


@pytest.mark.django_db
def test_takedown_export_and_gentle_viewing_reach_restored_copies(family, client_as):
    original = _upload(family, images.jpeg(seed=63))
    copy = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("restored.png", images.png(seed=64)),
        user=family.contributor,
        attested=True,
        kind=PhotoKind.RESTORED,
        restored_from=original,
    )
    derived = items.impact([items.HANDLERS["photo"].find([str(original.pk)])[0]])
    assert ("photo", str(copy.pk)) in {(i.kind, i.id) for i in derived}
    assert ("photo", str(copy.pk)) in {
        (i.kind, i.id) for i in items.HANDLERS["photo"].generated_of(family.memorial.pk)
    }

    exported = {e.meta["id"]: e for e in photo_entries(family.memorial, Namer())}
    assert exported[str(copy.pk)].meta["ai_made"] is True
    assert exported[str(copy.pk)].meta["label"] == "AI-restored"
    assert exported[str(copy.pk)].meta["restored_from"] == str(original.pk)
    assert exported[str(original.pk)].meta["ai_made"] is False

    membership = family.memorial.memberships.get(user=family.viewer)
    membership.show_ai_photos = False
    membership.save()
    viewer = client_as(family.viewer)
    assert viewer.get(copy.media_url("display")).status_code == 403
    assert viewer.get(original.media_url("display")).status_code == 200

    original.delete()
    assert not Photo.objects.filter(pk=copy.pk).exists()


def test_every_note_of_the_engine_is_said_in_the_readers_language():
    """The notes a restore can end with (the big-scan one included) are message ids the product
    translates, not English passed through."""
    from gan_engine.restore import pipeline
    from memorial.restoration.tasks import WORDS

    notes = [
        pipeline.FACES_KEPT,
        pipeline.IN_COLOUR,
        pipeline.GUESSED_COLOURS,
        pipeline.HINTED_COLOURS,
        pipeline.LEARNED_COLOURS,
        pipeline.NOT_FOUND,
        pipeline.NO_FACE,
        pipeline.PLAIN,
    ]
    assert all(note in WORDS for note in notes)
