"""S3 mode against a real S3-compatible server (moto's server mode on loopback).

The app is configured through `config.default_storage`, the same function the
settings module uses with the MEMORIAL_S3_* environment, so these tests exercise
the production storage options: private objects, reached only by short-lived
signed URLs handed out after the permission policy said yes.
"""

from __future__ import annotations

import io
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image

from memorial import config
from memorial.consent.models import Basis, ConsentRecord, Scope
from memorial.core.storage import PrivateS3Storage
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo
from tests import images

pytestmark = pytest.mark.s3

ACCESS_KEY = "memorial-test-access"
SECRET_KEY = "memorial-test-secret"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on a free loopback port, for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    endpoint: str
    name: str
    client: object

    def keys(self, prefix: str = "") -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return {item["Key"] for item in listing.get("Contents", [])}

    def body(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def anonymous_get(self, key: str) -> httpx.Response:
        return httpx.get(f"{self.endpoint}/{self.name}/{key}")


def s3_environment(endpoint: str, bucket: str, **extra: str) -> dict[str, str]:
    """The MEMORIAL_S3_* variables an operator would set for this store."""
    return {
        "MEMORIAL_S3_BUCKET": bucket,
        "MEMORIAL_S3_ENDPOINT_URL": endpoint,
        "MEMORIAL_S3_ACCESS_KEY": ACCESS_KEY,
        "MEMORIAL_S3_SECRET_KEY": SECRET_KEY,
        "MEMORIAL_S3_REGION": REGION,
        **extra,
    }


def use_s3(settings, environment: dict[str, str]) -> None:
    """Point the default storage (and so every FileField) at the bucket, as settings would."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": config.default_storage(settings.MEDIA_ROOT, environment),
    }
    # Django's setting_changed handler drops its cached storages; prove the fields follow.
    for field_file_owner, field in ((Photo, "image"), (ConsentRecord, "evidence")):
        storage = field_file_owner._meta.get_field(field).storage
        assert isinstance(storage, PrivateS3Storage), storage
        assert storage.bucket_name == environment["MEMORIAL_S3_BUCKET"]


@pytest.fixture
def bucket(s3_endpoint, settings) -> Bucket:
    """A fresh bucket per test, created with boto3, and the app configured to use it."""
    name = f"memorial-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=name)
    use_s3(settings, s3_environment(s3_endpoint, name))
    return Bucket(s3_endpoint, name, client)


def upload(family, seed: int = 1, **kwargs) -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(f"rose-{seed}.jpg", images.jpeg(seed=seed)),
        user=family.contributor,
        attested=True,
        **kwargs,
    )


def photo_keys(photo: Photo) -> set[str]:
    return {photo.image.name, photo.display.name, photo.thumbnail.name}


def test_settings_build_the_default_storage_from_the_environment(settings):
    """settings.py and these tests share one code path, and it yields the promised options."""
    assert settings.STORAGES["default"] == config.default_storage(settings.MEDIA_ROOT)
    assert config.default_storage(settings.MEDIA_ROOT, {})["BACKEND"] == config.LOCAL_STORAGE

    built = config.default_storage(
        settings.MEDIA_ROOT, s3_environment("http://127.0.0.1:9000", "family-photos")
    )
    assert built["BACKEND"] == "memorial.core.storage.PrivateS3Storage"
    options = built["OPTIONS"]
    assert options["bucket_name"] == "family-photos"
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert (options["access_key"], options["secret_key"]) == (ACCESS_KEY, SECRET_KEY)
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["file_overwrite"] is False

    for bad in ("soon", "0", "-5", str(8 * 24 * 3600)):
        with pytest.raises(ValueError, match="MEMORIAL_S3_URL_SECONDS"):
            config.default_storage(
                settings.MEDIA_ROOT,
                s3_environment("http://x", "b-1", MEMORIAL_S3_URL_SECONDS=bad),
            )


@pytest.mark.django_db
def test_ingest_writes_three_private_objects_under_the_photo_prefix(bucket, family):
    photo = upload(family)

    prefix = f"memorials/{family.memorial.pk}/photos/{photo.pk}/"
    assert bucket.keys() == bucket.keys(prefix) == photo_keys(photo)
    assert len(photo_keys(photo)) == 3
    assert Image.open(io.BytesIO(bucket.body(photo.image.name))).size == (640, 480)
    for key in photo_keys(photo):
        response = bucket.anonymous_get(key)
        assert response.status_code == 403, key
        assert b"\xff\xd8" not in response.content[:2]
        grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
        assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "contributor", "owner", "staff"])
@pytest.mark.parametrize("variant,field", [("original", "image"), ("thumb", "thumbnail")])
def test_allowed_user_is_redirected_to_a_short_lived_signed_url(
    bucket, family, client_as, role, variant, field
):
    photo = upload(family)

    response = client_as(family.user(role)).get(photo.media_url(variant))

    assert response.status_code == 302
    location = response["Location"]
    url = urlsplit(location)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == bucket.endpoint
    assert url.path == f"/{bucket.name}/{getattr(photo, field).name}"
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0]
    assert response["Cache-Control"].startswith("private")

    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.content == bucket.body(getattr(photo, field).name)
    assert fetched.headers["content-type"] == "image/jpeg"
    Image.open(io.BytesIO(fetched.content)).verify()


@pytest.mark.django_db
def test_download_link_asks_the_store_for_an_attachment(bucket, family, client_as):
    photo = upload(family, seed=3)

    response = client_as(family.viewer).get(photo.media_url("original") + "?download=1")

    assert response.status_code == 302
    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200
    disposition = fetched.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert 'filename="rose-3.jpg"' in disposition


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_people_outside_the_memorial_never_get_a_url(bucket, family, client_as, role):
    photo = upload(family, seed=4)

    for variant in ("original", "display", "thumb"):
        response = client_as(family.user(role)).get(photo.media_url(variant))
        assert response.status_code in (403, 404)
        assert not response.has_header("Location")
        assert b"X-Amz" not in response.content
        assert bucket.name.encode() not in response.content


@pytest.mark.django_db
def test_hidden_photo_gets_no_url_even_for_members(bucket, family, client_as):
    photo = upload(family, seed=5)
    Photo.objects.filter(pk=photo.pk).update(hidden=True)

    response = client_as(family.owner).get(photo.media_url("display"))

    assert response.status_code == 404
    assert not response.has_header("Location")


@pytest.mark.django_db
def test_signed_urls_name_the_public_endpoint_when_one_is_set(
    s3_endpoint, bucket, family, client_as, settings
):
    """In docker-compose the app talks to http://minio:9000; browsers need the public address."""
    port = urlsplit(s3_endpoint).port
    public = f"http://localhost:{port}"
    use_s3(
        settings,
        s3_environment(s3_endpoint, bucket.name, MEMORIAL_S3_PUBLIC_ENDPOINT_URL=public),
    )
    photo = upload(family, seed=6)
    assert bucket.keys() == photo_keys(photo)  # uploads still went to the internal endpoint

    response = client_as(family.viewer).get(photo.media_url("display"))

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{public}/{bucket.name}/")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["300"]
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.content == bucket.body(photo.display.name)


@pytest.mark.django_db
def test_deleting_a_photo_removes_its_objects_once_committed(
    bucket, family, django_capture_on_commit_callbacks
):
    photo = upload(family, seed=7)
    keep = upload(family, seed=8)
    keys = photo_keys(photo)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo.delete()
    # Not before the commit: a rolled-back delete must not lose the files.
    assert keys <= bucket.keys()

    for callback in callbacks:
        callback()
    assert not keys & bucket.keys()
    assert bucket.keys() == photo_keys(keep)


@pytest.mark.django_db
def test_a_failed_upload_leaves_no_objects(bucket, family):
    """The row is refused after the three objects were written: they must all go again."""
    with pytest.raises(ValidationError):
        upload(family, seed=9, taken_on="1962-13-45")

    assert Photo.objects.count() == 0
    assert bucket.keys() == set()


@pytest.fixture
def evidence(bucket, family) -> ConsentRecord:
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attested_by=family.owner,
        attester_name="Olive Owner",
        relationship="daughter",
        basis=Basis.NEXT_OF_KIN,
        scopes=[Scope.TRAINING],
    )
    record.evidence.save("letter.pdf", ContentFile(b"%PDF-1.4 evidence"), save=True)
    return record


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "owner", "staff"])
def test_consent_evidence_is_served_by_signed_url_only(bucket, evidence, family, client_as, role):
    """Evidence files (a will, a letter) take the same private path as photos."""
    key = evidence.evidence.name
    assert key == f"memorials/{family.memorial.pk}/consent/{evidence.pk}/evidence"
    assert bucket.keys() == {key}
    assert bucket.anonymous_get(key).status_code == 403

    response = client_as(family.user(role)).get(
        reverse("consent:evidence", kwargs={"record_id": evidence.pk})
    )

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == f"/{bucket.name}/{key}"
    assert parse_qs(location.query)["X-Amz-Expires"] == ["300"]
    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200
    assert fetched.content == b"%PDF-1.4 evidence"
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["content-disposition"].startswith("attachment")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_consent_evidence_gives_outsiders_no_url(bucket, evidence, family, client_as, role):
    response = client_as(family.user(role)).get(
        reverse("consent:evidence", kwargs={"record_id": evidence.pk})
    )
    assert response.status_code in (302, 404)
    assert bucket.name not in response.get("Location", "")
    assert b"X-Amz" not in response.content


@pytest.mark.django_db
def test_evidence_missing_from_the_bucket_is_not_found(bucket, evidence, family, client_as):
    bucket.client.delete_object(Bucket=bucket.name, Key=evidence.evidence.name)
    response = client_as(family.owner).get(
        reverse("consent:evidence", kwargs={"record_id": evidence.pk})
    )
    assert response.status_code == 404


def test_storage_is_reset_after_s3_tests(settings):
    """The fixtures restore the local folder, so other test files never write to a bucket."""
    assert default_storage.__class__.__name__ == "FileSystemStorage"
    assert django_settings.STORAGES["default"]["BACKEND"] == config.LOCAL_STORAGE
