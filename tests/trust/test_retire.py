"""Retiring a memorial: archive (read-only) and deletion after a cooling-off period.

The deletion is checked by listing the storage folder itself afterwards, and by reading the
database and the audit log: nothing of the memorial remains but identifiers in the audit log.
"""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.jobs.models import Job, ModelVersion
from memorial.memorials import retire
from memorial.memorials.models import Memorial, Photo, PhotoKind
from memorial.memorials.tasks import purge_due
from memorial.policy import BLOCKED_WHEN_READ_ONLY, Action, allows
from tests import images
from tests.factories import add_photo
from tests.test_s3_storage import bucket, s3_endpoint  # noqa: F401 (fixtures: a moto S3 server)


def _json(client, method: str, url: str, body=None):
    return getattr(client, method)(
        url, json.dumps(body) if body is not None else "", content_type="application/json"
    )


def _folder(memorial_id) -> Path:
    return Path(settings.MEDIA_ROOT) / "memorials" / str(memorial_id)


def _files_on_disk(memorial_id) -> list[str]:
    root = _folder(memorial_id)
    return sorted(str(Path(d, f).relative_to(root)) for d, _s, fs in os.walk(root) for f in fs)


# --- Archive


@pytest.mark.django_db
def test_owner_archives_and_writes_are_refused_with_the_reason(family, client_as):
    photo = add_photo(family, 1, "At the lake", user=family.contributor)
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
        status=Status.APPROVED,
    )
    owner = client_as(family.owner)
    response = owner.post(f"/m/{family.memorial.pk}/retire/", {"action": "archive"})
    assert response.status_code == 302
    memorial = Memorial.objects.get(pk=family.memorial.pk)
    assert memorial.is_archived and memorial.is_read_only
    assert AuditEntry.objects.filter(
        action=AuditAction.MEMORIAL_ARCHIVED, memorial_id=memorial.pk, actor_id=family.owner.pk
    ).exists()

    for action in BLOCKED_WHEN_READ_ONLY:
        assert not allows(family.owner, action, memorial), action
    for action in (Action.VIEW_PHOTOS, Action.EXPORT_MEMORIAL, Action.WITHDRAW_CONSENT):
        assert allows(family.owner, action, memorial), action

    contributor = client_as(family.contributor)
    refusals = [
        contributor.post(
            f"/api/memorials/{memorial.pk}/photos/",
            {"file": ContentFile(images.jpeg(seed=5), name="new.jpg"), "attested": "true"},
        ),
        _json(contributor, "patch", f"/api/photos/{photo.pk}/", {"caption": "Changed"}),
        contributor.delete(f"/api/photos/{photo.pk}/"),
        _json(owner, "patch", f"/api/memorials/{memorial.pk}/", {"biography": "x"}),
        _json(
            owner,
            "post",
            f"/api/memorials/{memorial.pk}/consent/",
            {
                "attester_name": "Olive Owner",
                "relationship": "daughter",
                "basis": "next_of_kin",
                "scopes": [Scope.GENERATED_PHOTOS],
            },
        ),
        _json(owner, "post", f"/api/memorials/{memorial.pk}/jobs/", {"kind": "train"}),
    ]
    for refused in refusals:
        assert refused.status_code == 403, refused.content
        assert "archived" in refused.json()["detail"]
    upload_page = contributor.get(f"/m/{memorial.pk}/upload/")
    assert upload_page.status_code == 403
    assert "This memorial is archived" in upload_page.content.decode()  # the reason, on the page
    assert Photo.objects.get(pk=photo.pk).caption == "At the lake"

    # Viewing and withdrawing consent still work; the page says why controls are off.
    gallery = client_as(family.viewer).get(f"/m/{memorial.pk}/")
    assert gallery.status_code == 200
    html = gallery.content.decode()
    assert "This memorial is archived." in html
    # A viewer could not upload anyway: nothing to explain.
    assert not re.search(r"<button[^>]*disabled[^>]*>Add photos</button>", html)
    html = contributor.get(f"/m/{memorial.pk}/").content.decode()
    assert "This memorial is archived." in html
    assert re.search(r"<button[^>]*disabled[^>]*>Add photos</button>", html)
    assert "the memorial is read-only" in html
    withdrawn = owner.post(f"/api/consent/{record.pk}/withdraw/")
    assert withdrawn.status_code == 200

    # Unarchived, the family can add photos again.
    assert (
        _json(owner, "post", f"/api/memorials/{memorial.pk}/archive/", {"archived": False}).json()[
            "is_archived"
        ]
        is False
    )
    assert AuditEntry.objects.filter(action=AuditAction.MEMORIAL_UNARCHIVED).exists()
    again = _json(contributor, "patch", f"/api/photos/{photo.pk}/", {"caption": "Changed"})
    assert again.status_code == 200


