"""The web side: the instance authority, signed generated photos kept byte for byte in the gallery,
and the public "Verify a file" page."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from gan_engine.outputs import write_image
from gan_engine.provenance import verify
from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.jobs.models import GeneratedImage, Job, Kind, ModelVersion
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import PhotoKind
from memorial.provenance import signing
from memorial.provenance.authority import ensure_instance, folder
from tests.images import jpeg
from tests.provenance.conftest import faces
from tests.provenance.test_c2pa import flip_idat_byte

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(family, tmp_path: Path):
    """A generated photo made the way the generate task makes it: signed, then ingested."""
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING, Scope.GENERATED_PHOTOS],
        status=Status.APPROVED,
    )
    train = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial)
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=train, checkpoint="x", resolution=64
    )
    job = Job.objects.create(kind=Kind.GENERATE, memorial=family.memorial)
    provenance = signing.for_generated(
        memorial=family.memorial, model_version=str(model.pk), item_id=f"{job.pk}/5"
    )
    path = write_image(
        faces(1)[0].resize((64, 64)), tmp_path / "g.png", kind="generated", provenance=provenance
    )
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("generated-5.png", path.read_bytes()),
        user=family.contributor,
        attested=True,
        kind=PhotoKind.GENERATED,
    )
    GeneratedImage.objects.create(photo=photo, model_version=model, job=job, seed=5)
    return photo, path.read_bytes(), record, model


def test_authority_is_made_once_with_private_keys() -> None:
    call_command("provenance_setup", stdout=io.StringIO())
    first, created = ensure_instance()
    assert not created  # the command made it
    for key in ("ca.key", "signer.key"):
        assert stat.S_IMODE((folder() / key).stat().st_mode) == 0o600
    out = io.StringIO()
    call_command("provenance_setup", stdout=out)
    assert "Kept existing" in out.getvalue() and ensure_instance()[0] == first


def test_generated_photo_keeps_its_signature_in_the_gallery(generated, family, client_as) -> None:
    photo, signed, record, model = generated
    anchor = ensure_instance()[0].authority.ca_cert
    response = client_as(family.viewer).get(f"/media/photos/{photo.pk}/original/?download=1")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    served = b"".join(response.streaming_content)
    assert served == signed
    result = verify(served, "image/png", anchor)
    assert result.verdict == "trusted", result.failures
    assert result.generation["consent"] == str(record.pk)
    assert result.generation["model_version"] == str(model.pk)
    assert photo.display.read()[:3] == b"\xff\xd8\xff"  # renditions are re-encoded JPEGs


def test_uploaded_photos_keep_their_pixels_but_no_manifest(generated, family) -> None:
    """Only the engine's own files keep their bytes: a signed file sent as an ordinary upload
    keeps its pixels, not its signature, so a family upload never passes for a signed one."""
    generated_photo, signed, _record, _model = generated
    generated_photo.delete()  # else the same bytes are a duplicate
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("p.png", signed),
        user=family.contributor,
        attested=True,
    )
    assert photo.image.name.endswith(".png")
    with photo.image.open("rb") as handle:
        kept = handle.read()
    assert kept != signed
    assert verify(kept, "image/png", None).verdict == "none"
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(kept))), np.asarray(Image.open(io.BytesIO(signed)))
    )


def test_verify_page(generated, family, client) -> None:
    photo, signed, _record, _model = generated

    def post(data: bytes, name: str, as_client=client):
        return as_client.post("/verify/", {"file": SimpleUploadedFile(name, data)})

    assert client.get("/verify/").status_code == 200
    page = post(signed, "g.png")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-verdict="trusted"' in html and 'data-watermark="found"' in html
    assert str(photo.get_absolute_url()) not in html  # anonymous: no link to the item

    member = client.__class__()
    member.force_login(family.viewer)
    assert str(photo.get_absolute_url()) in post(signed, "g.png", member).content.decode()

    tampered = post(flip_idat_byte(signed), "g.png").content.decode()
    assert 'data-verdict="invalid"' in tampered
    real = post(jpeg(2), "photo.jpg").content.decode()
    assert 'data-verdict="none"' in real and 'data-watermark="none"' in real
    junk = post(b"not an image at all", "x.bin").content.decode()
    assert 'data-watermark="unchecked"' in junk and 'data-verdict="none"' in junk
    assert post(b"", "empty.png").status_code == 400


def test_the_web_side_of_provenance_does_not_import_torch() -> None:
    """The verify page runs in the web process, which must never load torch."""
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup(); "
        "import memorial.provenance.views, memorial.provenance.signing; "
        "sys.exit('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
