"""Downloading everything of a memorial: the zip opens, the manifest lists every file with
its checksum, and the bytes are those in storage."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.models import ConsentRecord, Scope
from memorial.jobs.models import GeneratedImage, Job, ModelVersion
from memorial.memorials import retire
from memorial.memorials.models import PhotoKind
from tests import images
from tests.factories import add_photo


@pytest.fixture
def filled(family):
    uploaded = add_photo(family, 31, "Rose at the lake", place="Windermere", tags=["summer"])
    uploaded.original_filename = "lake.jpg"
    uploaded.save(update_fields=["original_filename"])
    generated = add_photo(family, 32, "smiling in the garden", kind=PhotoKind.GENERATED)
    job = Job.objects.create(kind="generate", memorial=family.memorial, state="succeeded")
    train = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded")
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=train, checkpoint="none", resolution=64
    )
    GeneratedImage.objects.create(
        photo=generated, model_version=model, job=job, caption="smiling in the garden", seed=7
    )
    record = ConsentRecord(
        memorial=family.memorial,
        attested_by=family.owner,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING, Scope.GENERATED_PHOTOS],
    )
    record.evidence.save("evidence", ContentFile(images.jpeg(seed=33)), save=False)
    record.save()
    return {"uploaded": uploaded, "generated": generated, "model": model, "record": record}


def _zip(response) -> zipfile.ZipFile:
    assert isinstance(response, StreamingHttpResponse)  # streamed, not built in memory
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _stored(field) -> bytes:
    with field.storage.open(field.name, "rb") as handle:
        return handle.read()


@pytest.mark.django_db
def test_zip_holds_every_file_and_a_manifest_that_matches_storage(family, client_as, filled):
    archive = _zip(client_as(family.owner).get(f"/m/{family.memorial.pk}/export/"))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["memorial"]["name"] == "Grandma Rose"
    assert manifest["memorial"]["mark_position"] == "bottom-right"

    files = {f["id"]: f for f in manifest["files"]}
    names = set(archive.namelist()) - {"manifest.json"}
    assert names == {f["path"] for f in manifest["files"]}  # every file, and only those
    assert set(files) == {str(filled["uploaded"].pk), str(filled["generated"].pk)}

    for photo in (filled["uploaded"], filled["generated"]):
        entry = files[str(photo.pk)]
        data = archive.read(entry["path"])
        assert data == _stored(photo.image)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)

    uploaded = files[str(filled["uploaded"].pk)]
    assert uploaded["kind"] == "uploaded" and uploaded["path"] == "photos/rose at the lake 01.jpg"
    assert uploaded["caption"] == "Rose at the lake"
    assert uploaded["place"] == "Windermere" and uploaded["tags"] == ["summer"]
    assert uploaded["original_filename"] == "lake.jpg"
    assert "label" not in uploaded

    generated = files[str(filled["generated"].pk)]
    assert generated["kind"] == "generated"
    assert generated["path"] == "AI-generated/smiling in the garden (AI-generated) 01.jpg"
    assert generated["label"] == "AI-generated"
    assert generated["generation"] == {
        "model_version": str(filled["model"].pk),
        "caption": "smiling in the garden",
        "seed": 7,
    }

    [consent] = manifest["consent_records"]
    assert consent["id"] == str(filled["record"].pk)
    assert consent["has_evidence"] is True
    assert consent["scopes"] == [Scope.TRAINING, Scope.GENERATED_PHOTOS]
    evidence = _stored(filled["record"].evidence)
    assert all(archive.read(n) != evidence for n in archive.namelist())  # evidence stays out
    assert AuditEntry.objects.filter(
        action=AuditAction.MEMORIAL_EXPORTED, memorial_id=family.memorial.pk
    ).exists()


@pytest.mark.django_db
def test_export_works_while_archived_and_during_cooling_off(family, client_as, filled):
    retire.set_archived(family.memorial, family.owner, True)
    retire.request_deletion(family.memorial, family.owner)
    client = client_as(family.owner)
    for url in (f"/m/{family.memorial.pk}/export/", f"/api/memorials/{family.memorial.pk}/export/"):
        archive = _zip(client.get(url))
        manifest = json.loads(archive.read("manifest.json"))
        assert len(manifest["files"]) == 2
        assert manifest["memorial"]["archived_at"] and manifest["memorial"]["delete_after"]


@pytest.mark.django_db
def test_only_owners_export(family, client_as, filled):
    for user in (family.contributor, family.viewer, family.staff):
        assert client_as(user).get(f"/m/{family.memorial.pk}/export/").status_code == 403
        api = client_as(user).get(f"/api/memorials/{family.memorial.pk}/export/")
        assert api.status_code == 403 and "downloading" in api.json()["detail"]
    assert client_as(family.outsider).get(f"/m/{family.memorial.pk}/export/").status_code == 404


@pytest.mark.django_db
def test_hidden_photos_stay_out(family, client_as, filled):
    filled["uploaded"].hidden = True  # hidden by a takedown, on its way out
    filled["uploaded"].save(update_fields=["hidden"])
    archive = _zip(client_as(family.owner).get(f"/m/{family.memorial.pk}/export/"))
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["id"] for f in manifest["files"]] == [str(filled["generated"].pk)]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_zip_is_an_async_stream_read_chunk_by_chunk(family, filled):
    """daphne serves an async iterator piece by piece; a plain iterator would be read whole
    into memory by Django first."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    async def fetch():
        client = AsyncClient()
        await client.aforce_login(family.owner)
        response = await client.get(f"/m/{family.memorial.pk}/export/")
        assert response.is_async
        chunks = [chunk async for chunk in response.streaming_content]
        return chunks

    chunks = async_to_sync(fetch)()
    assert len(chunks) > 3  # pieces of each file and the manifest, not one buffered blob
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]


@pytest.mark.django_db
def test_a_file_lost_from_storage_is_listed_as_missing_not_a_broken_zip(family, client_as, filled):
    lost = filled["generated"]
    lost.image.storage.delete(lost.image.name)
    archive = _zip(client_as(family.owner).get(f"/m/{family.memorial.pk}/export/"))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["id"] for f in manifest["files"]] == [str(filled["uploaded"].pk)]
    assert [f["id"] for f in manifest["missing_files"]] == [str(lost.pk)]