@pytest.mark.django_db
def test_only_the_owner_may_archive(family, client_as):
    for user in (family.contributor, family.viewer, family.staff):
        response = _json(
            client_as(user),
            "post",
            f"/api/memorials/{family.memorial.pk}/archive/",
            {"archived": True},
        )
        assert response.status_code == 403
    assert not Memorial.objects.get(pk=family.memorial.pk).is_archived


# --- Deletion with a cooling-off period


@pytest.mark.django_db
def test_deletion_asks_for_the_name_and_shows_the_date(family, client_as):
    owner = client_as(family.owner)
    url = f"/m/{family.memorial.pk}/retire/"
    wrong = owner.post(url, {"action": "delete", "confirm_name": "Grandma"})
    assert wrong.status_code == 400
    assert "type the memorial's name" in wrong.content.decode()
    assert not Memorial.objects.get(pk=family.memorial.pk).deletion_pending

    before = timezone.now()
    assert (
        owner.post(url, {"action": "delete", "confirm_name": " grandma  rose "}).status_code == 302
    )
    memorial = Memorial.objects.get(pk=family.memorial.pk)
    days = timedelta(days=settings.MEMORIAL_DELETION_COOLING_OFF_DAYS)
    assert settings.MEMORIAL_DELETION_COOLING_OFF_DAYS == 14
    assert before + days <= memorial.delete_after <= timezone.now() + days
    assert memorial.deletion_requested_by == family.owner
    page = owner.get(url).content.decode()
    assert "This memorial will be deleted on" in page and "Cancel the deletion" in page
    gallery = client_as(family.viewer).get(f"/m/{memorial.pk}/").content.decode()
    assert "This memorial will be deleted on" in gallery
    dashboard = client_as(family.viewer).get("/").content.decode()
    assert "To be deleted on" in dashboard
    # Read-only meanwhile, with the date as the reason.
    refused = _json(
        client_as(family.contributor), "post", f"/api/memorials/{memorial.pk}/jobs/", {}
    )
    assert refused.status_code == 403 and "will be deleted on" in refused.json()["detail"]


@pytest.mark.django_db
def test_cooling_off_days_come_from_the_settings(family, settings):
    settings.MEMORIAL_DELETION_COOLING_OFF_DAYS = 3
    memorial = retire.request_deletion(family.memorial, family.owner)
    remaining = memorial.delete_after - memorial.deletion_requested_at
    assert remaining == timedelta(days=3)


def _fill(family) -> dict:
    """Everything a memorial can hold: photos (one generated), consent evidence, a job with
    a sample grid and a checkpoint, and a stray file under its storage prefix."""
    uploaded = add_photo(family, 11, "Rose in the garden", place="Bath")
    generated = add_photo(family, 12, "smiling", kind=PhotoKind.GENERATED)
    record = ConsentRecord(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
    )
    record.evidence.save("evidence", ContentFile(images.jpeg(seed=13)), save=False)
    record.save()
    job = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded")
    job.sample.save("sample.png", ContentFile(images.png(seed=14)), save=True)
    checkpoint = default_storage.save(
        f"memorials/{family.memorial.pk}/models/{job.pk}/checkpoint.pt", ContentFile(b"weights")
    )
    ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint=checkpoint, resolution=64
    )
    stray = default_storage.save(
        f"memorials/{family.memorial.pk}/scratch/left.bin", ContentFile(b"x")
    )
    return {
        "photos": [uploaded, generated],
        "record": record,
        "job": job,
        "files": [checkpoint, stray],
    }


