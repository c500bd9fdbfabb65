"""Deletion reaches every copy: after a consent withdrawal and after a takedown of a source photo,
the storage itself — the local folder, and a real S3 server (moto in server mode, as in
tests/test_s3_storage.py) — is listed and nothing derived is left; the family's other photos
remain, the audit entries remain and the hash chain still verifies.

The memorial's content is made by the real job tasks (tiny model trained in this process), so
the keys checked are the ones the tasks really write.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from memorial.audit.models import AuditEntry
from memorial.jobs.models import GeneratedImage, Job, ModelVersion
from memorial.memorials.models import Photo
from memorial.moderation.models import TakedownRequest, TakedownStatus
from memorial.videos.models import Video
from tests.test_s3_storage import bucket, s3_endpoint  # noqa: F401 (fixtures)
from tests.trust.made import make_everything, stored, under

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """None for the local folder, else the S3 bucket the app now stores in."""
    if request.param == "local":
        return None
    return request.getfixturevalue("bucket")


def _chain_intact() -> None:
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "intact" in out.getvalue()


def _models(keys: set[str], memorial_id) -> set[str]:
    return under(keys, "memorials", memorial_id, "models")


def test_withdrawal_leaves_nothing_derived_in_storage(storage, family, client_as):
    made = make_everything(family)
    m = made.memorial_id
    before = stored(m, storage)
    assert _models(before, m) and len(before) > len(_models(before, m))
    if storage is not None:  # really in the bucket, not in the local folder
        assert stored(m) == set()

    client_as(family.owner).post(f"/m/{m}/consent/{made.consent.pk}/withdraw/")

    after = stored(m, storage)
    assert not _models(after, m) and not under(after, "memorials", m, "videos")
    assert not Video.objects.exists()
    kept = {p.pk for p in made.uploads}
    assert after and all(any(f"/photos/{pk}/" in key for pk in kept) for key in after)
    for photo in made.uploads:
        assert under(after, "memorials", m, "photos", photo.pk)
    assert not Job.objects.filter(memorial_id=m).exists()
    assert not ModelVersion.objects.exists() and not GeneratedImage.objects.exists()
    assert set(Photo.objects.filter(memorial_id=m).values_list("pk", flat=True)) == kept
    assert AuditEntry.objects.filter(action="withdrawal.finished", memorial_id=m).exists()
    _chain_intact()


def test_withdrawal_with_uploads_leaves_an_empty_store(storage, family, client_as):
    made = make_everything(family)
    client_as(family.owner).post(
        f"/m/{made.memorial_id}/consent/{made.consent.pk}/withdraw/", {"include_uploads": "on"}
    )
    assert stored(made.memorial_id, storage) == set()
    assert not Photo.objects.filter(memorial_id=made.memorial_id).exists()
    _chain_intact()


def test_takedown_of_a_source_photo_retires_its_models_and_their_outputs(
    storage, family, client_as, django_capture_on_commit_callbacks
):
    made = make_everything(family)
    m = made.memorial_id
    source = made.uploads[0]  # a talking portrait was made of it, and the model learnt from it
    assert str(source.pk) in made.prepare.result["photos"]
    assert under(stored(m, storage), "memorials", m, "videos")
    client_as(None).post(
        "/takedown/",
        {
            "contact_name": "Pat Passerby",
            "contact_email": "pat@example.net",
            "relationship": "the person in the photo",
            "url": f"https://memorial.example.org/m/{m}/photos/{source.pk}/",
            "reason": "depicted",
            "explanation": "That is me; I never agreed.",
            "good_faith": "on",
            "website": "",
        },
    )
    takedown = TakedownRequest.objects.get()
    staff = client_as(family.staff)
    detail = staff.get(f"/moderation/takedowns/{takedown.pk}/").content.decode()
    chosen = re.findall(r'name="item" value="([^"]+)"', detail)
    expected = {
        f"photo:{source.pk}",
        f"model:{made.model.pk}",
        *(f"job:{j.pk}" for j in (made.prepare, made.train, made.generate, made.evaluate)),
        *(f"photo:{p.pk}" for p in made.generated),
        *(f"video:{v.pk}" for v in made.extra["videos"]),
    }
    assert set(chosen) == expected  # the impact preview: the photo and all made from it
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/moderation/takedowns/{takedown.pk}/",
            {"op": "action", "item": chosen, "reason": "The person depicted objects."},
        )
    assert response.status_code == 302
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.ACTIONED

    after = stored(m, storage)
    assert not _models(after, m) and not under(after, "memorials", m, "videos")
    assert not Video.objects.exists()
    for photo in [source, *made.generated]:
        assert not under(after, "memorials", m, "photos", photo.pk)
    others = [p for p in made.uploads if p.pk != source.pk]
    for photo in others:
        assert under(after, "memorials", m, "photos", photo.pk)
    assert not Photo.objects.filter(pk__in=[source.pk, *(p.pk for p in made.generated)]).exists()
    assert Photo.objects.filter(memorial_id=m).count() == len(others)
    assert not ModelVersion.objects.exists() and not Job.objects.filter(memorial_id=m).exists()
    assert not services_remaining(takedown)
    actions = set(AuditEntry.objects.filter(memorial_id=m).values_list("action", flat=True))
    assert {"takedown.actioned", "model.hidden", "model.deleted", "job.deleted"} <= actions
    assert "photo.deleted" in actions
    _chain_intact()


def services_remaining(takedown):
    from memorial.moderation import services

    return services.remaining(takedown)
