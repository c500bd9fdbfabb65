"""Private media on local disk: files reach people only through the permission-checked view."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import content_disposition_header

from memorial import config
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo
from tests import images

VARIANTS = {"original": "image", "display": "display", "thumb": "thumbnail"}


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """A local media folder of this test's own, built the way settings build it."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {**settings.STORAGES, "default": config.default_storage(root, {})}
    settings.MEDIA_X_ACCEL_PREFIX = ""
    return root


@pytest.fixture
def photo(media_root, family) -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("rose-1962.jpg", images.jpeg(seed=11)),
        user=family.contributor,
        attested=True,
        caption="On the porch",
    )


def stored_files(photo: Photo, media_root: Path) -> list[Path]:
    return [media_root / getattr(photo, field).name for field in VARIANTS.values()]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "contributor", "owner", "staff"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_people_who_may_see_the_memorial_get_the_file_privately(
    photo, media_root, family, client_as, role, variant
):
    response = client_as(family.user(role)).get(photo.media_url(variant))

    assert response.status_code == 200
    on_disk = media_root / getattr(photo, VARIANTS[variant]).name
    assert body(response) == on_disk.read_bytes()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].split(",")[0].strip() == "private"
    assert "public" not in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response.get("Content-Disposition", "").startswith("attachment")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_people_outside_the_memorial_get_nothing(photo, family, client_as, role):
    for variant in VARIANTS:
        response = client_as(family.user(role)).get(photo.media_url(variant))
        if response.status_code == 302:  # anonymous may be sent to log in instead
            assert role == "anonymous"
            assert response["Location"].startswith("/accounts/login")
        else:
            assert response.status_code == 404
        assert b"\xff\xd8" not in body(response)  # no JPEG bytes
        assert not response.has_header("X-Accel-Redirect")


@pytest.mark.django_db
def test_download_is_an_attachment_named_after_the_upload(photo, family, client_as):
    client = client_as(family.viewer)

    original = client.get(photo.media_url("original") + "?download=1")
    display = client.get(photo.media_url("display") + "?download=1")

    assert original.status_code == display.status_code == 200
    assert original["Content-Disposition"] == 'attachment; filename="rose-1962.jpg"'
    assert display["Content-Disposition"] == 'attachment; filename="rose-1962-display.jpg"'


@pytest.mark.django_db
def test_download_name_of_a_hostile_file_name_is_sane(media_root, family, client_as):
    hostile = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(
            '..\\../évil"\r\nSet-Cookie: x=1;' + "a" * 300 + ".jpg", images.jpeg(seed=12)
        ),
        user=family.owner,
        attested=True,
    )

    response = client_as(family.viewer).get(hostile.media_url("original") + "?download=1")

    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header.startswith("attachment; filename*=utf-8''")  # non-ASCII, percent-encoded
    assert "/" not in header and "\\" not in header and "\r" not in header and "\n" not in header
    assert len(header) < 800
    assert not response.has_header("Set-Cookie")
    assert header == content_disposition_header(True, hostile.original_filename)


@pytest.mark.django_db
def test_behind_nginx_the_view_hands_over_with_x_accel_redirect(photo, family, client_as, settings):
    settings.MEDIA_X_ACCEL_PREFIX = "/protected"

    response = client_as(family.viewer).get(photo.media_url("display"))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{photo.display.name}"
    assert body(response) == b""
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_no_x_accel_redirect_for_people_who_may_not_see_it(
    photo, family, client_as, settings, role
):
    settings.MEDIA_X_ACCEL_PREFIX = "/protected"

    response = client_as(family.user(role)).get(photo.media_url("display"))

    assert response.status_code in (302, 404)
    assert not response.has_header("X-Accel-Redirect")


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_url_pattern_serves_files_without_the_permission_check():
    static_servers = {"django.views.static", "django.contrib.staticfiles.views"}
    for route, callback in _patterns(get_resolver()):
        assert getattr(callback, "__module__", "") not in static_servers, route


@pytest.mark.django_db
def test_stored_files_are_not_reachable_by_their_path(
    photo, media_root, family, client_as, settings
):
    assert settings.MEDIA_URL is None
    owner = client_as(family.owner)
    name = photo.image.name
    assert (media_root / name).is_file()
    for path in (
        f"/media/{name}",
        f"/{name}",
        f"/data/media/{name}",
        f"/static/../media/{name}",
        f"/media/photos/{photo.pk}/../../{name}",
    ):
        response = owner.get(path)
        assert response.status_code == 404, path
        assert b"\xff\xd8" not in body(response), path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variant", ["exif", "ORIGINAL", "image", "thumbnail", "..", "original.jpg"]
)
def test_unknown_variant_is_not_found(photo, family, client_as, variant):
    response = client_as(family.owner).get(f"/media/photos/{photo.pk}/{variant}/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_unknown_photo_is_not_found(media_root, family, client_as):
    missing = Photo(pk="00000000-0000-4000-8000-000000000000")
    assert client_as(family.owner).get(missing.media_url("display")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "viewer", "staff"])
def test_hidden_photo_is_not_found(photo, family, client_as, role):
    Photo.objects.filter(pk=photo.pk).update(hidden=True)
    for variant in VARIANTS:
        response = client_as(family.user(role)).get(photo.media_url(variant))
        assert response.status_code == 404


@pytest.mark.django_db
def test_missing_file_on_disk_is_not_found_not_an_error(photo, media_root, family, client_as):
    (media_root / photo.display.name).unlink()
    response = client_as(family.viewer).get(photo.media_url("display"))
    assert response.status_code == 404


@pytest.mark.django_db
def test_deleting_a_photo_removes_its_three_files_on_commit(
    photo, media_root, django_capture_on_commit_callbacks
):
    files = stored_files(photo, media_root)
    assert all(path.is_file() for path in files)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo.delete()
    assert all(path.is_file() for path in files)  # not before the commit

    for callback in callbacks:
        callback()
    assert not any(path.exists() for path in files)


@pytest.mark.django_db
def test_a_delete_that_rolls_back_keeps_the_files(
    photo, media_root, django_capture_on_commit_callbacks
):
    files = stored_files(photo, media_root)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        Photo.objects.get(pk=photo.pk).delete()
        raise RuntimeError("the request failed after the delete")

    assert Photo.objects.filter(pk=photo.pk).exists()
    assert all(path.is_file() for path in files)