def _make_due(memorial) -> None:
    Memorial.objects.filter(pk=memorial.pk).update(
        delete_after=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db(transaction=True)
def test_due_deletion_removes_every_row_and_file_and_keeps_identifiers_in_the_audit_log(family):
    things = _fill(family)
    memorial_id = family.memorial.pk
    others = add_photo_to(family.other_memorial, family.outsider)
    assert len(_files_on_disk(memorial_id)) >= 9  # 2 photos x 3 variants, evidence, sample, …
    retire.request_deletion(family.memorial, family.owner, "Grandma Rose")
    assert purge_due() == []  # not yet: the cooling-off period runs
    assert Memorial.objects.filter(pk=memorial_id).exists()

    _make_due(family.memorial)
    assert purge_due() == [str(memorial_id)]  # the Celery task, run in this process

    assert retire.stored_files(retire.storage_prefix(memorial_id)) == []
    assert not _folder(memorial_id).exists()  # the folder itself, listed on disk
    assert not Memorial.objects.filter(pk=memorial_id).exists()
    assert not Photo.objects.filter(memorial_id=memorial_id).exists()
    assert not ConsentRecord.objects.filter(pk=things["record"].pk).exists()
    assert not Job.objects.filter(pk=things["job"].pk).exists()
    assert not ModelVersion.objects.filter(memorial_id=memorial_id).exists()
    # Another family's memorial is untouched.
    assert default_storage.exists(others.image.name)

    entries = AuditEntry.objects.filter(memorial_id=memorial_id)
    actions = set(entries.values_list("action", flat=True))
    assert {
        AuditAction.MEMORIAL_DELETION_REQUESTED,
        AuditAction.MEMORIAL_PURGED,
        AuditAction.MEMORIAL_DELETED,
        AuditAction.PHOTO_DELETED,
    } <= actions
    text = json.dumps([[e.reason, e.extra, e.target_id] for e in AuditEntry.objects.all()])
    for secret in ("Grandma Rose", "Rose in the garden", "Bath", "Olive Owner"):
        assert secret not in text

    # Safe to run again: nothing left to do, and a file written late is swept up.
    assert purge_due() == []
    default_storage.save(f"memorials/{memorial_id}/photos/late.jpg", ContentFile(b"late"))
    purge_due()
    assert retire.stored_files(retire.storage_prefix(memorial_id)) == []


def add_photo_to(memorial, user) -> Photo:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from memorial.memorials.ingest import ingest_photo

    return ingest_photo(
        memorial=memorial,
        uploaded=SimpleUploadedFile("other.jpg", images.jpeg(seed=21, width=64, height=48)),
        user=user,
        attested=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_deletion_keeps_everything(family, client_as):
    things = _fill(family)
    memorial_id = family.memorial.pk
    before = _files_on_disk(memorial_id)
    owner = client_as(family.owner)
    url = f"/m/{memorial_id}/retire/"
    assert owner.post(url, {"action": "delete", "confirm_name": "Grandma Rose"}).status_code == 302
    assert owner.post(url, {"action": "cancel_delete"}).status_code == 302
    memorial = Memorial.objects.get(pk=memorial_id)
    assert not memorial.deletion_pending and memorial.delete_after is None
    assert AuditEntry.objects.filter(action=AuditAction.MEMORIAL_DELETION_CANCELLED).exists()

    # The periodic task, twice: nothing is due.
    purge_due()
    purge_due()
    assert _files_on_disk(memorial_id) == before
    assert Photo.objects.filter(memorial_id=memorial_id).count() == 2
    assert ConsentRecord.objects.filter(pk=things["record"].pk).exists()
    # Writable again.
    assert allows(family.contributor, Action.UPLOAD_PHOTOS, memorial)


@pytest.mark.django_db
def test_api_deletion_and_restore(family, client_as):
    owner = client_as(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/"
    first = owner.delete(url)
    assert first.status_code == 202 and first.json()["delete_after"]
    again = owner.delete(url)
    assert again.status_code == 409 and "already been requested" in again.json()["detail"]
    restored = owner.post(f"{url}restore/")
    assert restored.status_code == 200 and restored.json()["delete_after"] is None
    assert owner.post(f"{url}restore/").status_code == 200  # repeating is harmless


def test_beat_sends_the_purge_task_and_the_embedded_worker_runs_beat():
    from memorial.celery import app
    from memorial.core.launcher import worker_command

    schedule = app.conf.beat_schedule["purge-deleted-memorials"]
    assert schedule["task"] == purge_due.name == "memorial.memorials.purge_due"
    assert schedule["task"] in app.tasks
    assert "--beat" in worker_command(Path("/tmp/data"))
    assert "/tmp/data/celerybeat-schedule" in worker_command(Path("/tmp/data"))


@pytest.mark.s3
@pytest.mark.django_db(transaction=True)
def test_due_deletion_empties_the_memorials_prefix_in_the_s3_store(family, bucket):  # noqa: F811
    """The same deletion against an S3 server: list the bucket itself afterwards."""
    _fill(family)
    other = add_photo_to(family.other_memorial, family.outsider)
    prefix = retire.storage_prefix(family.memorial.pk)
    assert len(bucket.keys(prefix)) >= 9
    retire.request_deletion(family.memorial, family.owner)
    _make_due(family.memorial)
    assert purge_due() == [str(family.memorial.pk)]
    assert bucket.keys(prefix) == set()
    assert other.image.name in bucket.keys(f"memorials/{family.other_memorial.pk}/")
    assert not Memorial.objects.filter(pk=family.memorial.pk).exists()
